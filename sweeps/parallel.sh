#!/bin/sh
# parallel.sh — one sweep split into shards run by GNU parallel, on this machine or on several
# (parallel -S host1,host2 ... with bitsim and the inputs at the same paths), then merged:
#
#   sh sweeps/parallel.sh sweeps/bitfusion-space.ini resnet18-static8.trace 8 sweep.db
#
# Each shard writes its own database (no lock contention, nothing shared over the network);
# `bitsim merge` stores every input once and every run once, so the merged database equals the
# one an unsharded `bitsim sweep` writes.
set -eu
SPACE="$1"; TRACE="$2"; N="${3:-4}"; OUT="${4:-sweep.db}"
BITSIM="${BITSIM:-./bitsim}"
SEED="${SEED:-1}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
seq 0 $((N - 1)) | parallel --halt now,fail=1 \
    "$BITSIM" sweep --trace "$TRACE" --space "$SPACE" --seed "$SEED" --jobs 1 \
    --shard {}/"$N" --db "$TMP/shard-{}.db"
"$BITSIM" merge "$OUT" "$TMP"/shard-*.db
"$BITSIM" pareto --db "$OUT"
