#!/bin/sh
# make bench: speed figures. Each section is added by the issue that brings the feature.
set -e
echo "bitsim bench"

# --- traces (issue 5): reading a 160-epoch trace that changes EVERY iteration ---------------
# 391 x 160 = 62,560 records, each changing the activation density of all 20 MAC layers of
# ResNet-20 (@mac), i.e. 1.25 M segments; the target is "well under a second" to read.
tmp=$(mktemp -d)
awk 'BEGIN {
  print "bitsim-trace 1\nmodel resnet20\nbatch 128\niters_per_epoch 391\nepochs 160\nscheme bench";
  for (i = 0; i < 62560; i++) printf "from %d @mac W=int%d dA=%g\n", i, 3 + i % 6, (501 + i % 400) / 1000;
  print "end" }' > "$tmp/per_iter.trace"
start=$(date +%s.%N)
./bitsim trace check "$tmp/per_iter.trace" > "$tmp/check.txt"
end=$(date +%s.%N)
segs=$(awk '$1 == "segments" {print $2}' "$tmp/check.txt")
echo "trace: read+check of a per-iteration 160-epoch ResNet-20 trace ($segs segments):" \
     "$(awk "BEGIN { printf \"%.3f\", $end - $start }") s"
start=$(date +%s.%N)
./bitsim trace cat "$tmp/per_iter.trace" > "$tmp/cat.trace"
end=$(date +%s.%N)
echo "trace: read+canonical write of the same: $(awk "BEGIN { printf \"%.3f\", $end - $start }") s"
if cmp -s "$tmp/per_iter.trace" "$tmp/cat.trace"; then echo "trace: the rewrite is byte-identical"; fi
rm -rf "$tmp"

# --- cost model (issue 6): per-layer time against the public BitFusion simulator's Python
# (python_seconds of ../shared/reference/bitfusion_layers.csv) at the same answers, and
# evaluations per second with and without the tiling search.
echo
echo "== cost: bitsim vs the public BitFusion simulator, per layer"
nice ./build/bench_cost
