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

# ---- LLM part: low-precision LLM pretraining formats ---------------------------------------
# bf16 baseline, FP8 (E4M3/E5M2, delayed scaling), MXFP8, MXFP6, MXFP4 and NVFP4 recipes
# (bitsim trace schemes: bf16, fp8, mx, nvfp4), and CPT's cyclic 3..8-bit integer schedule on
# every MAC layer of the transformer (cpt, linear=quantized) on an H100 and a B200 roofline and on the
# MX-capable BitFusion array, each against bf16 on the same hardware. Decisions are constant
# over a run, so replay time does not grow with the step count: 1,000 steps here. Model: the
# zoo's gpt2_small (seq 1024, micro-batch 8) when this build has it, else one BERT-base layer
# (seq 128, batch 32). Own database and plot directory, so the CNN part above is unchanged.
LLM_DB="$OUT/llm.db"
LLM_ARCHS="gpu-h100 gpu-b200 bitfusion-mx"
# label:scheme[:param]
LLM_SCHEMES="bf16:bf16 fp8:fp8 mxfp8:mx:preset=mxfp8 mxfp6:mx:preset=mxfp6 mxfp4:mx:preset=mxfp4 nvfp4:nvfp4 cpt:cpt:linear=quantized"
if "$BITSIM" model show gpt2_small >/dev/null 2>&1; then
    LLM_MODEL=gpt2_small LLM_BATCH=8
else
    LLM_MODEL=bert_base_layer LLM_BATCH=32
fi
rm -f "$LLM_DB"
echo
echo "== LLM pretraining formats: $LLM_MODEL, 1000 steps, micro-batch $LLM_BATCH, on $LLM_ARCHS"
for entry in $LLM_SCHEMES; do
    label=${entry%%:*}
    rest=${entry#*:}
    scheme=${rest%%:*}
    param=
    [ "$rest" != "$scheme" ] && param=${rest#*:}
    trace="$OUT/llm_${label}.trace"
    # shellcheck disable=SC2086
    "$BITSIM" trace gen --scheme "$scheme" ${param:+--param "$param"} --model "$LLM_MODEL" \
        --epochs 1 --iters-per-epoch 1000 --batch "$LLM_BATCH" -o "$trace" ||
        die "trace gen --scheme $scheme $param failed"
    for arch in $LLM_ARCHS; do
        "$BITSIM" run --trace "$trace" --arch "$arch" --db "$LLM_DB" --label "$label" --quiet ||
            die "run of $label on $arch failed"
    done
done
"$BITSIM" compare --db "$LLM_DB" --baseline bf16 || die "LLM compare failed"
for arch in $LLM_ARCHS; do
    "$BITSIM" plot speedup --db "$LLM_DB" -o "$OUT/llm-$arch" --baseline bf16 --arch "$arch" ||
        die "LLM plot on $arch failed"
done
echo "== LLM plots: $(ls "$OUT"/llm-*/speedup.pdf | tr '\n' ' ')"

# A published measurement beside bitsim's figure: torchao's float8 training README (pytorch/ao,
# torchao/float8/README.md, torchtitan on 8x H100, Llama-3-8B, batch 1, seq 8192): bf16 6150
# tokens/s per GPU, float8 tensorwise 7689.5 (+25.03%), rowwise 6768 (+10.05%). Same model,
# shape and per-tensor FP8 recipe on the H100 roofline; README "LLM pretraining formats" says
# why the two differ.
echo
if "$BITSIM" model show llama3_8b >/dev/null 2>&1; then
    for label in bf16 fp8; do
        "$BITSIM" trace gen --scheme "$label" --model llama3_8b --seq 8192 --batch 1 --epochs 1 \
            --iters-per-epoch 1000 -o "$OUT/llama3_8b_$label.trace" ||
            die "trace gen --scheme $label on llama3_8b failed"
        "$BITSIM" run --trace "$OUT/llama3_8b_$label.trace" --arch gpu-h100 --db "$LLM_DB" \
            --label "llama3-$label" --quiet || die "run of llama3-$label failed"
    done
    echo "== Llama-3-8B, seq 8192, batch 1 on gpu-h100: FP8 over bf16 (published, measured:"
    echo "   torchao/torchtitan 8x H100 float8 tensorwise 1.250x, rowwise 1.101x)"
    "$BITSIM" compare --db "$LLM_DB" --baseline llama3-bf16 --model llama3_8b ||
        die "Llama-3-8B compare failed"
else
    echo "== Llama-3-8B comparison with the published H100 FP8 speedup: not run, this build's zoo"
    echo "   has no llama3_8b (the decoder models of issue 17)"
fi
