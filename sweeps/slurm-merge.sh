#!/bin/sh
# slurm-merge.sh — the last job of a Slurm sweep (sweeps/slurm-array.sh): merges the n shard
# databases into one, after the whole array succeeded:
#
#   ARRAY=$(SPACE=... TRACE=... N=32 sbatch --parsable --array=0-31 sweeps/slurm-array.sh)
#   N=32 sbatch --dependency=afterok:$ARRAY sweeps/slurm-merge.sh
#
# It refuses to merge unless every shard left its out/shard-I-of-N.done marker, so a merge
# that ran too early (or after a shard that never finished) says so instead of writing a
# partial sweep; a finished shard without a database (all its points over budget) is fine. A merge that
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
    [ -f "out/shard-$i-of-$N.done" ] || {
        echo "slurm-merge: shard $i of $N has not finished (no out/shard-$i-of-$N.done)" >&2
        exit 1
    }
    i=$((i + 1))
done
set -- out/shard-*-of-"$N".db
[ -f "$1" ] || { echo "slurm-merge: no shard wrote a database (every point over budget?)" >&2; exit 1; }
t0=$(date +%s.%N)
"$BITSIM" merge "$OUT" "$@"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$N" -v o="$OUT" 'BEGIN { printf "slurm-merge: %s shards into %s in %.3f s\n", n, o, b - a }'
