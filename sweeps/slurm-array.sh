#!/bin/sh
# slurm-array.sh — one sweep split over a Slurm job array: task i of n runs shard i/n into its
# own database, a final job merges them. Submit from the checkout (or with bitsim installed):
#
#   SPACE=sweeps/bitfusion-space.ini TRACE=resnet18-static8.trace N=32 \
#     sbatch --array=0-31 sweeps/slurm-array.sh
#   # when the array is done (or chain it: N=32 sbatch --dependency=afterok:JOBID
#   # sweeps/slurm-merge.sh):
#   bitsim merge sweep.db out/shard-*-of-32.db && bitsim pareto --db sweep.db
#
# TRACE may name several traces separated by blanks (one per scheme: every point runs each).
# `make test-slurm` runs all this on a one-node Slurm cluster on localhost (tests/slurm.sh).
#
# Shards are deterministic (point p belongs to shard p mod n), so a failed task can simply be
# resubmitted (sbatch --array=7 ...): it recomputes exactly its points, and runs already in its
# database are recognised and skipped.
#SBATCH --job-name=bitsim-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
# The log goes to the submission directory: Slurm opens --output before the script runs, so a
# path into out/ (created below) failed the first submission with JobLaunchFailure, exit 0:53.
#SBATCH --output=slurm-sweep-%A_%a.log
set -eu
: "${SPACE:?set SPACE to the space file}"
: "${TRACE:?set TRACE to the trace file}"
N="${N:-${SLURM_ARRAY_TASK_COUNT:?set N or run as a job array}}"
I="${SLURM_ARRAY_TASK_ID:?run as a job array (sbatch --array=0-$((N - 1)))}"
BITSIM="${BITSIM:-./bitsim}"
SEED="${SEED:-1}"
mkdir -p out
# $TRACE unquoted: a blank-separated list of traces becomes several arguments.
# shellcheck disable=SC2086
"$BITSIM" sweep --trace $TRACE --space "$SPACE" --seed "$SEED" \
    --jobs "${SLURM_CPUS_PER_TASK:-1}" --shard "$I/$N" --db "out/shard-$I-of-$N.db"
# The marker says this shard finished: one whose points are all over budget writes no
# database, and slurm-merge.sh must tell that from a shard that never ran.
touch "out/shard-$I-of-$N.done"
