# accuracy.gp — the accuracy each run reached against what its training cost: two panels,
# accuracy over training energy (left) and over training latency (right), one point per run
# labelled with its label, one point style per (network, arch) group (the key).
# Data: one block per group (blocks separated by two blank lines): a header line with the
# group's name, then "accuracy_pct energy latency \"label\"" per run, energy and latency in the
# units of xlabel_e / xlabel_t. Variables: datafile, n (groups), xlabel_e, xlabel_t, logx_e,
# logx_t (1 = log axis: the values span more than 20×), plus style.gp's.
aspect = size eq 'column' ? 1.25 : 0.45
min_height = 2.8
load scriptdir.'/style.gp'
set ylabel 'Accuracy (%)'
set grid xtics ytics linetype 0 linewidth 1 linecolor rgb '#b0b0b0'
set offsets graph 0.1, graph 0.25, graph 0.15, graph 0.15
set format x '%g'
set key at screen 0.5, screen 0.01 center bottom horizontal Left reverse autotitle columnheader maxcols 4 width -1
bottom = size eq 'column' ? 0.14 : 0.22
if (size eq 'column') { set multiplot layout 2, 1 margins 0.17, 0.96, bottom, 0.97 spacing 0.1, 0.12 } \
else { set multiplot layout 1, 2 margins 0.08, 0.98, bottom, 0.96 spacing 0.09, 0.1 }
set xlabel xlabel_e
if (logx_e) { set logscale x; eval log_tics_x }
plot for [i=0:n-1] datafile index i using 2:1 with points linetype i + 1 pointtype 7 + 2 * i pointsize 0.9, \
     for [i=0:n-1] datafile index i using 2:1:4 with labels font small_font offset char 0.7, char 0.5 left notitle
unset key
unset logscale x
set xtics autofreq
unset mxtics
set xlabel xlabel_t
if (logx_t) { set logscale x; eval log_tics_x }
plot for [i=0:n-1] datafile index i using 3:1 with points linetype i + 1 pointtype 7 + 2 * i pointsize 0.9 notitle, \
     for [i=0:n-1] datafile index i using 3:1:4 with labels font small_font offset char 0.7, char 0.5 left notitle
unset multiplot
