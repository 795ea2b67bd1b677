#!/bin/sh
# slurm-merge.sh — the last job of a Slurm sweep (sweeps/slurm-array.sh): merges the n shard
# databases into one, after the whole array succeeded:
#
#   ARRAY=$(SPACE=... TRACE=... N=32 sbatch --parsable --array=0-31 sweeps/slurm-array.sh)
#   N=32 sbatch --dependency=afterok:$ARRAY sweeps/slurm-merge.sh
#
# It refuses to merge when a shard database is missing, so a merge that ran too early (or
# after a shard that never started) says so instead of writing a partial sweep. A merge that
# never ran because a shard failed (DependencyNeverSatisfied): resubmit the shard
# (sbatch --array=I ...), then point the merge at it:
#   scontrol update JobId=MERGE Dependency=afterany:$ARRAY,afterok:$RESUBMITTED
# Prints the merge's wall time, for sizing larger sweeps.
#SBATCH --job-name=bitsim-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=02:00:00
#SBATCH --output=slurm-merge-%j.log
set -eu
: "${N:?set N to the number of shards}"
BITSIM="${BITSIM:-./bitsim}"
OUT="${OUT:-sweep.db}"
i=0
while [ "$i" -lt "$N" ]; do
    [ -f "out/shard-$i-of-$N.db" ] || { echo "slurm-merge: out/shard-$i-of-$N.db is missing" >&2; exit 1; }
    i=$((i + 1))
done
t0=$(date +%s.%N)
"$BITSIM" merge "$OUT" out/shard-*-of-"$N".db
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$N" -v o="$OUT" 'BEGIN { printf "slurm-merge: %s shards into %s in %.3f s\n", n, o, b - a }'
