# speedup.gp — speedup (top) and energy saving (bottom) of each run against a baseline, as
# bars grouped by (network, arch), with a geometric-mean group at the right when there are
# several groups (the BitFusion paper's Fig. 12-13 layout).
# Data: two files of the same shape, a header line "index group LABEL1 LABEL2 ...", then one
# line per (network, arch) group: "0 \"resnet20 on bitfusion\" v1 v2 ..." (baseline / run,
# NaN = no such run), the last "geomean" when there are several groups.
# Variables: speedup_file, saving_file, n_labels, n_groups, against (the baseline, titled
# over the panels), and per panel
# (_s speedup, _e energy saving) logy (1 = log axis: the values span more than 20× or fall
# below 0.1, as against a GPU), ymin, ymax; xtics_cmd (the group names at the groups'
# centres), tic_len (characters of the longest group name), bar_values (1 = print the values
# on the bars), plus style.gp's.
aspect = size eq 'column' ? 1.15 : 0.7
min_height = 3.0
load scriptdir.'/style.gp'
set style fill solid 0.9 border linecolor rgb '#333333'
bar = 1.0 / (n_labels + 1)
set boxwidth bar absolute
set xrange [-0.5:n_groups - 0.5]
set xtics scale 0
eval xtics_cmd
# rotate the group names only when they are longer than a group is wide
plot_in = width - 0.9
if (tic_len * char_in > 0.95 * plot_in / n_groups) { set xtics rotate by 25 right }
set format y '%g'
# bar values on an opaque box: a value just under 1x sits on the dashed baseline otherwise
set style textbox opaque noborder margins 0.5, 0.2
# the sample before its name (as energy.gp): with many runs the names sit evenly between
# the samples, and a name beside the wrong sample is easy to misread
set key outside top center horizontal reverse Left
set multiplot layout 2, 1 title against
# the baseline itself is 1×
# (drawn as a plot element between the bars and their values, so it shows over the bars and
# the values' opaque boxes cover it)
baseline = "1 with lines dashtype 2 linecolor rgb '#555555' linewidth 1 notitle"
barx(g, i) = g + (i - 3 - (n_labels - 1) / 2.0) * bar
# two decimals below 10 where a bar is wide enough for four characters of the small font
# (FP8/MX speedups of 1.03-1.06 all read "1.0" or "1.1" with one), else one
bar_in = plot_in / (n_groups * (n_labels + 1))
val_fmt = bar_in >= 4 * 0.6 * small_pt / 72.0 ? '%.2f' : '%.1f'
barval(v) = v >= 10 ? sprintf('%.0f', v) : v >= 0.095 ? sprintf(val_fmt, v) : sprintf('%.2g', v)
set ylabel 'Speedup (×)'
set yrange [ymin_s:ymax_s]
if (logy_s) { set logscale y; eval log_tics_y }
plot for [i=3:n_labels+2] speedup_file using (barx($1, i)):i with boxes title columnheader(i) linetype i - 2, \
     @baseline, \
     for [i=3:n_labels+2] speedup_file using (barx($1, i)):i:(bar_values ? barval(column(i)) : '') \
         with labels boxed font small_font offset 0, 0.45 notitle
unset key
set ylabel 'Energy saving (×)'
set yrange [ymin_e:ymax_e]
if (logy_e) { set logscale y; eval log_tics_y } else { unset logscale y; set ytics autofreq }
plot for [i=3:n_labels+2] saving_file using (barx($1, i)):i with boxes linetype i - 2, \
     @baseline, \
     for [i=3:n_labels+2] saving_file using (barx($1, i)):i:(bar_values ? barval(column(i)) : '') \
         with labels boxed font small_font offset 0, 0.45 notitle
unset multiplot
