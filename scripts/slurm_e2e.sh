#!/usr/bin/env bash
# End-to-end test on a real Slurm (Debian's slurm-wlm + munge): starts a
# controller and one compute node on this machine, runs examples/slurm over
# 8 short clips, and checks that
#   1. the array + the afterok merge give the same videos and detections as a
#      single-machine run of the same files;
#   2. an array task killed with scancel mid-run and requeued completes, and
#      the merge then holds every video once.
# The daemons are stopped when the script ends, whatever happens.
#   scripts/slurm_e2e.sh [BUILD_DIR]
# Exit 0 passed, 1 failed, 77 skipped (no root, no Slurm; with
# VIDSIFT_SLURM_REQUIRED=1, as .ci/run sets, a skip is a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BUILD="$(cd "${1:-${VIDSIFT_BUILD_DIR:-build}}" && pwd)"
VIDSIFT="$BUILD/vidsift"
SHARED="${VIDSIFT_SHARED_DIR:-$ROOT/../shared}"
[ -d "$SHARED/models" ] || SHARED=/work/shared
MODEL="$SHARED/models/yolox_nano.onnx"
VIDEO="$SHARED/videos/vtest.avi"

skip() {
  echo "slurm_e2e: SKIPPED: $*" >&2
  if [ "${VIDSIFT_SLURM_REQUIRED:-0}" = 1 ]; then exit 1; fi
  exit 77
}
fail() {
  echo "slurm_e2e: FAILED: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || skip "needs root (munged --force, SlurmUser=root)"
for t in slurmctld slurmd munged sbatch squeue scontrol scancel sqlite3 ffmpeg; do
  command -v "$t" >/dev/null || skip "$t is not installed (apt-get install slurm-wlm munge sqlite3 ffmpeg)"
done
[ -x "$VIDSIFT" ] || fail "no $VIDSIFT (build first)"
[ -f "$MODEL" ] && [ -f "$VIDEO" ] || fail "no $MODEL or $VIDEO"

T="$(mktemp -d /tmp/vidsift-slurm.XXXXXX)"
chmod 755 "$T"
PIDS=()
cleanup() {
  local status=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
    for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/out*/*.out; do
      [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
    done
  fi
  rm -rf "$T"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge, on a private socket.
mkdir -p "$T/munge"
chown munge: "$T/munge" 2>/dev/null || true
if [ ! -s /etc/munge/munge.key ]; then
  command -v mungekey >/dev/null && mungekey --create >/dev/null 2>&1 || true
fi
[ -s /etc/munge/munge.key ] || skip "no /etc/munge/munge.key"
mkdir -p /run/munge && chown munge: /run/munge 2>/dev/null || true
munged --force --socket="$T/munge/munge.socket" --pid-file="$T/munge/munged.pid" \
  --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" || skip "munged does not start"
for _ in $(seq 50); do [ -s "$T/munge/munged.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$T/munge/munged.pid")")

H="$(hostname -s)"
PORT=$((20000 + RANDOM % 20000))
export SLURM_CONF="$T/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=vidsift
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
MinJobAge=600
NodeName=$H NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$T/state" "$T/spool"
slurmctld -f "$SLURM_CONF" || skip "slurmctld does not start"
for _ in $(seq 50); do [ -s "$T/slurmctld.pid" ] && break; sleep 0.2; done
[ -s "$T/slurmctld.pid" ] && PIDS+=("$(cat "$T/slurmctld.pid")")
slurmd -f "$SLURM_CONF" || skip "slurmd does not start"
for _ in $(seq 50); do [ -s "$T/slurmd.pid" ] && break; sleep 0.2; done
[ -s "$T/slurmd.pid" ] && PIDS+=("$(cat "$T/slurmd.pid")")
idle=0
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then idle=1; break; fi
  sleep 0.5
done
((idle)) || skip "the Slurm node did not become idle: $(sinfo 2>&1 | tail -n 2)"
echo "slurm_e2e: slurmctld and slurmd up on $H (port $PORT)" >&2

# 8 clips in two directories.
A="$T/archive"
mkdir -p "$A/cam1" "$A/cam2"
for i in $(seq 0 7); do
  ffmpeg -y -loglevel error -ss $((i * 3)) -i "$VIDEO" -frames:v 50 -c:v libx264 -pix_fmt yuv420p \
    "$A/cam$((i % 2 + 1))/clip$i.mp4"
done
ARGS="--model $MODEL --every 25"
"$VIDSIFT" run "$A" --db "$T/single.db" $ARGS -q || fail "the single-machine run failed"

wait_jobs() { # job ids...: waits until none is pending or running (4 min)
  for _ in $(seq 480); do
    [ -z "$(squeue -h -j "$(
      IFS=,
      echo "$*"
    )" 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  fail "jobs $* still queued after 4 min: $(squeue 2>&1)"
}
VIDEOS="SELECT path, status, frames_analysed FROM videos ORDER BY path"
DETECTIONS="SELECT v.path, d.frame_index, d.class_id, ROUND(d.confidence, 3), ROUND(d.x, 1), ROUND(d.y, 1)
  FROM detections d JOIN videos v ON v.id = d.video_id ORDER BY 1, 2, 3, 4, 5, 6"
same_as_single() { # db
  [ "$(sqlite3 "$1" "$VIDEOS")" = "$(sqlite3 "$T/single.db" "$VIDEOS")" ] || fail "$1: videos differ from the single run"
  [ "$(sqlite3 "$1" "$DETECTIONS")" = "$(sqlite3 "$T/single.db" "$DETECTIONS")" ] ||
    fail "$1: detections differ from the single run"
}

# 1. The array and the afterok merge, as examples/slurm/submit.sh submits them.
read -r array merge < <(ARCHIVE="$A" OUT="$T/out1" SHARDS=4 VIDSIFT="$VIDSIFT" VIDSIFT_ARGS="$ARGS" \
  bash examples/slurm/submit.sh)
echo "slurm_e2e: array job $array, merge job $merge" >&2
wait_jobs "$array" "$merge"
[ -f "$T/out1/archive.db" ] || fail "the merge job wrote no archive.db"
[ "$(ls "$T"/out1/shard-*.db | wc -l)" -eq 4 ] || fail "expected 4 shard databases: $(ls "$T/out1")"
grep -q "SLURM_ARRAY_TASK_ID" "$T"/out1/vidsift-shard-*.out || fail "the tasks did not say they used SLURM_ARRAY_TASK_ID"
same_as_single "$T/out1/archive.db"
[ "$(sqlite3 "$T/out1/archive.db" "SELECT COUNT(DISTINCT shard) FROM video_provenance")" -ge 2 ] ||
  fail "no shard provenance"
echo "slurm_e2e: array + merge == single run ($(sqlite3 "$T/out1/archive.db" "SELECT COUNT(*) FROM detections") detections)" >&2

# 2. One task killed mid-run with scancel, requeued, then merged. The victim
#    is the shard with the most files (--dry-run says which); --every 5 makes
#    it last a few seconds.
mkdir -p "$T/out2"
victim_shard=0
most=-1
for i in 0 1 2 3; do
  n=$("$VIDSIFT" run "$A" --dry-run --shard "$i/4" | grep -c '\.mp4$' || true)
  if [ "$n" -gt "$most" ]; then most=$n victim_shard=$i; fi
done
export ARCHIVE="$A" OUT="$T/out2" VIDSIFT="$VIDSIFT" VIDSIFT_ARGS="--model $MODEL --every 5"
array=$(sbatch --parsable --export=ALL --chdir="$T/out2" --array=0-3 examples/slurm/shard.sbatch)
victim="${array}_${victim_shard}"
vdb="$T/out2/shard-$victim_shard.db"
killed=0
for _ in $(seq 300); do
  if [ -f "$vdb" ] && [ "$(sqlite3 "$vdb" "SELECT COUNT(*) FROM frames" 2>/dev/null || echo 0)" -gt 0 ]; then
    scancel "$victim"
    killed=1
    break
  fi
  sleep 0.2
done
((killed)) || fail "task $victim never started writing"
for _ in $(seq 100); do
  state="$(squeue -h -j "$victim" -o %T 2>/dev/null || true)"
  [ -z "$state" ] || [ "$state" = CANCELLED ] && break
  sleep 0.2
done
echo "slurm_e2e: cancelled $victim mid-run; requeueing it" >&2
scontrol requeue "$victim" || fail "scontrol requeue $victim failed"
wait_jobs "$array"
merge=$(sbatch --parsable --export=ALL --chdir="$T/out2" examples/slurm/merge.sbatch)
wait_jobs "$merge"
[ -f "$T/out2/archive.db" ] || fail "the second merge wrote no archive.db"
dups="$(sqlite3 "$T/out2/archive.db" "SELECT COUNT(*) FROM (SELECT path FROM videos GROUP BY path HAVING COUNT(*) > 1)")"
[ "$dups" -eq 0 ] || fail "$dups video(s) twice in the merge after the requeue"
[ "$(sqlite3 "$T/out2/archive.db" "SELECT COUNT(*) FROM videos WHERE status='done'")" -eq 8 ] ||
  fail "not every video done after the requeue: $(sqlite3 "$T/out2/archive.db" "SELECT path, status FROM videos")"
[ "$(sqlite3 "$vdb" "SELECT COUNT(*) FROM runs")" -ge 2 ] || fail "task $victim did not run twice"
[ "$(sqlite3 "$vdb" "SELECT COUNT(*) FROM runs WHERE status='interrupted'")" -ge 1 ] ||
  fail "the cancelled run of $victim is not marked interrupted: $(sqlite3 "$vdb" "SELECT id, status FROM runs")"
echo "slurm_e2e: PASSED" >&2
