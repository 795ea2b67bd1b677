# accuracy.gp — the accuracy each run reached against what its training cost: two panels,
# accuracy over training energy (left) and over training latency (right), one labelled point
# per run (runs whose trace header states `accuracy`).
# Data: "accuracy_pct energy latency \"label\"" per run, energy and latency in the units of
# xlabel_e / xlabel_t. Variables: datafile, xlabel_e, xlabel_t, logx_e, logx_t (1 = log axis:
# the values span more than 20×), plus style.gp's.
aspect = size eq 'column' ? 1.2 : 0.42
min_height = 2.6
load scriptdir.'/style.gp'
set ylabel 'Accuracy (%)'
set grid xtics ytics linetype 0 linewidth 1 linecolor rgb '#b0b0b0'
set offsets graph 0.08, graph 0.15, graph 0.12, graph 0.12
set format x '%g'
if (size eq 'column') { set multiplot layout 2, 1 } else { set multiplot layout 1, 2 }
set xlabel xlabel_e
if (logx_e) { set logscale x; eval log_tics_x }
plot datafile using 2:1 with points pointtype 7 pointsize 0.8 linecolor rgb '#0072B2' notitle, \
     '' using 2:1:4 with labels font small_font offset char 0.6, char 0.6 left notitle
unset logscale x
set xtics autofreq
unset mxtics
set xlabel xlabel_t
if (logx_t) { set logscale x; eval log_tics_x }
plot datafile using 3:1 with points pointtype 7 pointsize 0.8 linecolor rgb '#D55E00' notitle, \
     '' using 3:1:4 with labels font small_font offset char 0.6, char 0.6 left notitle
unset multiplot
