# timeline.gp — one run's forward-pass operand bit-widths over training: a heatmap per operand
# (activations, weights), x = epoch, y = MAC layer (conv/linear/matmul, in model order), colour
# = iteration-weighted average bits in that epoch.
# Data: "epoch layer bits_activations bits_weights" on a full grid (NaN = no data).
# Variables: datafile, plot_title, cbmin, cbmax, plus style.gp's.
width = 6.5
height = 5.2
load scriptdir.'/style.gp'
eval sprintf("set palette defined (%s)", viridis)
# log2 colour scale: 3 to 8 bits gets as much colour as 8 to 32 (widths work in factors)
set logscale cb 2
set cbrange [cbmin:cbmax]
set cblabel 'Bit-width (bits, log scale)'
set cbtics out nomirror (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
unset grid
set xlabel 'Epoch'
set ylabel 'MAC layer (model order)'
set tics out
set autoscale xfix
set autoscale yfix
set multiplot layout 2, 1 title plot_title
set title 'Activations (forward pass)'
plot datafile using 1:2:3 with image notitle
set title 'Weights (forward pass)'
plot datafile using 1:2:4 with image notitle
unset multiplot
