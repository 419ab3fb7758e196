#!/usr/bin/env bash
# Downloads the official YOLOX-nano ONNX release (vidsift's default model) into
# the model directory: $VIDSIFT_MODEL_DIR, else ${XDG_DATA_HOME:-~/.local/share}/vidsift/models,
# one of the places `vidsift run` looks for a bare --model name.
# Verifies its sha256. Needs network access to github.com.
set -euo pipefail
URL="https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx"
SHA256="e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd"
DIR="${VIDSIFT_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/vidsift/models}"
OUT="$DIR/yolox_nano.onnx"

mkdir -p "$DIR"
if [ -f "$OUT" ] && echo "$SHA256  $OUT" | sha256sum -c --status; then
  echo "fetch_model: $OUT already present and verified"
  exit 0
fi
tmp="$(mktemp "$DIR/.yolox_nano.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
fetch() {
  if command -v curl >/dev/null; then
    curl -fL --retry 2 --connect-timeout 15 -o "$tmp" "$URL"
  elif command -v wget >/dev/null; then
    wget -q --timeout=15 -O "$tmp" "$URL"
  else
    echo "fetch_model: neither curl nor wget is installed (apt-get install curl)" >&2
    return 1
  fi
}
if ! fetch; then
  echo "fetch_model: cannot download $URL" >&2
  echo "fetch_model: this machine cannot reach the internet, or the release moved." >&2
  echo "fetch_model: copy yolox_nano.onnx into $DIR by hand, or point VIDSIFT_MODEL_DIR at a directory holding it." >&2
  exit 1
fi
if ! echo "$SHA256  $tmp" | sha256sum -c --status; then
  echo "fetch_model: downloaded file does not match the expected sha256 $SHA256; not installed" >&2
  exit 1
fi
mv "$tmp" "$OUT"
trap - EXIT
echo "fetch_model: installed $OUT"
