# schedule.gp — each run's precision schedule over training, as lines (the CPT and FracTrain
# papers draw global schedules this way): three panels, forward activations, forward weights,
# backward gradients; y = MAdds-weighted mean bit-width over the MAC layers in that epoch.
# Data: one block per run (blocks separated by two blank lines): a header line with the run's
# title, then "epoch bits_A bits_W bits_G" (NaN = no such pass). Variables: datafile, n (runs),
# plus style.gp's.
aspect = size eq 'column' ? 1.3 : 0.62
min_height = 3.2
load scriptdir.'/style.gp'
set xrange [0:*]
set logscale y 2
set ytics (2, 3, 4, 6, 8, 12, 16, 24, 32)
set yrange [1.8:36]
set format y '%g'
set grid xtics ytics linetype 0 linewidth 1 linecolor rgb '#b0b0b0'
set key outside right top vertical Left reverse autotitle columnheader
layout = size eq 'column' ? 3 : 1
if (size eq 'column') { set multiplot layout 3, 1 } else { set multiplot layout 1, 3 }
set xlabel 'Epoch'
set ylabel 'Bits (log scale)'
set title 'Activations (forward)'
if (size ne 'column') { unset key }
plot for [i=0:n-1] datafile index i using 1:2 with steps linetype ((i % 8) + 1) dashtype i % 5 + 1
unset ylabel
set title 'Weights (forward)'
unset key
plot for [i=0:n-1] datafile index i using 1:3 with steps linetype ((i % 8) + 1) dashtype i % 5 + 1
set title 'Gradients (backward)'
set key outside right top vertical Left reverse autotitle columnheader
plot for [i=0:n-1] datafile index i using 1:4 with steps linetype ((i % 8) + 1) dashtype i % 5 + 1
unset multiplot
