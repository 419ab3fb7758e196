#!/usr/bin/env bash
# bench/run.sh — vidsift's performance benchmark (issue 3), one command:
#
#   bench/run.sh
#
# 1. builds build/vidsift and the bench programs (bench/CMakeLists.txt);
# 2. builds the corpus once with the ffmpeg CLI (bench/corpus.sh), cached
#    outside the repository in ${VIDSIFT_BENCH_CACHE:-~/.cache/vidsift-bench};
# 3. measures, with yolox_nano.onnx (416) and yolov8n.onnx (640):
#    (a) inference ceiling (bench/infer_ceiling.cpp), (b) decode ceiling
#    (bench/decode_ceiling.cpp, vidsift::Decoder), (c) `vidsift run`
#    throughput every frame / --fps 2 / --keyframes, (d) a naive
#    cv::VideoCapture + cv::dnn baseline (bench/naive_baseline.cpp), (e) peak
#    RSS (/usr/bin/time -v) one video vs the 50-clip archive and 1 min vs
#    30 min; (f) ONNX Runtime (issue 9, steps ort.*): the ORT inference
#    ceiling, `vidsift run --backend ort` against it and against
#    `--backend opencv`, one session per worker vs one shared session,
#    --batch 1/2/4, the decode levers; plus Google Benchmark
#    micro-benchmarks (bench/bench_micro.cpp);
# 4. prints a table and writes bench/RESULTS.md (bench/report.py).
#
# Raw outputs (JSON lines, /usr/bin/time reports, every vidsift database) go
# to $VIDSIFT_BENCH_CACHE/results/<timestamp>/. About 11 minutes on 2 cores
# once the corpus exists (building the corpus takes ~5 minutes, once).
#
# Environment:
#   VIDSIFT_BENCH_CACHE     cache directory (default ~/.cache/vidsift-bench)
#   VIDSIFT_SHARED_DIR      models/ and videos/ (default <repo>/../shared)
#   VIDSIFT_BUILD_DIR       CMake build directory (default <repo>/build)
#   VIDSIFT_BENCH_NO_BUILD  1 = use the binaries already built
#   VIDSIFT_BENCH_ONLY      regex: run only the steps whose name matches
#                           (the report marks the rest n/a)
#   VIDSIFT_BENCH_INFER_SECONDS  seconds per inference-ceiling configuration (8)
#   VIDSIFT_BENCH_RESULTS   results file to write (default bench/RESULTS.md)
#   VIDSIFT_BENCH_QUIET_WAIT  before each step, wait up to this many seconds
#                           (default 120; 0 = never) until the rest of the
#                           machine uses less than VIDSIFT_BENCH_QUIET_PCT
#                           (default 15) % of the CPU; the report flags steps
#                           that still ran under foreign load
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
export VIDSIFT_SHARED_DIR="${VIDSIFT_SHARED_DIR:-$repo/../shared}"
build="${VIDSIFT_BUILD_DIR:-$repo/build}"
cache="${VIDSIFT_BENCH_CACHE:-$HOME/.cache/vidsift-bench}"
only="${VIDSIFT_BENCH_ONLY:-}"
infer_seconds="${VIDSIFT_BENCH_INFER_SECONDS:-8}"
results_md="${VIDSIFT_BENCH_RESULTS:-$here/RESULTS.md}"
quiet_wait="${VIDSIFT_BENCH_QUIET_WAIT:-120}"
quiet_pct="${VIDSIFT_BENCH_QUIET_PCT:-15}"
models_dir="$VIDSIFT_SHARED_DIR/models"
export VIDSIFT_MODEL_DIR="$models_dir"
jobs=$(nproc)

log() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
t_start=$SECONDS

# ---- tools ---------------------------------------------------------------------
need_pkgs=()
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
command -v ffmpeg >/dev/null || need_pkgs+=(ffmpeg)
command -v cmake >/dev/null || need_pkgs+=(cmake)
[[ -x /usr/bin/python3 ]] || need_pkgs+=(python3)
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]} with apt-get"
  sudo_cmd=()
  ((EUID == 0)) || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2
