#!/bin/bash
# runone.sh ceiling MODEL SECONDS | runone.sh vidsift [args...]: one JSON line
kind=$1; shift
if [[ $kind == ceiling ]]; then
  line=$(${INFER_CEILING:-build/bench/infer_ceiling} --backend ort --model "$1" --seconds "$2" --configs shared_session 2>/dev/null | head -1)
  echo "{\"kind\":\"ceiling\",\"r\":$line}"
  exit 0
fi
bin=$1; shift
db=${TMPDIR:-/tmp}/ab_$$.db; rm -f $db $db-wal $db-shm
mon=$($(dirname "$0")/cpumon.py $bin run "$@" --db $db --progress=false --json 2>/dev/null)
read wall frames < <(sqlite3 -separator ' ' $db 'select wall_seconds, frames_analysed from runs')
stages=$(sqlite3 -separator ':' $db "select stage, round(total_s,3) from timings where video_id is null" | tr '\n' ' ')
dets=$(sqlite3 $db "select count(*) || '|' || printf('%.4f', sum(x+y+w+h+confidence)) from detections")
echo "{\"kind\":\"vidsift\",\"pipe_wall\":$wall,\"frames\":$frames,\"mon\":$mon,\"stages\":\"$stages\",\"dets\":\"$dets\"}"
rm -f $db $db-wal $db-shm
