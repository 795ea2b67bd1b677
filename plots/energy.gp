# energy.gp — where each run's training energy goes: stacked bars by component, absolute or
# normalised to 100 % per bar (percent = 1).
# Data: a header line of column titles ("run", then only the components that are non-zero in
# some run), then "run title" and one value per component, already scaled (to the unit in
# ylabel, or to % of the bar). Variables: datafile, ylabel, n (runs), n_cols (components),
# tic_len (characters of the longest run title), percent, group ("resnet20 on bitfusion" when
# every bar is of one network and arch, else ''), plus style.gp's.
aspect = 0.5
min_height = 2.6
load scriptdir.'/style.gp'
set style data histograms
set style histogram rowstacked
# white separators keep thin components visible (a dark border would swallow them)
set style fill solid 0.9 border linecolor rgb 'white'
set boxwidth 0.6 relative
set ylabel ylabel
if (percent) { set yrange [0:100]; set ytics 20 } else { set yrange [0:*] }
set xtics scale 0
plot_in = width - 1.0
if (tic_len * char_in > 0.95 * plot_in / n) { set xtics rotate by 30 right; set lmargin rotated_lmargin }
if (group ne '') { set xlabel group }
set rmargin 3
set key outside top center horizontal autotitle columnheader reverse Left
plot for [i=2:n_cols+1] datafile using i:xtic(1) linetype i - 1
