#!/usr/bin/env bash
# Submits the shard array and the merge that waits for it.
#   ARCHIVE=/archive OUT=/scratch/vidsift SHARDS=16 \
#     VIDSIFT_ARGS="--model yolox_nano.onnx --fps 1" examples/slurm/submit.sh
# Prints the two job ids ("ARRAY MERGE").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${ARCHIVE:?}" "${OUT:?}"
SHARDS="${SHARDS:-4}"
mkdir -p "$OUT"
export ARCHIVE OUT VIDSIFT="${VIDSIFT:-vidsift}" VIDSIFT_ARGS="${VIDSIFT_ARGS:-}"
array=$(sbatch --parsable --export=ALL --chdir="$OUT" --array=0-$((SHARDS - 1)) "$here/shard.sbatch")
merge=$(sbatch --parsable --export=ALL --chdir="$OUT" --dependency=afterok:"$array" "$here/merge.sbatch")
echo "$array $merge"
