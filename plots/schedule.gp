# schedule.gp — each run's precision schedule over training, as lines (the CPT and FracTrain
# papers draw global schedules this way): three panels, forward activations, forward weights,
# backward gradients; y = MAdds-weighted mean bit-width over the MAC layers in that epoch.
# Data: one block per run (blocks separated by two blank lines): a header line with the run's
# title, then "epoch bits_A bits_W bits_G" (NaN = no such pass). Variables: datafile, n (runs),
# plus style.gp's.
aspect = size eq 'column' ? 1.5 : 0.5
min_height = 3.2
key_below = 1
load scriptdir.'/style.gp'
set xrange [0:*]
set logscale y 2
set ytics (2, 3, 4, 6, 8, 12, 16, 24, 32)
set yrange [1.8:36]
set format y '%g'
set grid xtics ytics linetype 0 linewidth 1 linecolor rgb '#b0b0b0'
# one key for all panels, under them
set key at screen 0.5, screen 0.01 center bottom horizontal Left reverse autotitle columnheader maxcols key_cols width -2
bottom = size eq 'column' ? 0.16 : 0.24
# room for the tick labels, the axis label and the key's rows (style.gp)
key_bottom = (0.55 + key_rows * key_row_in) / height
bottom = key_bottom > bottom ? key_bottom : bottom
if (size eq 'column') { set multiplot layout 3, 1 margins 0.16, 0.97, bottom, 0.95 spacing 0.1, 0.07 } \
else { set multiplot layout 1, 3 margins 0.08, 0.98, bottom, 0.92 spacing 0.05, 0.1 }
set ylabel 'Bits (log scale)'
set title 'Activations (forward)'
if (size ne 'column') { set xlabel 'Epoch' }
plot for [i=0:n-1] datafile index i using 1:2 with steps linetype ((i % 8) + 1) dashtype i % 5 + 1
unset key
if (size ne 'column') { unset ylabel }
set title 'Weights (forward)'
plot for [i=0:n-1] datafile index i using 1:3 with steps linetype ((i % 8) + 1) dashtype i % 5 + 1
set title 'Gradients (backward)'
set xlabel 'Epoch'
plot for [i=0:n-1] datafile index i using 1:4 with steps linetype ((i % 8) + 1) dashtype i % 5 + 1
unset multiplot