fi
python=/usr/bin/python3
for m in yolox_nano.onnx yolov8n.onnx; do
  [[ -f "$models_dir/$m" ]] || die "missing $models_dir/$m (set VIDSIFT_SHARED_DIR)"
done

# ---- build ---------------------------------------------------------------------
targets=(vidsift infer_ceiling decode_ceiling naive_baseline bench_micro)
if [[ "${VIDSIFT_BENCH_NO_BUILD:-0}" != 1 ]]; then
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    log "configuring $build (Release)"
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
  fi
  log "building ${targets[*]} in $build"
  cmake --build "$build" -j"$jobs" --target "${targets[@]}" >&2 ||
    die "build failed (bench programs need Google Benchmark: apt-get install libbenchmark-dev)"
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
[[ "$build_type" == Release ]] || log "warning: $build is a '$build_type' build, not Release"
vidsift="$build/vidsift"
infer_ceiling="$build/bench/infer_ceiling"
decode_ceiling="$build/bench/decode_ceiling"
naive_baseline="$build/bench/naive_baseline"
bench_micro="$build/bench/bench_micro"
for b in "$vidsift" "$infer_ceiling" "$decode_ceiling" "$naive_baseline" "$bench_micro"; do
  [[ -x "$b" ]] || die "missing $b"
done

# ---- corpus --------------------------------------------------------------------
corpus="$("$here/corpus.sh")"
vtest="$corpus/vtest.avi"
v720="$corpus/h264_720p_60s.mp4"
v1080="$corpus/h264_1080p_60s.mp4"
archive="$corpus/archive"
clip="$archive/clip_00.mp4"
long1="$corpus/long_360p_1min.mp4"
long30="$corpus/long_360p_30min.mp4"
mapfile -t archive_files < <(find "$archive" -name 'clip_*.mp4' | sort)

res="$cache/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$res"/{out,time,log,db}
steps="$res/steps.jsonl"
: >"$steps"
log "results in $res"
t_bench=$SECONDS

# ---- measurement helpers -------------------------------------------------------
# busy CPU seconds of the whole machine so far (from /proc/stat)
hz=$(getconf CLK_TCK)
busy_s() { awk -v hz="$hz" '/^cpu /{print ($2+$3+$4+$7+$8+$9)/hz; exit}' /proc/stat; }

# Waits (bounded) until the machine is quiet: on a shared box, other builds and
# tests would otherwise be measured along with vidsift.
waited_total=0
wait_quiet() {
  ((quiet_wait > 0)) || return 0
  local waited=0 b0 b1 pct
  while :; do
    b0=$(busy_s); sleep 1; b1=$(busy_s)
    pct=$(awk -v a="$b0" -v b="$b1" -v n="$jobs" 'BEGIN{printf "%d", 100*(b-a)/n}')
    ((pct < quiet_pct)) && break
    ((waited == 0)) && log "  machine busy ($pct% CPU used by others); waiting up to ${quiet_wait} s"
    waited=$((waited + 1))
    if ((waited >= quiet_wait)); then
      log "  still $pct% busy; measuring anyway (the report flags this step)"
      break
    fi
  done
  waited_total=$((waited_total + waited))
}

# step NAME KIND KEY=VALUE... -- CMD...
# Runs CMD under /usr/bin/time -v; stdout → out/NAME.jsonl, stderr → log/NAME.err.
# Records one line in steps.jsonl with the metadata, exit status, wall time,
# and the machine's busy CPU seconds meanwhile (to spot other load).
step() {
  local name="$1" kind="$2"; shift 2
  local meta=() m kv
  while [[ "$1" != -- ]]; do meta+=("$1"); shift; done
  shift
  if [[ -n "$only" && ! "$name" =~ $only ]]; then return 0; fi
  log "$name"
  wait_quiet
  local b0 b1 t0 t1 rc=0 load
  load=$(cut -d' ' -f1 /proc/loadavg)
  b0=$(busy_s); t0=$(date +%s.%N)
  /usr/bin/time -v -o "$res/time/$name.txt" "$@" >"$res/out/$name.jsonl" 2>"$res/log/$name.err" || rc=$?
  t1=$(date +%s.%N); b1=$(busy_s)
  ((rc == 0)) || log "  $name exited with status $rc (see $res/log/$name.err)"
  kv=""
  for m in "${meta[@]}"; do kv+=",\"${m%%=*}\":\"${m#*=}\""; done
  printf '{"name":"%s","kind":"%s","rc":%d,"t0":%s,"t1":%s,"busy_cpu_s":%s,"load1_before":%s%s}\n' \
    "$name" "$kind" "$rc" "$t0" "$t1" "$(awk -v a="$b0" -v b="$b1" 'BEGIN{print b-a}')" "$load" "$kv" >>"$steps"
}

