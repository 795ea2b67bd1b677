# timeline.gp — one run's forward-pass operand bit-widths over training: a heatmap per operand
# (activations, weights), x = epoch, y = MAC layer (conv/linear/matmul, in model order, named),
# colour = iteration-weighted average bits in that epoch.
# Data: "epoch layer bits_A bits_W full_A full_W" on a full grid: bits_* below 32 bits (NaN
# otherwise or when missing), full_* the widths of 32 bits and more (NaN otherwise), drawn
# grey so fp32 layers do not stretch the colour scale over the 2-8 bit band.
# Variables: datafile, plot_title, cbmin, cbmax (the low-precision range), full_cells (> 0:
# there are fp32 cells, keyed), ytics_cmd (set ytics with layer names), plus style.gp's.
aspect = size eq 'column' ? 1.35 : 0.8
load scriptdir.'/style.gp'
eval sprintf("set palette defined (%s)", viridis)
# log2 colour scale: 3 to 8 bits gets as much colour as 8 to 32 (widths work in factors)
set logscale cb 2
set cbrange [cbmin:cbmax]
# gnuplot places the colour-box label as if the tics were inside; they are out here, so the
# label moves right by about a tick label's width or it runs over the tick labels
set cblabel (size eq 'column' ? 'Bits (log)' : 'Bit-width (bits, log scale)') offset 1.5, 0
set cbtics out nomirror (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32)
set format cb '%g'
unset grid
set xlabel 'Epoch'
set tics out
set autoscale xfix
set autoscale yfix
eval ytics_cmd
set ytics font small_font
if (full_cells > 0) { set key outside bottom right horizontal samplen 1 } else { unset key }
set multiplot layout 2, 1 title plot_title
set title 'Activations (forward pass)'
plot datafile using 1:2:3 with image notitle, \
     datafile using ($5 == $5 ? $1 : NaN):2:(0.5):(0.5) with boxxyerror fs solid 1.0 noborder \
         linecolor rgb '#a0a0a0' title 'fp32 (32 bits)'
set title 'Weights (forward pass)'
plot datafile using 1:2:4 with image notitle, \
     datafile using ($6 == $6 ? $1 : NaN):2:(0.5):(0.5) with boxxyerror fs solid 1.0 noborder \
         linecolor rgb '#a0a0a0' title 'fp32 (32 bits)'
unset multiplot
