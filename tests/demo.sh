#!/bin/sh
# The main job (make demo): ResNet-20 / CIFAR-10 trained by six published quantized-training
# schemes (plus SmaQ's storage scheme), replayed on a BitFusion accelerator and on a GPU
# baseline, compared against fp32 and plotted.
#
#   traces   out/resnet20_SCHEME.trace   (bitsim trace gen: 160 epochs x 391 iterations, batch 128)
#   results  out/bitsim.db               (bitsim run, one run per scheme and arch)
#   tables   printed: bitsim compare --baseline fp32 (same arch, and against the GPU's fp32)
#   plots    out/*.pdf                   (bitsim plot all)
#
# Every step must really happen: a missing subcommand or a failing step stops the demo with a
# message and a non-zero status; nothing is skipped silently.
set -eu

BITSIM=${BITSIM:-./bitsim}
OUT=${OUT:-out}
MODEL=resnet20
EPOCHS=160
ITERS=391
BATCH=128
ACCEL=bitfusion
GPU=gpu-v100
# scheme:label[:params]   (static's preset sbm = Banner et al.'s 8-bit training)
SCHEMES="fp32:fp32 static:sbm cpt:cpt fractrain-pfq:fractrain-pfq muppet:muppet adapt:adapt smaq:smaq"

die() {
    echo "demo: $*" >&2
    exit 1
}

[ -x "$BITSIM" ] || die "$BITSIM is not built (run make)"
for sub in trace run compare plot; do
    "$BITSIM" "$sub" --help >/dev/null 2>&1 ||
        die "'bitsim $sub' is not available in this build (its --help fails); cannot run the demo"
done

mkdir -p "$OUT"
DB="$OUT/bitsim.db"
echo "== bitsim demo: $MODEL, $EPOCHS epochs x $ITERS iterations, batch $BATCH, on $ACCEL and $GPU"
echo "   (every scheme runs all $EPOCHS epochs; MuPPET ends in fp32: 91 of its epochs)"

for entry in $SCHEMES; do
    scheme=${entry%%:*}
    label=${entry#*:}
    trace="$OUT/${MODEL}_${label}.trace"
    "$BITSIM" trace gen --scheme "$scheme" --model "$MODEL" --epochs "$EPOCHS" \
        --iters-per-epoch "$ITERS" --batch "$BATCH" -o "$trace" ||
        die "trace gen --scheme $scheme failed"
    for arch in "$ACCEL" "$GPU"; do
        "$BITSIM" run --trace "$trace" --arch "$arch" --db "$DB" --label "$label" ||
            die "run of $label on $arch failed"
    done
done

echo
echo "== $ACCEL and $GPU: every scheme against fp32 on the same hardware"
"$BITSIM" compare --db "$DB" --baseline fp32 --model "$MODEL" || die "compare failed"
echo
echo "== $ACCEL against fp32 training on the $GPU (the usual baseline of the papers): an edge-sized"
echo "   512-unit array at 500 MHz against a datacentre GPU, so speedups are far below 1"
"$BITSIM" compare --db "$DB" --baseline fp32 --model "$MODEL" --arch "$ACCEL" \
    --baseline-arch "$GPU" || die "compare --baseline-arch failed"

echo
"$BITSIM" plot all --db "$DB" -o "$OUT" --arch "$ACCEL" || die "plot failed"
echo "== plots in $OUT/:"
ls "$OUT"/*.pdf