# vrun_backend BACKEND NAME MODEL FILEKEY MODE [vidsift options...] -- INPUT...
vrun_backend() {
  local backend="$1" name="$2" model="$3" filekey="$4" mode="$5"; shift 5
  local opts=()
  while [[ "$1" != -- ]]; do opts+=("$1"); shift; done
  shift
  local db="$res/db/$name.db"
  rm -f "$db" "$db-wal" "$db-shm"
  step "$name" vidsift model="${model##*/}" file="$filekey" mode="$mode" backend="$backend" db="$db" \
    args="${opts[*]}" -- \
    "$vidsift" run "$@" --db "$db" --model "$model" --progress=false --json --backend "$backend" "${opts[@]}"
}
# vrun NAME MODEL FILEKEY MODE [vidsift options...] -- INPUT...: OpenCV dnn,
# like the ceilings of (a); section (f) runs ONNX Runtime.
vrun() { vrun_backend opencv "$@"; }

# ---- (a) inference ceiling -------------------------------------------------------
for m in yolox_nano yolov8n; do
  step "infer.$m" infer model="$m.onnx" -- \
    "$infer_ceiling" --model "$models_dir/$m.onnx" --seconds "$infer_seconds" --cores "$jobs"
done

# ---- (b) decode ceiling (vidsift::Decoder, 1 libavcodec thread like vidsift) ----------
dec() {  # dec FILEKEY PARALLEL FILE...
  local key="$1" par="$2"; shift 2
  step "decode.$key.all" decode file="$key" mode=all -- "$decode_ceiling" --name "$key" --parallel "$par" "$@"
  step "decode.$key.kf" decode file="$key" mode=kf -- "$decode_ceiling" --name "$key" --keyframes --parallel "$par" "$@"
  # What --fps 2 must decode: every reference frame, and only the sampled
  # non-reference frames (vidsift's AVDISCARD_NONREF lever).
  step "decode.$key.fps2" decode file="$key" mode=fps2 -- "$decode_ceiling" --name "$key" --fps 2 --parallel "$par" "$@"
}
dec vtest 1 "$vtest"
dec 720p 1 "$v720"
dec 1080p 1 "$v1080"
dec archive 2 "${archive_files[@]}"   # 2 files at once, like vidsift's --decoders 2
dec long1 1 "$long1"
# The lever measured: --fps 2 on 1080p decoding every frame anyway.
step decode.1080p.fps2.noskip decode file=1080p mode=fps2.noskip -- \
  "$decode_ceiling" --name 1080p --fps 2 --no-skip-nonref "$v1080"
# For comparison: the 1080p file with libavcodec's automatic threading (vidsift --decode-threads 0).
step decode.1080p.all.auto decode file=1080p mode=all threads=0 -- \
  "$decode_ceiling" --name 1080p --threads 0 "$v1080"

# ---- (c) vidsift run throughput + (e) peak RSS --------------------------------------
# every frame: vtest.avi (795 frames) with yolox_nano; the first 30 s (300
# frames) with yolov8n, which runs ~10 images/s.
# The machine's speed drifts (a shared host): the ceiling is measured again
# right before each every-frame run, and the report takes the best of both.
step "infer.yolox_nano.again" infer model=yolox_nano.onnx -- \
  "$infer_ceiling" --model "$models_dir/yolox_nano.onnx" --seconds "$infer_seconds" --cores "$jobs"
vrun vs.yolox_nano.every.vtest yolox_nano.onnx vtest every -- "$vtest"
step "infer.yolov8n.again" infer model=yolov8n.onnx -- \
  "$infer_ceiling" --model "$models_dir/yolov8n.onnx" --seconds "$infer_seconds" --cores "$jobs"
