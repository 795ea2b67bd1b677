# speedup.gp — speedup and energy saving of each run against a baseline, as grouped bars.
# Data (one line per run): "run title" speedup energy_saving, both baseline / run (x).
# Variables: datafile, baseline, n (number of runs), plus style.gp's.
width = n > 6 ? 6.0 + 0.4 * (n - 6) : 6.0
load scriptdir.'/style.gp'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border linecolor rgb '#333333'
set ylabel sprintf('Improvement over %s (x)', baseline)
set xtics scale 0
if (n > 4) { set xtics rotate by 30 right; set lmargin rotated_lmargin }
set rmargin 3
stats datafile using 2 nooutput
top = STATS_max
stats datafile using 3 nooutput
top = STATS_max > top ? STATS_max : top
set yrange [0:top * 1.18]
set key outside top center horizontal
# the baseline itself is 1x
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 linecolor rgb '#555555' linewidth 1 front
bar = 1.0 / 3   # two bars and a gap of one bar per cluster
plot datafile using 2:xtic(1) title 'Speedup (latency)' linetype 1, \
     '' using 3 title 'Energy saving' linetype 2, \
     '' using ($0 - bar / 2):2:(sprintf('%.1f', $2)) with labels font small_font offset 0, 0.5 notitle, \
     '' using ($0 + bar / 2):3:(sprintf('%.1f', $3)) with labels font small_font offset 0, 0.5 notitle
