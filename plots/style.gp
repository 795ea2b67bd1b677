# style.gp — the look shared by every bitsim plot; each script loads it first.
#
# Set by bitsim (gnuplot -e): outfile, term ('pdf' or 'png'). A script may set width and
# height (inches) before loading. PDF via pdfcairo at the given size (vector, for papers);
# PNG via pngcairo at 150 px per inch (for slides and quick looks). Text is not "enhanced",
# so run labels like fp32_gpu print literally.
# Colours: Okabe & Ito's palette (Color Universal Design, 2008), safe for the common forms of
# colour blindness; ordered so the first few are the most distinct on white.
if (!exists("width")) width = 6.0
if (!exists("height")) height = 3.6
if (term eq 'png') {
    set terminal pngcairo noenhanced color font 'DejaVu Sans,14' size width*150, height*150 linewidth 1.6
    small_font = ',11'
} else {
    set terminal pdfcairo noenhanced color font 'DejaVu Sans,9' size width, height linewidth 1.0
    small_font = ',7'
}
# Rotated tick labels grow to the left of their tick; a long first label needs margin there.
# (first_len = characters of the first x label, set by bitsim where labels can be long.)
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
