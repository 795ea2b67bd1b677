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
        /usr/bin/time -f "%e %M %U %S" -o "$rtmp/time" ./bitsim run --trace "$2" \
            --arch bitfusion --db "$rtmp/$1.db" > "$rtmp/$1.out"
        read -r secs kib usr sys < "$rtmp/time"
        cpu=$(awk "BEGIN { printf \"%.2f\", $usr + $sys }")
    else  # no GNU time: wall time only
        start=$(date +%s.%N)
        ./bitsim run --trace "$2" --arch bitfusion --db "$rtmp/$1.db" > "$rtmp/$1.out"
        end=$(date +%s.%N)
        secs=$(awk "BEGIN { printf \"%.2f\", $end - $start }")
        kib=0 cpu=""
    fi
    grep "replay:" "$rtmp/$1.out" | sed 's/^ */replay: /'
    awk -v n="$1" -v s="$secs" -v k="$kib" -v ts="$3" -v tm="$4" -v c="$cpu" 'BEGIN {
        mib = k / 1024
        ok = (s < ts) && (k == 0 || mib < tm)
        printf "replay: %s: %.2f s wall%s, %s peak (target < %s s, < %s MiB): %s\n", n, s,
               c != "" ? sprintf(" (%s s cpu)", c) : "", k ? sprintf("%.1f MiB", mib) : "n/a",
               ts, tm, ok ? "ok" : "MISSED" }'
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
# LLM scale (issue 17): Llama-2-7B at sequence 4096, batch 1024 sequences (Llama 2's 4M-token
# batch, Touvron et al. 2023, section 2.2), 10^5 optimizer steps, a decision at EVERY step for
# every MAC layer: W and A formats cycling (int4..int8, int6..int8) and the activation density
# as a capture would measure it per step. 289 MAC layers x 10^5 steps = 28.9 M segments: the
# worst case of the piecewise-constant trace (DESIGN.md: memory grows with the changes). No
# target in the issue beyond "fast and memory-bounded"; bitsim's own: < 60 s, < 1 GiB (README).
awk 'BEGIN {
  print "bitsim-trace 1\nmodel llama2_7b seq=4096\nbatch 1024\niters_per_epoch 1000\nepochs 100";
  print "scheme llm-stress";
  for (i = 0; i < 100000; i++)
    printf "from %d @mac W=int%d A=int%d dA=%g\n", i, 4 + i % 5, 6 + i % 3, (501 + i % 400) / 1000;
  print "end" }' > "$rtmp/llama.trace"
replay_bench llama2-7b-1e5-steps-every-step "$rtmp/llama.trace" 60 1024
rm -rf "$rtmp"

# --- sweeps (issue 8): 10,000 arch points x the ResNet-18 static-8 trace, and 1 -> 2 jobs ----
# The space: Latin hypercube over array shape, buffer sizes, DRAM width and a continuous clock,
# so all 10,000 points are distinct archs (432 array/buffer/DRAM combinations x clocks). The
# trace: ResNet-18 (ImageNet, batch 256, 5005 iterations) with int8 W/A/G/WG, one epoch: a
# static trace is one segment per layer, so the cost model's work per point is the same for any
# epoch count, and one epoch keeps the database to ~2.2 M cost rows. Points that differ only in
# clock share one replay (sim/sweep_run.c, "clock groups"); the --no-sharing line shows the
# cost of a full replay per point. Scaling: the same 2,000 points (shard 0/5) with 1 and with 2
# jobs; "cpu" is the process's CPU time, so cpu/wall shows how many cores it really got (on a
# machine shared with other work the wall times cannot show more).
echo
echo "== sweep: 10,000 arch points x ResNet-18 static-8"
tmp=$(mktemp -d)
./bitsim trace gen --scheme static --model resnet18 --param W=int8 --param A=int8 \
    --param G=int8 --param WG=int8 --epochs 1 --batch 256 --iters-per-epoch 5005 \
    -o "$tmp/r18.trace"
cat > "$tmp/space.ini" <<'SPACE'
[sweep]
arch = bitfusion
sampling = lhs
points = 10000
seed = 1
[params]
array.rows          = 4, 8, 16
array.cols          = 8, 16, 32
buffers.wbuf_bytes  = 65536:524288:log2
buffers.abuf_bytes  = 16384:65536:log2
dram.bits_per_cycle = 64:256:64
arch.freq_mhz       = uniform 250 1000
SPACE
sweep_run() {  # db, args...: "WALL CPU" seconds from bitsim sweep's summary line
    db="$1"; shift
    ./bitsim sweep --trace "$tmp/r18.trace" --space "$tmp/space.ini" --db "$db" "$@" \
        2> "$tmp/log" || { cat "$tmp/log"; exit 1; }
    sed -n 's/.*already present; \([0-9.]*\) s, \([0-9.]*\) s cpu.*/\1 \2/p' "$tmp/log"
}
set -- $(sweep_run "$tmp/nosh.db" --jobs 2 --shard 0/50 --no-sharing)
echo "sweep: 200 points (shard 0/50), --no-sharing, 2 jobs: $1 s wall, $2 s cpu" \
     "($(awk "BEGIN { printf \"%.1f\", 200 / $2 }") points per cpu-second)"
set -- $(sweep_run "$tmp/s1.db" --jobs 1 --shard 0/5); w1=$1; c1=$2
set -- $(sweep_run "$tmp/s2.db" --jobs 2 --shard 0/5); w2=$1; c2=$2
echo "sweep: 2,000 points (shard 0/5): 1 job $w1 s wall ($c1 s cpu);" \
     "2 jobs $w2 s wall ($c2 s cpu); speedup $(awk "BEGIN { printf \"%.2f\", $w1 / $w2 }")x," \
     "cores busy with 2 jobs $(awk "BEGIN { printf \"%.2f\", $c2 / $w2 }")"
set -- $(sweep_run "$tmp/all.db" --jobs 2); wall=$1; cpu=$2
runs=$(sqlite3 "$tmp/all.db" "SELECT count(*) FROM runs WHERE status = 'complete'" 2>/dev/null || echo "?")
verdict=$(awk "BEGIN { print ($wall <= 60) ? \"within\" : \"OVER\" }")
echo "sweep: 10,000 points, 2 jobs: $wall s wall, $cpu s cpu ($runs runs stored," \
     "$(awk "BEGIN { printf \"%.0f\", 10000 / $wall }") points/s): $verdict the 60 s target"
start=$(date +%s.%N)
./bitsim pareto --db "$tmp/all.db" > /dev/null 2>&1
end=$(date +%s.%N)
echo "pareto: front of the 10,000 points: $(awk "BEGIN { printf \"%.2f\", $end - $start }") s"
rm -rf "$tmp"
