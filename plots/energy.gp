# energy.gp — where each run's training energy goes: stacked bars by component.
# Data: a header line of column titles, then "run title" core wbuf abuf obuf dram leak,
# already scaled to `unit`. Variables: datafile, unit, n (number of runs), plus style.gp's.
width = n > 6 ? 6.0 + 0.4 * (n - 6) : 6.0
load scriptdir.'/style.gp'
set style data histograms
set style histogram rowstacked
# white separators keep thin components visible (a dark border would swallow them)
set style fill solid 0.9 border linecolor rgb 'white'
set boxwidth 0.6 relative
set ylabel sprintf('Training energy (%s)', unit)
set yrange [0:*]
set xtics scale 0
if (n > 4) { set xtics rotate by 30 right; set lmargin rotated_lmargin }
set rmargin 3
set key outside top center horizontal maxrows 2 autotitle columnheader reverse Left
plot for [i=2:7] datafile using i:xtic(1) linetype i - 1
