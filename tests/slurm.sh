#!/bin/sh
# slurm.sh — `make test-slurm`: sweeps/slurm-array.sh and sweeps/slurm-merge.sh on a real
# Slurm cluster of one node on localhost, checked against the unsharded sweep.
#
# What it does, in a private temporary directory (removed at the end; KEEP=1 keeps it):
#  1. starts munged (own key and socket), slurmctld and slurmd (as root, 127.0.0.1, private
#     ports; proctrack/linuxproc and task/none, so no cgroups; select/cons_tres on CPUs=2);
#  2. writes one ResNet-20 trace per scheme (7 schemes, EPOCHS epochs) and a POINTS-point
#     Latin-hypercube space (sweeps/bitfusion-space.ini with its point count changed);
#  3. runs the unsharded sweep locally (the reference), then submits the array (N shards,
#     one CPU each) and the merge job (--dependency=afterok:ARRAY);
#  4. SIGKILLs shard KILL's bitsim process mid-run (its pid from scontrol listpids, once its
#     database holds a complete run), checks that the merge now waits on a dependency never satisfied,
#     resubmits the shard (sbatch --array=KILL, as slurm-array.sh says) and points the merge
#     at the resubmission (scontrol update ... Dependency=afterany:ARRAY,afterok:RESUB);
#  5. compares the merged database with the reference row for row: every complete run's
#     identity (its inputs' content hashes, scheme, options, sizes), its totals and every
#     costs row, all numbers as 17-digit text; prints the counts, each shard's rate, the merge
#     time, and what they project for a 1M-point x 7-scheme sweep on a 100-node array.
# Exit 0 when the databases agree, 1 when not or when a step fails (its log is printed).
# Needs root (slurmd), slurm-wlm, munge and sqlite3 (`make deps-slurm` installs them).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
BITSIM=${BITSIM:-$REPO/bitsim}
POINTS=${POINTS:-256}
N=${N:-8}
KILL=${KILL:-3}
EPOCHS=${EPOCHS:-4}    # fractrain-pfq needs 4 (one per precision stage)
SCHEMES="fp32 static cpt fractrain-pfq muppet adapt smaq"
export BITSIM_HOME="$REPO"

