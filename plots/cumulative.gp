# cumulative.gp — cumulative training time and energy over epochs, one line per run.
# Data: one block per run (blocks separated by two blank lines): a header line with the run's
# title, then "epoch time energy" (epoch 0 = start), scaled to time_unit and energy_unit.
# Variables: datafile, time_unit, energy_unit, n (number of runs), plus style.gp's.
aspect = size eq 'column' ? 1.25 : 0.45
min_height = 2.8
key_below = 1
load scriptdir.'/style.gp'
set xlabel 'Epoch'
set xrange [0:*]
set yrange [0:*]
# two panels (side by side, stacked in a column) and one key for both under them
set key at screen 0.5, screen 0.01 center bottom horizontal Left reverse autotitle columnheader maxcols key_cols width -2
bottom = size eq 'column' ? 0.2 : 0.26
# room for the tick labels, the axis label and the key's rows (style.gp)
key_bottom = (0.55 + key_rows * key_row_in) / height
bottom = key_bottom > bottom ? key_bottom : bottom
if (size eq 'column') { set multiplot layout 2, 1 margins 0.17, 0.96, bottom, 0.97 spacing 0.1, 0.1 } \
else { set multiplot layout 1, 2 margins 0.08, 0.98, bottom, 0.96 spacing 0.09, 0.1 }
set ylabel sprintf('Cumulative training time (%s)', time_unit)
plot for [i=0:n-1] datafile index i using 1:2 with lines linetype ((i % 8) + 1) dashtype i % 5 + 1
unset key
set ylabel sprintf('Cumulative energy (%s)', energy_unit)
plot for [i=0:n-1] datafile index i using 1:3 with lines linetype ((i % 8) + 1) dashtype i % 5 + 1
unset multiplot