vrun vs.yolov8n.every.vtest yolov8n.onnx vtest every --end 30 -- "$vtest"
# Every frame on the H.264 files too (first 20 s / 10 s), the reference for
# how much --keyframes and --fps 2 gain over analysing everything.
vrun vs.yolox_nano.every.720p yolox_nano.onnx 720p every --end 20 -- "$v720"
vrun vs.yolox_nano.every.1080p yolox_nano.onnx 1080p every --end 20 -- "$v1080"
vrun vs.yolov8n.every.720p yolov8n.onnx 720p every --end 10 -- "$v720"
vrun vs.yolov8n.every.1080p yolov8n.onnx 1080p every --end 10 -- "$v1080"
for m in yolox_nano yolov8n; do
  for f in 720p 1080p archive; do
    case $f in 720p) inputs=("$v720") ;; 1080p) inputs=("$v1080") ;; archive) inputs=("$archive") ;; esac
    vrun "vs.$m.fps2.$f" "$m.onnx" "$f" fps2 --fps 2 -- "${inputs[@]}"
    vrun "vs.$m.kf.$f" "$m.onnx" "$f" kf --keyframes -- "${inputs[@]}"
  done
done
# (e) RSS: one archive clip vs the whole archive (same settings as vs.yolox_nano.fps2.archive),
# and the 1-minute vs the 30-minute synthetic video, both --keyframes.
vrun vs.yolox_nano.fps2.clip yolox_nano.onnx clip fps2 --fps 2 -- "$clip"
vrun vs.yolox_nano.kf.long1 yolox_nano.onnx long1 kf --keyframes -- "$long1"
vrun vs.yolox_nano.kf.long30 yolox_nano.onnx long30 kf --keyframes -- "$long30"

# ---- (d) naive baseline --------------------------------------------------------------
step naive.yolox_nano.vtest naive model=yolox_nano.onnx file=vtest -- \
  "$naive_baseline" --model "$models_dir/yolox_nano.onnx" "$vtest"
step naive.yolov8n.vtest naive model=yolov8n.onnx file=vtest end=30 -- \
  "$naive_baseline" --model "$models_dir/yolov8n.onnx" --end 30 "$vtest"

# ---- (f) ONNX Runtime (issue 9) ----------------------------------------------------
# Every step is named ort.*: VIDSIFT_BENCH_ONLY='^ort\.' runs this section
# alone (about 7 minutes), and the report then rewrites only its ORT section
# of RESULTS.md. The OpenCV runs it compares with are measured here again
# (ort.ocv.*), so every ratio comes from one run.
if ! "$vidsift" --version 2>/dev/null | grep -q onnxruntime; then
  log "this vidsift has no ONNX Runtime backend: skipping section (f)"
