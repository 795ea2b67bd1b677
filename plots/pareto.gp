# pareto.gp — a sweep's design points and their Pareto front: energy against latency, colour
# = area. Data from front_write_plot_data (sim/front.h): `all` holds every point as
# "latency_s energy_j area_mm2 on_front", one block per trace (separated by two blank lines);
# `front` holds the front's points sorted by latency.
#
#   gnuplot -e "all='pts.dat'; front='front.dat'; out='pareto.pdf'; fmt='pdf'" plots/pareto.gp
#
# Front points are drawn large and joined as a staircase (the front is a staircase in the
# latency-energy projection only where area does not trade off; points that are on the 3-D
# front but look dominated in 2-D are there for their smaller area — their colour shows it).
if (!exists("all") || !exists("front") || !exists("out")) {
    print "pareto.gp: set all, front and out with -e"
    exit status 2
}
if (!exists("fmt")) fmt = 'pdf'
if (fmt eq 'png') {
    set terminal pngcairo size 1200,900 enhanced font 'Helvetica,18'
    ps_all = 1.0; ps_front = 2.0
} else {
    set terminal pdfcairo size 5in,3.75in enhanced font 'Helvetica,11'
    ps_all = 0.35; ps_front = 0.7
}
set output out

set logscale xy
set xlabel 'training latency (s)'
set ylabel 'training energy (J)'
set format x '10^{%L}'
set format y '10^{%L}'
set grid xtics ytics lw 0.5 lc rgb '#d0d0d0'
set key top right box opaque
set border 3
set tics nomirror
# viridis-like sequential palette: readable for the colour-blind and in greyscale
set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')
set cblabel 'area (mm^2)'

stats all using 3 nooutput
blocks = STATS_blocks

plot for [i=0:blocks-1] all index i using 1:2:3 with points pt 7 ps ps_all lc palette \
         title (i == 0 ? 'design points' : ''), \
     for [i=0:blocks-1] front index i using 1:2 with steps lw 1 lc rgb '#808080' notitle, \
     for [i=0:blocks-1] front index i using 1:2:3 with points pt 7 ps ps_front lc palette \
         notitle, \
     for [i=0:blocks-1] front index i using 1:2 with points pt 6 ps ps_front lw 1.5 \
         lc rgb '#000000' title (i == 0 ? 'Pareto front (latency x energy x area)' : '')
