# pareto.gp — a sweep's design points and their Pareto front: training energy against
# training latency, colour = area. Drawn by `bitsim plot pareto`.
# Data (sim/front.h, front_write_plot_data): all_file holds every point as
# "latency_s energy_j area_mm2 on_front", one block per trace (blocks separated by two blank
# lines); front_file holds each trace's front points, sorted by latency. Variables: all_file,
# front_file, plus style.gp's (outfile, term, scriptdir).
#
# A point is on the front when no other point of its trace is at once faster, less energy and
# smaller. In this latency-energy view a front point may look dominated: it is on the front
# for its smaller area, which its colour shows.
aspect = size eq 'column' ? 0.95 : 0.6
min_height = 2.8
load scriptdir.'/style.gp'
# Readable units (the largest not above the largest value), and log axes only when the values
# span more than a decade and a half: within less, a log axis shows one labelled tick at best.
stats all_file using 1 nooutput
if (STATS_max > 30 * STATS_min) { set logscale x; eval log_tics_x }
tdiv = 1; tunit = 's'
if (STATS_max >= 120) { tdiv = 60; tunit = 'min' }
if (STATS_max >= 2 * 3600) { tdiv = 3600; tunit = 'h' }
if (STATS_max >= 2 * 86400) { tdiv = 86400; tunit = 'days' }
stats all_file using 2 nooutput
if (STATS_max > 30 * STATS_min) { set logscale y; eval log_tics_y }
ediv = 1; eunit = 'J'
if (STATS_max >= 2e3) { ediv = 1e3; eunit = 'kJ' }
if (STATS_max >= 2e6) { ediv = 1e6; eunit = 'MJ' }
if (STATS_max < 2) { ediv = 1e-3; eunit = 'mJ' }
set xlabel sprintf('Training latency (%s)', tunit)
set ylabel sprintf('Training energy (%s)', eunit)
set format x '%g'
set format y '%g'
set grid xtics ytics
eval 'set palette defined ('.viridis.')'
set cblabel 'Area (mm²)'
set autoscale fix
set offsets graph 0.05, graph 0.05, graph 0.08, graph 0.08
set key outside bottom center horizontal maxrows 1
# the front has three objectives; seen in two, a front point can look dominated: it is smaller
set title 'Front over 3 objectives: a point that looks dominated here has a smaller area (colour).' \
    font small_font

stats all_file using 3 nooutput
blocks = STATS_blocks
# One area only (every point on one arch): give the colour bar a range around it, since
# gnuplot cannot scale a palette over an empty interval.
if (STATS_max <= STATS_min) { set cbrange [STATS_min * 0.9 : STATS_min * 1.1 + 1e-9] }
if (term eq 'png') { ps_all = 0.9; ps_front = 1.7 } else { ps_all = 0.35; ps_front = 0.75 }

plot for [i=0:blocks-1] all_file index i using ($1/tdiv):($2/ediv):3 with points pt 7 ps ps_all lc palette \
         title (i == 0 ? 'design points' : ''), \
     for [i=0:blocks-1] front_file index i using ($1/tdiv):($2/ediv):3 with points pt 7 ps ps_front lc palette \
         notitle, \
     for [i=0:blocks-1] front_file index i using ($1/tdiv):($2/ediv) with points pt 6 ps ps_front lw 1.2 \
         lc rgb '#000000' title (i == 0 ? 'Pareto front (latency, energy, area)' : '')