else
  for m in yolox_nano yolov8n_stock; do
    [[ -f "$models_dir/$m.onnx" ]] || die "missing $models_dir/$m.onnx"
  done
  # (f1) the ORT inference ceiling, measured like (a): every configuration,
  # plus the OpenCV one-net-per-core ceiling of the same weights for the ratio.
  step ort.infer.opencv.yolox_nano infer backend=opencv model=yolox_nano.onnx -- \
    "$infer_ceiling" --backend opencv --model "$models_dir/yolox_nano.onnx" --seconds "$infer_seconds" \
    --cores "$jobs" --configs nets_per_core
  for m in yolox_nano yolov8n_stock; do
    step "ort.infer.$m" infer backend=ort model="$m.onnx" -- \
      "$infer_ceiling" --backend ort --model "$models_dir/$m.onnx" --seconds "$infer_seconds" --cores "$jobs"
  done
  # (f2) threads: one session per worker vs one shared session (concurrent
  # Run calls), one process each so that /usr/bin/time's peak RSS is theirs.
  for m in yolox_nano yolov8n_stock; do
    for cfg in nets_per_core shared_session; do
      step "ort.threads.$m.$cfg" infer backend=ort model="$m.onnx" config="$cfg" -- \
        "$infer_ceiling" --backend ort --model "$models_dir/$m.onnx" --seconds "$infer_seconds" --cores "$jobs" \
        --configs "$cfg"
    done
  done
  # (f3) every frame against the ceiling (measured again right before, best
  # of both), and against OpenCV dnn on the same files.
  step ort.infer.yolox_nano.again infer backend=ort model=yolox_nano.onnx -- \
    "$infer_ceiling" --backend ort --model "$models_dir/yolox_nano.onnx" --seconds "$infer_seconds" --cores "$jobs" \
    --configs nets_per_core,shared_session
  vrun_backend ort ort.vs.yolox_nano.every.vtest yolox_nano.onnx vtest every -- "$vtest"
  vrun_backend opencv ort.ocv.yolox_nano.every.vtest yolox_nano.onnx vtest every -- "$vtest"
  step ort.infer.yolov8n_stock.again infer backend=ort model=yolov8n_stock.onnx -- \
    "$infer_ceiling" --backend ort --model "$models_dir/yolov8n_stock.onnx" --seconds "$infer_seconds" \
    --cores "$jobs" --configs nets_per_core,shared_session
  vrun_backend ort ort.vs.yolov8n_stock.every.vtest yolov8n_stock.onnx vtest every --end 30 -- "$vtest"
  # OpenCV 4.6 cannot run the stock export: the same weights as yolov8n.onnx.
  vrun_backend opencv ort.ocv.yolov8n.every.vtest yolov8n.onnx vtest every --end 30 -- "$vtest"
  for f in 720p 1080p; do
    case $f in 720p) input="$v720" ;; 1080p) input="$v1080" ;; esac
    vrun_backend ort "ort.vs.yolox_nano.every.$f" yolox_nano.onnx "$f" every --end 20 -- "$input"
    vrun_backend opencv "ort.ocv.yolox_nano.every.$f" yolox_nano.onnx "$f" every --end 20 -- "$input"
  done
  # (f4) batching: the shared models have a static batch of 1 (vidsift falls
  # back to --batch 1), so --batch is measured on a copy of yolox_nano with a
  # symbolic batch axis, made here (bench/dynamic_batch.py, never committed).
  dyn="$cache/models/yolox_nano_dynbatch.onnx"
  want_dyn=0
  for b in 1 2 4; do [[ -z "$only" || "ort.batch.yolox_nano.b$b" =~ $only ]] && want_dyn=1; done
  if ((want_dyn == 0)); then
    :
  elif [[ -f "$dyn" ]] || { mkdir -p "$cache/models" && "$python" "$here/dynamic_batch.py" "$models_dir/yolox_nano.onnx" "$dyn"; }; then
    for b in 1 2 4; do
      vrun_backend ort "ort.batch.yolox_nano.b$b" "$dyn" vtest "every.batch$b" --batch "$b" -- "$vtest"
    done
  else
    log "cannot make the dynamic-batch copy (needs /usr/bin/python3 with the onnx module: apt-get install python3-onnx)"
  fi
  # (f5) decode and preprocessing at ORT speed: the levers. 1080p every
  # frame with libavcodec's automatic threads (vidsift's default is 1); the
  # archive --fps 2 with one decoder instead of two.
  vrun_backend ort ort.lever.yolox_nano.every.1080p.dthreads0 yolox_nano.onnx 1080p every.dthreads0 \
    --end 20 --decode-threads 0 -- "$v1080"
  vrun_backend ort ort.vs.yolox_nano.fps2.archive yolox_nano.onnx archive fps2 --fps 2 -- "$archive"
  vrun_backend ort ort.lever.yolox_nano.fps2.archive.decoders1 yolox_nano.onnx archive fps2.decoders1 \
    --fps 2 --decoders 1 -- "$archive"
fi

# ---- micro-benchmarks --------------------------------------------------------------
step micro micro -- "$bench_micro" --benchmark_min_time=0.3 --benchmark_format=json

bench_s=$((SECONDS - t_bench - waited_total))
total_s=$((SECONDS - t_start))

# ---- report ----------------------------------------------------------------------
"$python" "$here/report.py" "$res" --out "$results_md" --repo "$repo" --build "$build" \
  --corpus "$corpus" --bench-seconds "$bench_s" --total-seconds "$total_s" --waited-seconds "$waited_total"
log "wrote $results_md (raw results: $res)"
log "measuring took ${bench_s} s (+ ${waited_total} s waiting for other load), ${total_s} s in all"
