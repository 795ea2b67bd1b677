#!/bin/sh
# make bench: speed figures. Each section is added by the issue that brings the feature.
set -e
echo "bitsim bench: nothing to measure yet"

# --- cost model (issue 6): per-layer time against the public BitFusion simulator's Python
# (python_seconds of ../shared/reference/bitfusion_layers.csv) at the same answers, and
# evaluations per second with and without the tiling search.
echo
echo "== cost: bitsim vs the public BitFusion simulator, per layer"
nice ./build/bench_cost
