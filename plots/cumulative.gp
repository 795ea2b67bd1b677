# cumulative.gp — cumulative training time and energy over epochs, one line per run.
# Data: one block per run (blocks separated by two blank lines): a header line with the run's
# title, then "epoch time energy" (epoch 0 = start), scaled to time_unit and energy_unit.
# Variables: datafile, time_unit, energy_unit, n (number of runs), plus style.gp's.
width = 9.5
height = 3.8
load scriptdir.'/style.gp'
# two panels side by side and one key for both at the right, so it never covers a curve
set multiplot
set bmargin at screen 0.14
set tmargin at screen 0.96
set xlabel 'Epoch'
set xrange [0:*]
set yrange [0:*]
set key at screen 0.705, screen 0.96 left top vertical reverse Left autotitle columnheader
set lmargin at screen 0.07
set rmargin at screen 0.325
set ylabel sprintf('Cumulative training time (%s)', time_unit)
plot for [i=0:n-1] datafile index i using 1:2 with lines linetype ((i % 8) + 1) dashtype i % 5 + 1
unset key
set lmargin at screen 0.41
set rmargin at screen 0.665
set ylabel sprintf('Cumulative energy (%s)', energy_unit)
plot for [i=0:n-1] datafile index i using 1:3 with lines linetype ((i % 8) + 1) dashtype i % 5 + 1
unset multiplot
