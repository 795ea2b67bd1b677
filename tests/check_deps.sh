#!/bin/sh
# check_deps.sh — fails when an #include in sim/ runs against the pipeline's direction.
#
# The layers are read from sim/README.md's module map (the rows between the check-deps marker
# and the end of that table: "| N | module module ... | what |"), so the rule is written once.
# A file's module is its name without .c/.h (sim/cli/* is the module "cli"); it may include
# headers of its own layer or a lower-numbered one. An include of a higher layer, or a module
# missing from the map, is an error naming file and line; so is an include of a private part
# (X_private.h) from a module whose name does not start with X, and of <sqlite3.h> outside the
# store layer (store*.c): the database is reached through store.h and store_query.h only. schema_sql.h (generated) is exempt.
set -eu
root=${1:-.}
map="$root/sim/README.md"
[ -f "$map" ] || { echo "check-deps: $map not found" >&2; exit 1; }
layers=$(awk '/check-deps:/ {on = 1; next}
              on && /^\| *[0-9]+ *\|/ {split($0, f, "|"); n = f[2] + 0; m = split(f[3], w, " ");
                                       for (i = 1; i <= m; i++) print w[i], n; next}
              on && /^$/ && seen {exit}
              on && /^\|/ {seen = 1}' "$map")
[ -n "$layers" ] || { echo "check-deps: no layer rows in $map" >&2; exit 1; }
status=0
for f in "$root"/sim/*.c "$root"/sim/*.h "$root"/sim/cli/*.c "$root"/sim/cli/*.h; do
  [ -f "$f" ] || continue
  case "$f" in
    */sim/cli/*) mod=cli ;;
    *) mod=$(basename "$f"); mod=${mod%.*} ;;
  esac
  if ! printf '%s\n' "$layers" | grep -q "^$mod "; then
    echo "${f#$root/}: module $mod is not in sim/README.md's module map" >&2
    status=1
    continue
  fi
  out=$(printf '%s\n' "$layers" | awk -v file="${f#$root/}" -v mod="$mod" '
    FILENAME == "-" { layer[$1] = $2; next }
    /^[ \t]*#[ \t]*include[ \t]*<sqlite3\.h>/ && mod !~ /^store/ {
      printf "%s:%d: includes sqlite3.h outside the store layer: readers use store_query.h, writers store.h\n", file, FNR; next }
    /^[ \t]*#[ \t]*include[ \t]*"/ {
      h = $0; sub(/^[^"]*"/, "", h); sub(/".*$/, "", h); sub(/\.h$/, "", h); sub(/^.*\//, "", h)
      if (h == "schema_sql" || h == mod) next
      if (h ~ /_private$/ && index(mod, substr(h, 1, length(h) - 8)) != 1) {
        printf "%s:%d: includes %s.h, the private part of the %s modules, from %s\n", file, FNR, h, substr(h, 1, length(h) - 8), mod; next }
      to = h == "cmd" ? "cli" : h
      if (!(to in layer)) { printf "%s:%d: includes %s.h, a module not in the map\n", file, FNR, h; next }
      if (layer[to] > layer[mod])
        printf "%s:%d: includes %s.h (layer %d) from %s (layer %d): against the data flow (sim/README.md)\n", file, FNR, h, layer[to], mod, layer[mod]
    }' - "$f")
  if [ -n "$out" ]; then echo "$out" >&2; status=1; fi
done
[ $status = 0 ] && echo "check-deps: every include in sim/ follows sim/README.md's layers"
exit $status