say() { echo "slurm: $*"; }
die() { echo "slurm: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root: slurmd runs jobs as their user and must be root"
for tool in munged slurmctld slurmd sbatch scontrol scancel squeue sqlite3; do
    command -v "$tool" >/dev/null || die "$tool not found (make deps-slurm installs slurm-wlm, munge, sqlite3)"
done
[ -x "$BITSIM" ] || die "$BITSIM is not built (make bitsim)"

T=$(mktemp -d /tmp/bitsim-slurm.XXXXXX)
chmod 755 "$T"
W="$T/work"
mkdir -p "$T/munge-key" "$T/munge-run" "$T/state" "$T/spool" "$T/log" "$W"
chmod 700 "$T/munge-key"

cleanup() {
    rc=$?
    # Jobs still running (a failed check) are cancelled first, so no slurmstepd is left
    # waiting for a slurmd that is gone; then only the daemons this script started, by pid.
    if [ -s "$T/slurmctld.pid" ] && [ -n "$(squeue -h 2>/dev/null)" ]; then
        scancel --full --signal=KILL $(squeue -h -o %A 2>/dev/null) 2>/dev/null || true
        scancel $(squeue -h -o %A 2>/dev/null) 2>/dev/null || true
        n=0
        while [ -n "$(squeue -h 2>/dev/null)" ] && [ $n -lt 50 ]; do n=$((n + 1)); sleep 0.2; done
    fi
    for p in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munged.pid"; do
        [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    done
    for p in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munged.pid"; do
        [ -s "$p" ] || continue
        n=0
        while kill -0 "$(cat "$p")" 2>/dev/null && [ $n -lt 50 ]; do n=$((n + 1)); sleep 0.1; done
        kill -9 "$(cat "$p")" 2>/dev/null || true
    done
    if [ "$rc" != 0 ]; then
        for f in "$T"/log/*.log "$W"/*.log; do
            [ -f "$f" ] && { echo "---- $f"; tail -15 "$f"; }
        done
    fi
    if [ "${KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- 1. the cluster ---------------------------------------------------------------------
dd if=/dev/urandom of="$T/munge-key/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$T/munge-key/munge.key"
SOCK="$T/munge-run/munge.socket"
munged --socket="$SOCK" --key-file="$T/munge-key/munge.key" --pid-file="$T/munged.pid" \
    --log-file="$T/log/munged.log" --seed-file="$T/munge-key/seed" --force \
    || die "munged did not start"
# Ports from the process id, so two runs (or another cluster) on the machine do not collide.
PORT=$((20000 + ($$ % 5000) * 2))
HOST=$(hostname)
cat > "$T/slurm.conf" <<EOF
ClusterName=bitsimtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=bitsim1 NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=bitsim1 Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
slurmctld -f "$SLURM_CONF" -i || die "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N bitsim1 || die "slurmd did not start"
i=0
until [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; do
    i=$((i + 1))
    [ $i -lt 60 ] || die "the node did not come up idle: $(sinfo -h 2>&1)"
    sleep 0.5
done
say "cluster up: slurmctld + slurmd $(slurmd -V | cut -d' ' -f2) on 127.0.0.1:$PORT, node bitsim1 (2 CPUs), munge socket $SOCK"

# ---- 2. inputs --------------------------------------------------------------------------
cd "$W"
TRACES=""
for s in $SCHEMES; do
    "$BITSIM" trace gen --scheme "$s" --model resnet20 --epochs "$EPOCHS" -o "r20-$s.trace" \
        >/dev/null || die "bitsim trace gen --scheme $s failed"
    TRACES="$TRACES r20-$s.trace"
done
TRACES=${TRACES# }
sed -e "s/^points *=.*/points   = $POINTS/" "$REPO/sweeps/bitfusion-space.ini" > space.ini
grep -q "^points   = $POINTS\$" space.ini || die "could not set the point count in space.ini"

# ---- 3. reference, array, merge ---------------------------------------------------------
t0=$(date +%s.%N)
# shellcheck disable=SC2086
"$BITSIM" sweep --trace $TRACES --space space.ini --seed 1 --jobs 1 --db ref.db 2> ref.log \
    || die "the unsharded sweep failed: $(cat ref.log)"
t1=$(date +%s.%N)
REF_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
say "unsharded reference: $(sed -n 's/^bitsim sweep: shard 0\/1: //p' ref.log)"

# out/ is not created here: slurm-array.sh must work in a directory without it
submit_shards() {   # $1: the --array value; prints the job id
    sbatch --parsable --array="$1" --cpus-per-task=1 --chdir="$W" \
        --export=ALL,SPACE=space.ini,TRACE="$TRACES",N="$N",BITSIM="$BITSIM",SEED=1 \
        "$REPO/sweeps/slurm-array.sh"
}
ARRAY=$(submit_shards "0-$((N - 1))")
MERGE=$(sbatch --parsable --dependency=afterok:"$ARRAY" --chdir="$W" \
    --export=ALL,N="$N",BITSIM="$BITSIM",OUT=sweep.db "$REPO/sweeps/slurm-merge.sh")
say "submitted array job $ARRAY (shards 0-$((N - 1)) of $N, 1 CPU each) and merge job $MERGE (afterok:$ARRAY)"

job_state() { scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }
job_reason() { scontrol -o show job "$1" 2>/dev/null | sed -n 's/.* Reason=\([^ ]*\).*/\1/p' | head -1; }
complete_runs() {
    [ -f "$1" ] || { echo 0; return; }
    sqlite3 -readonly "$1" "SELECT count(*) FROM runs WHERE status = 'complete'" 2>/dev/null || echo 0
}

# ---- 4. kill one shard mid-run, resubmit it ---------------------------------------------
DB_K="out/shard-$KILL-of-$N.db"
i=0
while :; do
    st=$(job_state "${ARRAY}_$KILL")
    done_k=$(complete_runs "$DB_K")
    [ "$st" = RUNNING ] && [ "$done_k" -ge 1 ] && break
    [ "$st" = COMPLETED ] && die "shard $KILL finished before it could be killed (raise POINTS)"
    i=$((i + 1))
    [ $i -lt 6000 ] || die "shard $KILL never ran (state $st)"
    sleep 0.05
done
# SIGKILL to the shard's bitsim process itself (found through Slurm, by pid): a crash or an
# OOM kill, not a cancellation, so the task ends FAILED like a real one would.
TASK_ID=$(scontrol -o show job "${ARRAY}_$KILL" | sed -n 's/^JobId=\([0-9]*\) .*/\1/p')
LISTPIDS=$(scontrol listpids "$TASK_ID" 2>&1 || true)
PIDS=$(echo "$LISTPIDS" | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }')
VICTIM=""
for p in $PIDS; do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = bitsim ] && VICTIM=$p
done
[ -n "$VICTIM" ] || die "no bitsim process in shard $KILL (job $TASK_ID; scontrol listpids: $LISTPIDS)"
kill -KILL "$VICTIM"
i=0
while st=$(job_state "${ARRAY}_$KILL"); [ "$st" = RUNNING ] || [ "$st" = COMPLETING ]; do
    i=$((i + 1)); [ $i -lt 600 ] || die "shard $KILL did not die"; sleep 0.1
done
KILLED_AT=$(complete_runs "$DB_K")
say "killed shard $KILL (SIGKILL) mid-run with $KILLED_AT complete runs in its database: state $st"
[ "$st" = FAILED ] || die "the killed shard is $st, not FAILED"

# The rest of the array finishes; the merge can then never start on afterok.
i=0
while [ -n "$(squeue -h -j "$ARRAY" 2>/dev/null)" ]; do
    i=$((i + 1)); [ $i -lt 6000 ] || die "the array did not finish"; sleep 0.2
done
i=0
while [ "$(job_reason "$MERGE")" != DependencyNeverSatisfied ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "merge job $MERGE: reason $(job_reason "$MERGE"), want DependencyNeverSatisfied"
    sleep 0.2
done
say "merge job $MERGE is pending: DependencyNeverSatisfied (shard $KILL failed)"
RESUB=$(submit_shards "$KILL")
scontrol update JobId="$MERGE" Dependency="afterany:$ARRAY,afterok:$RESUB" \
    || die "could not update the merge job's dependency"
say "resubmitted shard $KILL as job $RESUB; merge job now afterany:$ARRAY,afterok:$RESUB"

i=0
while st=$(job_state "$MERGE"); [ "$st" != COMPLETED ]; do
    case "$st" in FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) die "merge job $MERGE: $st" ;; esac
    i=$((i + 1)); [ $i -lt 6000 ] || die "merge job $MERGE never completed (state $st)"; sleep 0.2
done
[ "$(job_state "$RESUB")" = COMPLETED ] || die "resubmitted shard: $(job_state "$RESUB")"

# ---- 5. compare, measure, project -------------------------------------------------------
# One line per complete run's totals row and per costs row, keyed by the run's identity
# (content hashes of its inputs, scheme, options, sizes; never row ids, labels or times).
dump() {
    db=$1
    cols() {
        sqlite3 -readonly "$db" "SELECT group_concat('CASE typeof(x.' || name || ') WHEN ''real'' THEN printf(''%!.17g'', x.' || name || ') ELSE quote(x.' || name || ') END', ' || ''|'' || ') FROM pragma_table_info('$1') WHERE name <> 'run_id'"
    }
    ident="a.content_hash || '|' || m.content_hash || '|' || t.content_hash || '|' || r.scheme || '|' || r.options || '|' || r.batch || '|' || r.iterations || '|' || r.epochs"
    from="FROM runs r JOIN archs a ON a.id = r.arch_id JOIN models m ON m.id = r.model_id JOIN traces t ON t.id = r.trace_id"
    sqlite3 -readonly "$db" "SELECT 'T|' || $ident || '|' || $(cols run_totals) $from JOIN run_totals x ON x.run_id = r.id WHERE r.status = 'complete'; SELECT 'C|' || $ident || '|' || $(cols costs) $from JOIN costs x ON x.run_id = r.id WHERE r.status = 'complete'"
}
dump ref.db | LC_ALL=C sort > ref.rows
dump sweep.db | LC_ALL=C sort > merged.rows
REF_RUNS=$(complete_runs ref.db)
MERGED_RUNS=$(complete_runs sweep.db)
ROWS=$(wc -l < ref.rows)
COST_ROWS=$(grep -c '^C|' ref.rows)
[ "$ROWS" -gt 0 ] || die "the reference database holds no rows"
INCOMPLETE=$(sqlite3 -readonly sweep.db "SELECT count(*) FROM runs WHERE status <> 'complete'")
if cmp -s ref.rows merged.rows && [ "$REF_RUNS" = "$MERGED_RUNS" ] && [ "$INCOMPLETE" = 0 ]; then
    say "merged database = unsharded sweep: $MERGED_RUNS runs, $ROWS rows compared ($COST_ROWS costs rows + $((ROWS - COST_ROWS)) run totals), all equal; 0 incomplete runs"
else
    diff ref.rows merged.rows | head -5
    die "merged database differs from the unsharded sweep: runs $MERGED_RUNS vs $REF_RUNS, $(diff ref.rows merged.rows | grep -c '^[<>]') differing lines, $INCOMPLETE incomplete runs"
fi
RESUB_LOG=$(ls slurm-sweep-"${RESUB}"_*.log 2>/dev/null | head -1)
[ -n "$RESUB_LOG" ] && say "resubmitted shard $KILL: $(sed -n 's/^bitsim sweep: shard [0-9\/]*: //p' "$RESUB_LOG")"

# Per-shard rates from the sweeps' summary lines ("...; W s, C s cpu (R points/s)").
for f in slurm-sweep-"${ARRAY}"_*.log; do
    sed -n 's/^bitsim sweep: shard \([0-9]*\)\/[0-9]*: \([0-9]*\) points.*runs: \([0-9]*\) written.*; \([0-9.]*\) s, \([0-9.]*\) s cpu.*/\1 \2 \3 \4 \5/p' "$f"
done | sort -n > rates.txt
say "shards that ran to the end (shard, points, runs written, wall s, cpu s):"
sed 's/^/    /' rates.txt
MERGE_S=$(sed -n 's/^slurm-merge: .* in \([0-9.]*\) s$/\1/p' "slurm-merge-$MERGE.log")
[ -n "$MERGE_S" ] || die "no merge time in slurm-merge-$MERGE.log"
DB_BYTES=$(stat -c %s sweep.db)
awk -v points="$POINTS" -v n="$N" -v merge_s="$MERGE_S" -v runs="$MERGED_RUNS" \
    -v bytes="$DB_BYTES" -v ref_s="$REF_S" -v schemes=7 '
    { p += $2; r += $3; w += $4; c += $5; k++ }
    END {
        rate = p / w; rate_cpu = p / c          # points per second of one 1-CPU shard
        printf "slurm: one shard (mean of %d): %.2f points/s = %.1f runs/s of wall time on this shared machine, %.2f points/s per CPU-second; unsharded reference %.1f s for %d points\n", k, rate, r / w, rate_cpu, ref_s, points
        printf "slurm: merge: %d shards, %d runs in %.2f s (%.2f ms per run); merged database %.1f MB (%.1f kB per run)\n", n, runs, merge_s, 1000 * merge_s / runs, bytes / 1e6, bytes / 1e3 / runs
        P = 1e6; rpp = runs / points
        merge_all = P * rpp * merge_s / runs
        for (i = 0; i < 2; i++) {
            rt = i ? rate : rate_cpu
            sweep_s = P / (100 * rt)
            printf "slurm: projection (%s): 1M points x %d schemes = %.2g runs (%.2f runs per point here) on a 100-node array, one 1-CPU shard per node: sweep %.1f h + merge %.1f h (one serial job) = %.1f h; merged database about %.0f GB\n", i ? "at this wall rate" : "a dedicated CPU per shard", schemes, P * rpp, rpp, sweep_s / 3600, merge_all / 3600, (sweep_s + merge_all) / 3600, P * rpp * bytes / runs / 1e9
        }
    }' rates.txt
