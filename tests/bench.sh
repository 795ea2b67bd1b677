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

# --- replay (issue 7): whole runs replayed AND stored (bitsim run into a fresh database), wall
# time and peak memory of the process; trace generation is not counted. Targets from the issue:
# ResNet-74/CIFAR-100 CPT (160 epochs, per-iteration cyclic precision) < 1 s; ImageNet
# ResNet-50 AdaPT-style (90 epochs x 5005 iterations, batch 256, per-layer changes every epoch)
# < 5 s and < 200 MiB.
echo
echo "== replay: bitsim run (replay + store), fresh database each"
rtmp=$(mktemp -d)
replay_bench() {  # name trace target_s target_mib
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%e %M" -o "$rtmp/time" ./bitsim run --trace "$2" --arch bitfusion \
            --db "$rtmp/$1.db" > "$rtmp/$1.out"
        read -r secs kib < "$rtmp/time"
    else  # no GNU time: wall time only
        start=$(date +%s.%N)
        ./bitsim run --trace "$2" --arch bitfusion --db "$rtmp/$1.db" > "$rtmp/$1.out"
        end=$(date +%s.%N)
        secs=$(awk "BEGIN { printf \"%.2f\", $end - $start }")
        kib=0
    fi
    grep "replay:" "$rtmp/$1.out" | sed 's/^ */replay: /'
    awk -v n="$1" -v s="$secs" -v k="$kib" -v ts="$3" -v tm="$4" 'BEGIN {
        mib = k / 1024
        ok = (s < ts) && (k == 0 || mib < tm)
        printf "replay: %s: %.2f s wall, %s peak (target < %s s, < %s MiB): %s\n", n, s,
               k ? sprintf("%.1f MiB", mib) : "n/a", ts, tm, ok ? "ok" : "MISSED" }'
}
./bitsim trace gen --scheme cpt --model resnet74_cifar100 -o "$rtmp/cpt74.trace"
replay_bench resnet74-cifar100-cpt "$rtmp/cpt74.trace" 1 200
./bitsim trace gen --scheme adapt --model resnet50 --batch 256 --iters-per-epoch 5005 \
    --epochs 90 -o "$rtmp/adapt50.trace"
replay_bench resnet50-imagenet-adapt "$rtmp/adapt50.trace" 5 200
# Stress (no target in the issue): a 160-epoch ResNet-20 trace that changes every MAC layer's
# weight width and activation density at EVERY iteration (1.25 M segments).
awk 'BEGIN {
  print "bitsim-trace 1\nmodel resnet20\nbatch 128\niters_per_epoch 391\nepochs 160\nscheme stress";
  for (i = 0; i < 62560; i++) printf "from %d @mac W=int%d dA=%g\n", i, 3 + i % 6, (501 + i % 400) / 1000;
  print "end" }' > "$rtmp/per_iter.trace"
replay_bench resnet20-every-iteration-stress "$rtmp/per_iter.trace" 10 1000
rm -rf "$rtmp"
