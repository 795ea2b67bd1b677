# style.gp — the look shared by every bitsim plot; each script loads it first.
#
# Set by bitsim (gnuplot -e): outfile, term ('pdf' or 'png'), size ('column', 'double' or
# 'slide'). A script sets `aspect` (height / width) before loading, and may set `min_height`.
# Size presets, so a figure goes into a paper at 100 % with no scaling (IEEE/ACM templates:
# a column is 3.3-3.5 in, a page 7 in wide; text in figures must be >= 8 pt at print size):
#   column  3.3 in wide, text 8 pt (tick labels, keys and bar values too)
#   double  7.0 in wide, text 9 pt, small text 8 pt
#   slide   10 in wide (16:9 slide at full width), text 16 pt, small text 13 pt
# PDF via pdfcairo at that size (vector, for papers); PNG via pngcairo at 150 px per inch.
# Text is not "enhanced", so run labels like fp32_gpu print literally; UTF-8, so × and ²
# print as such.
# Colours: Okabe & Ito's palette (Color Universal Design, 2008), safe for the common forms of
# colour blindness; ordered so the first few are the most distinct on white.
if (!exists("size")) size = 'double'
if (!exists("aspect")) aspect = 0.55
if (!exists("min_height")) min_height = 2.2
if (size eq 'column') { width = 3.3; font_pt = 8; small_pt = 8 }
if (size eq 'double') { width = 7.0; font_pt = 9; small_pt = 8 }
if (size eq 'slide') { width = 10.0; font_pt = 16; small_pt = 13 }
height = width * aspect > min_height ? width * aspect : min_height
# A key of n entries under the panels (the script sets key_below = 1; bitsim sets n and key_len,
# the characters of the longest title): as many columns as entries of that width fit (at most
# 7), as many rows as that takes (key_rows, key_row_in); the figure grows by the rows beyond
# two, so long titles (several models or archs) neither squeeze the panels nor overprint them.
key_rows = 0
key_cols = 7
key_row_in = 1.1 * 1.25 * font_pt / 72.0
if (exists("key_below") && exists("n") && n > 0) {
    if (!exists("key_len")) { key_len = 12 }
    # gnuplot sizes key entries wider than the 0.6 em average a label is drawn at: the
    # estimate here is its own (checked on PNGs at every size), so it never puts fewer
    # columns, hence more rows, than room was made for
    key_cols = floor(0.95 * width / ((key_len + 6) * 0.9 * font_pt / 72.0))
    key_cols = key_cols < 1 ? 1 : (key_cols > 7 ? 7 : (key_cols > n ? n : key_cols))
    key_rows = ceil(n * 1.0 / key_cols)
}
if (size eq 'slide' && height > 5.625) { height = 5.625 }
# (after the 16:9 cap: a slide with a long key grows rather than lose its panels)
height = height + (key_rows > 2 ? key_rows - 2 : 0) * key_row_in
set encoding utf8
# pngcairo draws a point size at 72 px per inch of its own; scaled so PNG text has the same
# size relative to the figure as in the PDF (150 / 72 ~ 2.08; 1.55 reads like the PDF).
if (term eq 'png') {
    set terminal pngcairo noenhanced color font sprintf('DejaVu Sans,%g', font_pt * 1.55) \
        size width*150, height*150 linewidth 1.6
    small_font = sprintf(',%g', small_pt * 1.55)
} else {
    set terminal pdfcairo noenhanced color font sprintf('DejaVu Sans,%g', font_pt) \
        size width, height linewidth 1.0
    small_font = sprintf(',%g', small_pt)
}
# the width of one character of the text font, in inches (DejaVu Sans averages ~0.6 em):
# scripts decide rotation and margins from label lengths with it, not from label counts
char_in = 0.6 * font_pt / 72.0
# Rotated tick labels (30 degrees) grow to the left of their tick; a long first label needs
# margin there. (first_len = characters of the first x label, set by bitsim.)
if (!exists("first_len")) first_len = 0
rotated_lmargin = first_len * 0.7 > 10 ? first_len * 0.7 : 10
set output outfile
okabe_ito = "#0072B2 #E69F00 #009E73 #D55E00 #56B4E9 #CC79A7 #000000 #F0E442"
do for [i=1:8] {
    set linetype i linecolor rgb word(okabe_ito, i) linewidth 2 pointtype i dashtype solid
}
set linetype cycle 8
set border 3 linewidth 1
set tics nomirror out scale 0.6
set grid ytics linetype 0 linewidth 1 linecolor rgb '#b0b0b0'
set key noautotitle samplen 2.5 spacing 1.1
# A sequential colour map for bit-widths, perceptually uniform and colour-blind safe (viridis).
viridis = "0 '#440154', 1 '#482878', 2 '#3E4A89', 3 '#31688E', 4 '#26828E', 5 '#1F9E89', 6 '#35B779', 7 '#6DCD59', 8 '#B4DE2C', 9 '#FDE725'"
# Log-axis tick labels at 1, 2 and 5 per decade (gnuplot labels only the decades by default,
# which leaves "1" and "10" alone on a short axis): `eval log_tics_x` / `eval log_tics_y`.
log_tics_x = "set xtics 10; set mxtics 10; do for [k=-15:15] { set xtics add (2*10.0**k, 5*10.0**k) }"
log_tics_y = "set ytics 10; set mytics 10; do for [k=-15:15] { set ytics add (2*10.0**k, 5*10.0**k) }"
