#!/usr/bin/env python3
"""bench/report.py — turn one bench/run.sh results directory into a table on
stdout and bench/RESULTS.md. Standard library only.

    bench/report.py RESULTS_DIR [--out bench/RESULTS.md] [--repo DIR] [--build DIR]
                    [--corpus DIR] [--bench-seconds S] [--total-seconds S]

RESULTS_DIR holds steps.jsonl (one line per measured step), out/<step>.jsonl
(the program's JSON lines), time/<step>.txt (/usr/bin/time -v) and
db/<step>.db (vidsift's database for `vidsift run` steps).
"""
import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

MODELS = ["yolox_nano.onnx", "yolov8n.onnx"]
H264_FILES = ["720p", "1080p", "archive"]
FILE_DESC = {
    "vtest": "vtest.avi (768x576 MS-MPEG4v3 10 fps, 79.5 s)",
    "720p": "1280x720 H.264 30 fps 60 s",
    "1080p": "1920x1080 H.264 30 fps 60 s",
    "archive": "50 clips 640x480 H.264 30 fps 10 s",
    "clip": "one archive clip (640x480, 10 s)",
    "long1": "640x360 H.264 30 fps 1 min",
    "long30": "640x360 H.264 30 fps 30 min",
}


# ---------------------------------------------------------------- loading ----

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001 - best effort machine description
        return ""


def parse_time_file(path):
    """/usr/bin/time -v → dict(max_rss_kb, user_s, sys_s, elapsed_s)."""
    out = {}
    try:
        text = Path(path).read_text()
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size"):
            out["max_rss_kb"] = int(line.rsplit(":", 1)[1])
        elif line.startswith("User time"):
            out["user_s"] = float(line.rsplit(":", 1)[1])
        elif line.startswith("System time"):
            out["sys_s"] = float(line.rsplit(":", 1)[1])
        elif line.startswith("Elapsed (wall clock)"):
            v = line.split("):", 1)[1].strip() if "):" in line else line.rsplit(" ", 1)[1]
            parts = [float(p) for p in v.split(":")]
            s = 0.0
            for p in parts:
                s = s * 60 + p
            out["elapsed_s"] = s
    return out


def load_jsonl(path):
    rows = []
    try:
        text = Path(path).read_text()
    except OSError:
        return rows
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


def read_vidsift_db(path):
    """Run totals, video seconds in the analysed window, per-stage timings."""
    if not Path(path).exists():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        run = con.execute(
            "SELECT id, status, wall_seconds, frames_analysed, videos_done, videos_partial, videos_failed, "
            "detections, settings, execution FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if not run:
            return None
        settings = json.loads(run[8] or "{}")
        execution = json.loads(run[9] or "{}")
        sampling = settings.get("sampling", {})
        if isinstance(sampling, str):  # databases of vidsift before the JSON settings key
            sampling = dict(kv.split("=", 1) for kv in sampling.split(";") if "=" in kv)
        start = float(sampling.get("start", 0) or 0)
        end = float(sampling.get("end", 0) or 0)
        vids = con.execute("SELECT duration, frame_count, frames_analysed, status FROM videos").fetchall()
        video_s = 0.0
        decoded = 0
        for dur, fc, _fa, _st in vids:
            dur = dur or 0.0
            hi = min(dur, end) if end > 0 else dur
            video_s += max(0.0, hi - start)
            decoded += fc or 0
        stages = {}
        for stage, frames, total_s, mean_ms, p50, p95, mx in con.execute(
                "SELECT stage, frames, total_s, mean_ms, p50_ms, p95_ms, max_ms FROM timings "
                "WHERE video_id IS NULL AND run_id=?", (run[0],)):
            stages[stage] = dict(frames=frames, total_s=total_s, mean_ms=mean_ms, p50_ms=p50, p95_ms=p95, max_ms=mx)
        return dict(status=run[1], wall_s=run[2] or 0.0, frames=run[3] or 0, done=run[4] or 0,
                    partial=run[5] or 0, failed=run[6] or 0, detections=run[7] or 0, videos=len(vids),
                    video_s=video_s, decoded=decoded, stages=stages, sampling=sampling,
                    workers=execution.get("workers"), execution=execution)
    finally:
        con.close()


def load(res_dir, cores):
    res = Path(res_dir)
    steps = {}
    for s in load_jsonl(res / "steps.jsonl"):
        name = s["name"]
        s["time"] = parse_time_file(res / "time" / f"{name}.txt")
        s["out"] = load_jsonl(res / "out" / f"{name}.jsonl")
        wall = float(s["t1"]) - float(s["t0"])
        s["wall_s"] = wall
        own = s["time"].get("user_s", 0.0) + s["time"].get("sys_s", 0.0)
        s["own_cpu_s"] = own
        # CPU the rest of the machine used while this step ran.
        s["foreign_cpu_s"] = max(0.0, float(s["busy_cpu_s"]) - own)
        s["foreign_pct"] = 100.0 * s["foreign_cpu_s"] / (wall * cores) if wall > 0 else 0.0
        if s["kind"] == "vidsift":
            s["db"] = read_vidsift_db(s.get("db", str(res / "db" / f"{name}.db")))
        steps[name] = s
    return steps


# ---------------------------------------------------------------- helpers ----

def fmt(v, nd=1):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def mb(kb):
    return None if kb is None else kb * 1024 / 1e6


def table(headers, rows, align=None):
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    out = ["| " + " | ".join(headers) + " |",
           "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def text_table(headers, rows):
    cols = list(zip(*([headers] + [[str(c) for c in r] for r in rows]))) if rows else [[h] for h in headers]
    widths = [max(len(str(c)) for c in col) for col in cols]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join((str(c).rjust(w) if is_number(c) else str(c).ljust(w))
                               for c, w in zip(r, widths)))
    return "\n".join(lines)


def is_number(c):
    if isinstance(c, (int, float)):
        return True
    return bool(re.fullmatch(r"[-+]?[\d,]*\.?\d+", str(c)))


def stages_line(db):
    if not db or not db.get("stages"):
        return "n/a"
    parts = []
    for st in ["decode", "preprocess", "infer", "postprocess", "store"]:
        if st in db["stages"]:
            s = db["stages"][st]
            parts.append(f"{st} {s['total_s']:.2f} s ({s['mean_ms']:.1f} ms)")
    return ", ".join(parts)


# ---------------------------------------------------------- ONNX Runtime ----

ORT_BEGIN = "<!-- ort-section: begin (bench/report.py rewrites this part on an ORT-only run) -->"
ORT_END = "<!-- ort-section: end -->"


def ort_section(steps, cores, a, date, git_rev):
    """Section (f): the ort.* steps of bench/run.sh. Returns (markdown lines, stdout text)."""
    def step(name):
        return steps.get(name)

    def outs(name, bench):
        s = step(name)
        return [r for r in (s["out"] if s else []) if r.get("bench") == bench]

    md = [ORT_BEGIN, "## (f) ONNX Runtime backend (issue 9)\n"]
    if not steps:
        md.append("Not measured in this run (this vidsift has no ONNX Runtime backend, or the steps were not "
                  "selected).\n")
        md.append(ORT_END)
        return md, ""
    foreign = [s["foreign_pct"] for s in steps.values()]
    busy_steps = [n for n, s in steps.items() if s["foreign_pct"] > 10]
    library = next((r.get("library") for n in steps for r in outs(n, "infer_ceiling_best")
                    if r.get("backend") == "onnxruntime"), "ONNX Runtime ?")
    measured_s = sum(s["wall_s"] for s in steps.values())
    import datetime
    t0 = min(float(s["t0"]) for s in steps.values())
    t1 = max(float(s["t1"]) for s in steps.values())
    span = (datetime.datetime.fromtimestamp(t0, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M") + " to " +
            datetime.datetime.fromtimestamp(t1, datetime.timezone.utc).strftime("%H:%M UTC"))
    md.append(f"Measured in one run, {span} (report written {date}; git {git_rev}, {library}, raw results `{a.results}`): "
              f"{measured_s:.0f} s of measuring. `VIDSIFT_BENCH_ONLY='^ort\\.' bench/run.sh` runs this section "
              f"alone and rewrites only it. Other load on the machine: on average {sum(foreign) / len(foreign):.0f}% "
              f"of the CPU during a step (max {max(foreign):.0f}%)"
              + (f"; steps above 10%: {', '.join(busy_steps)}." if busy_steps else ".") + "\n")

    # ceilings
    ceiling = {}
    crow = []
    for name, s in steps.items():
        if s["kind"] != "infer" or name.startswith("ort.threads."):
            continue
        when = "before the every-frame run" if name.endswith(".again") else "start"
        for r in outs(name, "infer_ceiling"):
            crow.append([r["model"], r["input"], r.get("backend", "?"), when, r["config"],
                         f"{int(r['nets'])} x {int(r['threads_per_net'])}", fmt(r["images_per_s"])])
        for r in outs(name, "infer_ceiling_best"):
            key = (r["model"], r.get("backend"))
            if key not in ceiling or r["images_per_s"] > ceiling[key]["images_per_s"]:
                ceiling[key] = r

    # vidsift runs
    runs = {}
    rrows = []
    share_rows = []
    for name, s in steps.items():
        if s["kind"] != "vidsift":
            continue
        db = s.get("db")
        runs[name] = s
        if not db or db["wall_s"] <= 0:
            rrows.append([name, s.get("backend", "?"), s["model"], s["file"], s["mode"], "no database"] + [""] * 5)
            continue
        s["fps"] = db["frames"] / db["wall_s"]
        st = db["stages"]
        dec = st.get("decode", {}).get("total_s", 0.0)
        pre = st.get("preprocess", {}).get("total_s", 0.0)
        inf = st.get("infer", {}).get("total_s", 0.0)
        workers = db.get("workers") or cores
        s["dec_pre_share"] = (dec + pre) / (db["wall_s"] * cores)
        end = float(db["sampling"].get("end", 0) or 0)
        rrows.append([name, s.get("backend", "?"), s["model"].replace(".onnx", ""), s["file"],
                      s["mode"] + (f" --end {end:g}" if end > 0 else ""), db["frames"], fmt(db["wall_s"], 2),
                      fmt(s["fps"]), fmt(mb(s["time"].get("max_rss_kb")), 0), fmt(s["foreign_pct"], 0),
                      f"{db['done']}/{db['videos']} done"])
        share_rows.append([name, fmt(db["wall_s"], 2), f"{dec:.2f} / {st.get('decode', {}).get('mean_ms', 0):.2f}",
                           f"{pre:.2f} / {st.get('preprocess', {}).get('mean_ms', 0):.2f}",
                           f"{inf:.2f} / {st.get('infer', {}).get('mean_ms', 0):.2f}",
                           f"{100 * s['dec_pre_share']:.1f}%", f"{100 * inf / (db['wall_s'] * workers):.0f}%"])

    targets = []

    def verdict(ok):
        return "n/a" if ok is None else ("PASS" if ok else "MISS")

    for m, run_name, desc in [("yolox_nano.onnx", "ort.vs.yolox_nano.every.vtest", "vtest, every frame"),
                              ("yolov8n_stock.onnx", "ort.vs.yolov8n_stock.every.vtest", "vtest --end 30, every frame")]:
        s, c = runs.get(run_name), ceiling.get((m, "onnxruntime"))
        if s and s.get("fps") and c:
            ratio = s["fps"] / c["images_per_s"]
            db = s["db"]
            st = db["stages"]
            dp_ms = 1000.0 * (st.get("decode", {}).get("total_s", 0.0) +
                              st.get("preprocess", {}).get("total_s", 0.0)) / max(1, db["frames"])
            # What 2 cores can do when every frame must also be decoded and
            # preprocessed on them: per frame, cores/ceiling core-seconds of
            # inference plus dp_ms of decode and preprocessing.
            bound = cores / (cores / c["images_per_s"] + dp_ms / 1000.0)
            note = (f"ceiling = best of two measurements ({c['config']}); stages: {stages_line(db)}; "
                    f"decode + preprocess = {100 * s['dec_pre_share']:.1f}% of the {cores} cores "
                    f"({dp_ms:.2f} ms per frame); with that work on the same cores the ceiling becomes "
                    f"{bound:.1f} images/s, and vidsift reaches {s['fps'] / bound:.2f} of it")
            targets.append(("every frame vs ORT inference ceiling", f"{m}, {desc}: >= 0.95",
                            f"{s['fps']:.1f} / {c['images_per_s']:.1f} images/s = {ratio:.2f}",
                            verdict(ratio >= 0.95), note))
    for ort_name, ocv_name, label, thr in [
            ("ort.vs.yolox_nano.every.vtest", "ort.ocv.yolox_nano.every.vtest", "yolox_nano.onnx, vtest", 3.0),
            ("ort.vs.yolox_nano.every.720p", "ort.ocv.yolox_nano.every.720p", "yolox_nano.onnx, 720p --end 20", 3.0),
            ("ort.vs.yolox_nano.every.1080p", "ort.ocv.yolox_nano.every.1080p", "yolox_nano.onnx, 1080p --end 20",
             3.0),
            ("ort.vs.yolov8n_stock.every.vtest", "ort.ocv.yolov8n.every.vtest",
             "yolov8n_stock.onnx (ORT) vs yolov8n.onnx (OpenCV, same weights), vtest --end 30", None)]:
        so, sc = runs.get(ort_name), runs.get(ocv_name)
        if so and sc and so.get("fps") and sc.get("fps"):
            ratio = so["fps"] / sc["fps"]
            targets.append(("`--backend ort` vs `--backend opencv`, every frame",
                            f"{label}: " + (f">= {thr:g}x" if thr else "no target"),
                            f"{so['fps']:.1f} / {sc['fps']:.1f} frames/s = {ratio:.2f}x",
                            verdict(ratio >= thr) if thr else "n/a", ""))
    for m in ["yolox_nano.onnx", "yolov8n.onnx", "yolov8n_stock.onnx"]:
        co, cc = ceiling.get((m, "onnxruntime")), ceiling.get((m, "opencv-dnn"))
        if co and cc:
            targets.append(("ORT vs OpenCV inference ceiling", f"{m}: (for reference)",
                            f"{co['images_per_s']:.1f} / {cc['images_per_s']:.1f} images/s = "
                            f"{co['images_per_s'] / cc['images_per_s']:.2f}x", "n/a", ""))

    md.append("### Targets\n")
    md.append(table(["target", "threshold", "measured", "result"],
                    [[t[0], t[1], t[2], f"**{t[3]}**"] for t in targets], ["l", "l", "l", "l"]))
    md.append("")
    for t in targets:
        if t[4]:
            md.append(f"- {t[0]} ({t[1]}): {t[4]}")
    md.append("")

    md.append("### ORT inference ceiling: OrtBackend::forward on ready-made blobs\n")
    md.append("`bench/infer_ceiling --backend ort`: vidsift's own ORT sessions (OrtBackend), the same blobs, "
              "warm-up and timing as (a). nets_per_core = one session per thread (1 intra-op thread each); "
              "shared_session = one session, 1 intra-op thread, one Run call per thread at once.\n")
    md.append(table(["model", "input", "backend", "measured", "configuration", "nets x threads", "images/s"], crow,
                    ["l", "l", "l", "l", "l", "l", "r"]))
    md.append("")

    trows = []
    for name, s in steps.items():
        if not name.startswith("ort.threads."):
            continue
        for r in outs(name, "infer_ceiling"):
            trows.append([r["model"], r["config"], f"{int(r['nets'])} x {int(r['threads_per_net'])}",
                          "1 (shared)" if r.get("shared_session") else str(int(r["nets"])), fmt(r["images_per_s"]),
                          fmt(mb(s["time"].get("max_rss_kb")), 0)])
    md.append("### Threads: one session per worker vs one shared session\n")
    md.append("One process per configuration (peak RSS from `/usr/bin/time -v`, the whole process).\n")
    md.append(table(["model", "configuration", "threads x intra-op", "sessions", "images/s", "peak RSS MB"], trows,
                    ["l", "l", "l", "r", "r", "r"]))
    md.append("")

    md.append("### `vidsift run` (defaults: 2 workers x 1 thread)\n")
    md.append(table(["run", "backend", "model", "file", "sampling", "frames", "wall s", "frames/s", "peak RSS MB",
                     "other load %", "videos"], rrows, ["l", "l", "l", "l", "l", "r", "r", "r", "r", "r", "l"]))
    md.append("")
    md.append("Decode and preprocessing share: stage busy seconds (total s / mean ms per frame) from each run's "
              "`timings`; share = (decode + preprocess) / (wall x cores).\n")
    md.append(table(["run", "wall s", "decode", "preprocess", "infer", "decode + preprocess share",
                     "infer / (wall x workers)"], share_rows))
    md.append("")

    brows = []
    for b in [1, 2, 4]:
        s = runs.get(f"ort.batch.yolox_nano.b{b}")
        if s and s.get("fps"):
            ex = s["db"].get("execution") or {}
            inf = s["db"]["stages"].get("infer", {})
            brows.append([b, ex.get("batch", "?"), s["db"]["frames"], fmt(s["db"]["wall_s"], 2), fmt(s["fps"]),
                          fmt(inf.get("mean_ms"), 2), fmt(mb(s["time"].get("max_rss_kb")), 0)])
    md.append("### Batching (ORT, yolox_nano with a symbolic batch axis, vtest every frame)\n")
    md.append("The shared models have a static batch of 1 (vidsift then warns and uses `--batch 1`), so "
              "bench/run.sh measures a copy made by `bench/dynamic_batch.py` (never committed).\n")
    md.append(table(["--batch", "batch run", "frames", "wall s", "frames/s", "infer ms per frame", "peak RSS MB"],
                    brows, ["r", "r", "r", "r", "r", "r", "r"]))
    md.append("")

    lrows = []
    for base, lever, desc in [("ort.vs.yolox_nano.every.1080p", "ort.lever.yolox_nano.every.1080p.dthreads0",
                               "1080p every frame: `--decode-threads 0` (libavcodec auto) vs 1 (default)"),
                              ("ort.vs.yolox_nano.fps2.archive", "ort.lever.yolox_nano.fps2.archive.decoders1",
                               "archive `--fps 2`: `--decoders 1` vs 2 (default)")]:
        sb, sl = runs.get(base), runs.get(lever)
        if sb and sl and sb.get("fps") and sl.get("fps"):
            lrows.append([desc, fmt(sb["fps"]), fmt(sl["fps"]), f"{sl['fps'] / sb['fps']:.2f}",
                          f"{100 * sb['dec_pre_share']:.1f}% / {100 * sl['dec_pre_share']:.1f}%"])
    md.append("### Decode levers at ORT speed\n")
    md.append(table(["lever", "default frames/s", "lever frames/s", "lever / default",
                     "decode + preprocess share (default / lever)"], lrows, ["l", "r", "r", "r", "r"]))
    md.append("")

    analysis = Path(__file__).with_name("ANALYSIS_ORT.md")
    if analysis.exists():
        md.append(analysis.read_text().rstrip("\n"))
        md.append("")
    md.append(ORT_END)

    text = ["(f) ONNX Runtime", text_table(["target", "threshold", "measured", "result"], [list(t[:4]) for t in targets]),
            "", text_table(["model", "input", "backend", "when", "config", "nets x thr", "images/s"], crow), "",
            text_table(["model", "config", "nets x thr", "sessions", "images/s", "RSS MB"], trows), "",
            text_table(["run", "backend", "model", "file", "sampling", "frames", "wall s", "frames/s", "RSS MB",
                        "other %", "videos"], rrows), "",
            text_table(["run", "wall s", "decode", "preprocess", "infer", "dec+pre share", "infer busy"], share_rows),
            "", text_table(["batch", "ran", "frames", "wall s", "frames/s", "infer ms", "RSS MB"], brows), "",
            text_table(["lever", "default f/s", "lever f/s", "ratio", "dec+pre share"], lrows)]
    return md, "\n".join(text)


def splice_ort(out_path, ort_md):
    """Replaces the ORT section of an existing RESULTS.md (or inserts it before '## Corpus')."""
    text = Path(out_path).read_text()
    block = "\n".join(ort_md)
    if ORT_BEGIN in text and ORT_END in text:
        head, rest = text.split(ORT_BEGIN, 1)
        tail = rest.split(ORT_END, 1)[1]
        return head + block + tail
    if "\n## Corpus" in text:
        head, tail = text.split("\n## Corpus", 1)
        return head + "\n" + block + "\n\n## Corpus" + tail
    return text.rstrip("\n") + "\n\n" + block + "\n"


# ---------------------------------------------------------------- report ----

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    ap.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--build", default="")
    ap.add_argument("--corpus", default="")
    ap.add_argument("--bench-seconds", type=float, default=None)
    ap.add_argument("--total-seconds", type=float, default=None)
    ap.add_argument("--waited-seconds", type=float, default=0)
    a = ap.parse_args()

    cores = os.cpu_count() or 1
    all_steps = load(a.results, cores)
    # Section (f), ONNX Runtime, has its own steps (ort.*); the rest of the
    # report never sees them.
    ort_steps = {n: s for n, s in all_steps.items() if n.startswith("ort.")}
    steps = {n: s for n, s in all_steps.items() if not n.startswith("ort.")}

    def step(name):
        return steps.get(name)

    def out1(name, bench=None):
        s = step(name)
        if not s:
            return None
        for r in s["out"]:
            if bench is None or r.get("bench") == bench:
                return r
        return None

    # ---- (a) inference ceiling
    ceiling = {}
    config_rate = {}  # (model, config) -> best images/s over both measurements
    infer_rows = []
    for m in MODELS:
        base = f"infer.{m.replace('.onnx', '')}"
        for name, when in [(base, "start"), (base + ".again", "before the every-frame run")]:
            s = step(name)
            if not s:
                continue
            for r in s["out"]:
                if r.get("bench") == "infer_ceiling":
                    key = (m, r["config"])
                    config_rate[key] = max(config_rate.get(key, 0.0), r["images_per_s"])
                    infer_rows.append([m, r["input"], when, r["config"],
                                       f"{int(r['nets'])} x {int(r['threads_per_net'])}", fmt(r["images_per_s"])])
                elif r.get("bench") == "infer_ceiling_best":
                    if m not in ceiling or r["images_per_s"] > ceiling[m]["images_per_s"]:
                        ceiling[m] = r
    # ---- (b) decode ceiling
    decode = {}
    dec_rows = []
    for f in ["vtest", "720p", "1080p", "archive", "long1"]:
        for mode in ["all", "kf", "fps2", "fps2.noskip", "all.auto"]:
            r = out1(f"decode.{f}.{mode}", "decode_ceiling")
            if not r:
                continue
            decode[(f, mode)] = r
            mode_desc = {"kf": "keyframes", "fps2": "--fps 2 (skip unsampled non-ref)",
                         "fps2.noskip": "--fps 2, decode all", "all.auto": "every frame"}.get(mode, "every frame")
            dec_rows.append([f, mode_desc, int(r["parallel"]),
                             "auto" if int(r["threads"]) == 0 else int(r["threads"]),
                             int(r["frames"]), int(r["decoded"]), int(r["packets"]), fmt(r["wall_s"], 2), fmt(r["frames_per_s"]),
                             fmt(r["video_s_per_s"])])

    # ---- (c) vidsift runs
    runs = {}
    run_rows = []
    stage_rows = []
    for name, s in steps.items():
        if s["kind"] != "vidsift":
            continue
        db = s.get("db")
        key = (s["model"], s["mode"], s["file"])
        runs[key] = s
        if not db:
            run_rows.append([name, s["model"], s["file"], s["mode"], "no database", "", "", "", "", "", "", ""])
            continue
        fps = db["frames"] / db["wall_s"] if db["wall_s"] > 0 else 0.0
        vss = db["video_s"] / db["wall_s"] if db["wall_s"] > 0 else 0.0
        s["fps"] = fps
        s["vss"] = vss
        status = f"{db['done']}/{db['videos']} done" + (f", {db['failed']} failed" if db["failed"] else "") + \
                 (f", {db['partial']} partial" if db["partial"] else "")
        run_rows.append([s["model"].replace(".onnx", ""), s["file"], s["mode"] + (
            f" --end {db['sampling'].get('end')}" if float(db["sampling"].get("end", 0) or 0) > 0 else ""),
            db["frames"], fmt(db["video_s"], 0), fmt(db["wall_s"], 2), fmt(s["wall_s"], 2), fmt(fps),
            fmt(vss), fmt(mb(s["time"].get("max_rss_kb")), 0), fmt(s["foreign_pct"], 0), status])
        stage_rows.append([name] + [
            (f"{db['stages'][st]['total_s']:.2f} / {db['stages'][st]['mean_ms']:.2f}" if st in db["stages"] else "")
            for st in ["decode", "preprocess", "infer", "postprocess", "store"]])

    # ---- (d) naive
    naive = {}
    for m in MODELS:
        r = out1(f"naive.{m.replace('.onnx', '')}.vtest", "naive_baseline")
        if r:
            naive[m] = r

    # ---- micro
    micro_rows = []
    ms = step("micro")
    if ms:
        try:
            text = (Path(a.results) / "out" / "micro.jsonl").read_text()
            for b in json.loads(text).get("benchmarks", []):
                extra = f"{b['detections']:.0f} detections" if "detections" in b else ""
                micro_rows.append([b["name"], f"{b['real_time']:.1f} {b['time_unit']}",
                                   fmt(b.get("items_per_second")), extra])
        except (OSError, ValueError, KeyError):
            pass

    # ---- targets
    targets = []  # (id, target, measured, verdict, note)

    def verdict(ok):
        return "n/a" if ok is None else ("PASS" if ok else "MISS")

    for m in MODELS:
        s = runs.get((m, "every", "vtest"))
        c = ceiling.get(m)
        if s and s.get("db") and c:
            ratio = s["fps"] / c["images_per_s"]
            ok = ratio >= 0.95
            note = ""
            if not ok:
                inf = s["db"]["stages"].get("infer", {})
                per_net = 1000.0 / inf["mean_ms"] if inf.get("mean_ms") else 0
                note = (f"infer stage mean {inf.get('mean_ms', 0):.1f} ms/frame per net "
                        f"(= {per_net:.1f} images/s per net, {2 * per_net:.1f} for 2 nets) vs ceiling "
                        f"{c['images_per_s']:.1f} ({c['config']}); stages: {stages_line(s['db'])}")
            targets.append(("every-frame vs inference ceiling", f"{m}, vtest: >= 0.95",
                            f"{s['fps']:.1f} / {c['images_per_s']:.1f} images/s = {ratio:.2f}", verdict(ok), note))
    for m in MODELS:
        for f in H264_FILES:
            s = runs.get((m, "kf", f))
            d_all = decode.get((f, "all"))
            d_kf = decode.get((f, "kf"))
            if not (s and s.get("db") and d_all):
                continue
            ratio = s["vss"] / d_all["video_s_per_s"]
            ok = ratio >= 10
            dec_ratio = d_kf["video_s_per_s"] / d_all["video_s_per_s"] if d_kf else None
            note = f"decoder alone: keyframes {fmt(dec_ratio)}x full decode"
            c = ceiling.get(m)
            if c and s["db"]["video_s"] > 0 and s["db"]["frames"] > 0:
                kf_per_vs = s["db"]["frames"] / s["db"]["video_s"]
                bound = c["images_per_s"] / kf_per_vs
                note += (f"; inference alone caps --keyframes at {bound:.0f} video-s/s "
                         f"({kf_per_vs:.2f} key frames per video-second at {c['images_per_s']:.1f} images/s)"
                         f" = {bound / d_all['video_s_per_s']:.1f}x full decode")
            ev = runs.get((m, "every", f))
            if ev and ev.get("vss"):
                note += (f"; against `vidsift run` analysing every frame of this file ({ev['vss']:.2f} video-s/s)"
                         f" --keyframes is {s['vss'] / ev['vss']:.0f}x faster")
            if not ok:
                note += f"; stages: {stages_line(s['db'])}"
            targets.append(("--keyframes vs full decode (video-s/s)", f"{m}, {f}: >= 10x",
                            f"{s['vss']:.1f} / {d_all['video_s_per_s']:.1f} = {ratio:.1f}x", verdict(ok), note))
    for m in MODELS:
        for f in H264_FILES:
            s = runs.get((m, "fps2", f))
            # The frames that must be decoded: the decoder alone with the same
            # sampling (reference frames + sampled frames), else every frame.
            d_need = decode.get((f, "fps2")) or decode.get((f, "all"))
            c = ceiling.get(m)
            if not (s and s.get("db") and d_need and c):
                continue
            est = d_need["wall_s"] + s["db"]["frames"] / c["images_per_s"]
            ratio = s["db"]["wall_s"] / est
            ok = ratio <= 1.1
            note = (f"estimate = decode {d_need['wall_s']:.1f} s ({int(d_need['decoded'])} frames that must be "
                    f"decoded, {int(d_need['parallel'])} decoder(s)) + "
                    f"{s['db']['frames']} frames / {c['images_per_s']:.1f} images/s")
            if not ok:
                note += f"; stages: {stages_line(s['db'])}"
            targets.append(("--fps 2 wall vs decode + infer estimate", f"{m}, {f}: <= 1.1x",
                            f"{s['db']['wall_s']:.1f} s / {est:.1f} s = {ratio:.2f}", verdict(ok), note))
    for m in MODELS:
        s = runs.get((m, "every", "vtest"))
        n = naive.get(m)
        if s and s.get("db") and n:
            ratio = s["fps"] / n["frames_per_s"]
            ok = ratio >= 1.8
            note = (f"naive: {int(n['frames'])} frames, forward {n['forward_s']:.1f} s of {n['wall_s']:.1f} s, "
                    f"OpenCV threads {int(n['opencv_threads'])}")
            one_net = config_rate.get((m, "one_net_all_threads"))
            c = ceiling.get(m)
            if one_net and c:
                note += (f"; the naive loop is one net using all cores, whose forward alone gives {one_net:.1f} "
                         f"images/s; the best configuration ({c['config']}) gives {c['images_per_s']:.1f}, so no "
                         f"pipeline built on these forward passes can beat the naive loop by more than "
                         f"{c['images_per_s'] / n['frames_per_s']:.2f}x on this machine")
            if not ok:
                note += f"; vidsift stages: {stages_line(s['db'])}"
            targets.append(("vidsift vs naive baseline (every frame)", f"{m}, vtest: >= 1.8x",
                            f"{s['fps']:.1f} / {n['frames_per_s']:.1f} frames/s = {ratio:.2f}x", verdict(ok), note))
    yolox_rss = [(st["time"].get("max_rss_kb"), name) for name, st in steps.items()
                 if st["kind"] == "vidsift" and st.get("model") == "yolox_nano.onnx" and st["time"].get("max_rss_kb")]
    if yolox_rss:
        kb, name = max(yolox_rss)
        ok = mb(kb) <= 300
        targets.append(("peak RSS, yolox_nano", "every run: <= 300 MB", f"max {mb(kb):.0f} MB ({name})",
                        verdict(ok), "" if ok else stages_line(steps[name].get("db"))))

    def rss_pair(label, a_name, b_name, limit, desc):
        sa, sb = step(a_name), step(b_name)
        if not (sa and sb and sa["time"].get("max_rss_kb") and sb["time"].get("max_rss_kb")):
            return
        ra, rb = mb(sa["time"]["max_rss_kb"]), mb(sb["time"]["max_rss_kb"])
        diff = (rb - ra) / ra
        ok = abs(diff) <= limit
        note = (f"{desc}; {a_name}: {sa['db']['frames'] if sa.get('db') else '?'} frames, "
                f"{b_name}: {sb['db']['frames'] if sb.get('db') else '?'} frames")
        targets.append((label, f"within {limit * 100:.0f}%", f"{rb:.0f} MB vs {ra:.0f} MB ({diff * 100:+.1f}%)",
                        verdict(ok), note))

    rss_pair("peak RSS, 50-clip archive vs one video", "vs.yolox_nano.fps2.clip", "vs.yolox_nano.fps2.archive", 0.10,
             "yolox_nano --fps 2; one video = one 640x480 clip of the archive")
    rss_pair("peak RSS, 30-min vs 1-min video", "vs.yolox_nano.kf.long1", "vs.yolox_nano.kf.long30", 0.05,
             "yolox_nano --keyframes (so the 30-min run takes seconds, not minutes)")

    # ---- machine
    os_name = ""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu_model = sh("lscpu | sed -n 's/^Model name:[ \\t]*//p' | head -1")
    opencv = next((c.get("opencv") for c in ceiling.values() if c.get("opencv")), None) or sh(
        "pkg-config --modversion opencv4")
    av = {lib: sh(f"pkg-config --modversion {lib}") for lib in ["libavformat", "libavcodec", "libswscale"]}
    ffmpeg_ver = sh("ffmpeg -hide_banner -version | head -1")
    tbb = sh("dpkg-query -W -f='${Version}' libtbb12 2>/dev/null")
    git_rev = sh(f"git -C '{a.repo}' rev-parse --short HEAD")
    git_dirty = sh(f"git -C '{a.repo}' status --porcelain --untracked-files=no -- src include | wc -l")
    build_type = sh(f"sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' '{a.build}/CMakeCache.txt'") if a.build else ""
    foreign = [s["foreign_pct"] for s in steps.values()]
    busy_steps = [n for n, s in steps.items() if s["foreign_pct"] > 10]
    date = sh("date -u +%Y-%m-%dT%H:%M:%SZ")
    ort_md, ort_text = ort_section(ort_steps, cores, a, date,
                                   git_rev + (" + uncommitted changes in src/ include/"
                                              if git_dirty.strip() not in ("", "0") else ""))
    if ort_steps and not steps and Path(a.out).exists():
        # An ORT-only run (VIDSIFT_BENCH_ONLY='^ort\.'): rewrite that section only.
        Path(a.out).write_text(splice_ort(a.out, ort_md))
        print()
        print(ort_text)
        print()
        print(f"wrote the ONNX Runtime section of {a.out}")
        return 0

    # ---- assemble
    md = []
    md.append("# vidsift benchmark results\n")
    md.append(f"Generated by `bench/run.sh` on {date}; raw results: `{a.results}`.\n")
    md.append("## Machine\n")
    md.append(table(["", ""], [
        ["CPU", f"{cpu_model}, {cores} cores ({platform.machine()})"],
        ["RAM", f"{mem_kb / 1024 / 1024:.1f} GiB"],
        ["OS", f"{os_name}, kernel {platform.release()}"],
        ["OpenCV", f"{opencv} (dnn, CPU backend)"],
        ["FFmpeg", f"libavformat {av['libavformat']}, libavcodec {av['libavcodec']}, libswscale {av['libswscale']}"
                   f" ({ffmpeg_ver})"],
        ["oneTBB", tbb or "?"],
        ["vidsift", f"git {git_rev}" + (f" + {git_dirty.strip()} uncommitted change(s) in src/ include/"
                                        if git_dirty.strip() not in ("", "0") else "") +
         f", {build_type or '?'} build"],
        ["corpus", a.corpus or "?"],
        ["benchmark time", (f"{a.bench_seconds:.0f} s measuring" if a.bench_seconds is not None else "?") +
         (f", {a.waited_seconds:.0f} s waiting for other load to settle" if a.waited_seconds else "") +
         (f", {a.total_seconds:.0f} s in all (build, corpus check, report)" if a.total_seconds is not None else "")],
    ], ["l", "l"]))
    md.append("")
    if foreign:
        md.append(f"Other load on the machine while measuring: the rest of the system used on average "
                  f"{sum(foreign) / len(foreign):.0f}% of the CPU during a step (max {max(foreign):.0f}%). "
                  + (f"Steps with more than 10% foreign load (numbers less reliable): "
                     f"{', '.join(busy_steps)}." if busy_steps else "No step saw more than 10%.") + "\n")

    md.append("## Targets\n")
    md.append(table(["target", "threshold", "measured", "result"],
                    [[t[0], t[1], t[2], f"**{t[3]}**"] for t in targets], ["l", "l", "l", "l"]))
    md.append("")
    notes = [t for t in targets if t[4]]
    if notes:
        md.append("Notes (per-stage timings are `SELECT stage,total_s,mean_ms FROM timings WHERE video_id IS NULL`"
                  " from that run's database, total s (mean ms per frame); stages overlap in time):\n")
        for t in notes:
            md.append(f"- **{t[3]}** {t[0]} ({t[1]}): {t[4]}")
        md.append("")

    md.append("## (a) Inference ceiling: cv::dnn forward on ready-made blobs\n")
    md.append(table(["model", "input", "measured", "configuration", "nets x threads", "images/s"], infer_rows,
                    ["l", "l", "l", "l", "l", "r"]))
    md.append("\nCeiling used below = best configuration: " + ", ".join(
        f"{m} {c['images_per_s']:.1f} images/s ({c['config']})" for m, c in ceiling.items()) + ".\n")

    md.append("## (b) Decode ceiling: vidsift::Decoder, no preprocessing, no inference\n")
    md.append("Decoders = files decoded at once (vidsift's `--decoders`), threads = libavcodec threads per decoder "
              "(vidsift's `--decode-threads`, default 1). Frames out = frames the decoder returned; with keyframes "
              "only, every packet is still read but non-key packets are never decoded.\n")
    md.append(table(["file", "frames", "decoders", "threads", "frames out", "decoded", "packets", "wall s",
                     "frames out/s", "video-s/s"], dec_rows, ["l", "l", "r", "r", "r", "r", "r", "r", "r", "r"]))
    md.append("")

    md.append("## (c) `vidsift run` throughput (defaults: 2 workers x 1 thread, 2 decoders)\n")
    md.append("frames/s = `runs.frames_analysed / runs.wall_seconds` (the pipeline's wall time, excluding model "
              "load and start-up probe); process wall is the whole command. RSS from `/usr/bin/time -v`. "
              "'other load' = CPU used by the rest of the machine during the run, % of all cores.\n")
    md.append(table(["model", "file", "sampling", "frames", "video s", "wall s", "process s", "frames/s",
                     "video-s/s", "peak RSS MB", "other load %", "videos"], run_rows,
                    ["l", "l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "l"]))
    md.append("")
    md.append("Per-stage timings per run, total s / mean ms per frame:\n")
    md.append(table(["run", "decode", "preprocess", "infer", "postprocess", "store"], stage_rows))
    md.append("")

    md.append("## Where the time went\n")
    md.append("From each run's own `timings` rows (the per-run totals, `video_id IS NULL`). Stages run on "
              "different threads at once, so their busy seconds add up to more than the wall time: "
              "busy / (wall x cores) is how much of the machine the stages kept busy (above 100% means "
              "threads waited for a core, i.e. oversubscription), and infer / (wall x workers) is how "
              "busy the inference nets were, the number that bounds throughput.\n")
    acc_rows = []
    for name, s in steps.items():
        db = s.get("db") if s["kind"] == "vidsift" else None
        if not db or not db.get("stages") or db["wall_s"] <= 0:
            continue
        busy = sum(v["total_s"] for v in db["stages"].values())
        infer = db["stages"].get("infer", {}).get("total_s", 0.0)
        workers = db.get("workers") or cores
        acc_rows.append([name, fmt(db["wall_s"], 2), fmt(busy, 2), f"{100 * busy / (db['wall_s'] * cores):.0f}%",
                         fmt(infer, 2), f"{100 * infer / (db['wall_s'] * workers):.0f}%"])
    md.append(table(["run", "wall s", "stage busy s", "busy / (wall x cores)", "infer s",
                     "infer / (wall x workers)"], acc_rows))
    md.append("")

    md.append("## (d) Naive baseline: cv::VideoCapture + one cv::dnn::Net, every frame\n")
    nrows = []
    for m, n in naive.items():
        s = runs.get((m, "every", "vtest"))
        nrows.append([m, f"vtest.avi" + (f" --end {n['end']:.0f}" if n["end"] > 0 else ""), int(n["frames"]),
                      fmt(n["wall_s"], 2), fmt(n["frames_per_s"]), int(n["opencv_threads"]),
                      fmt(s["fps"]) if s and s.get("db") else "n/a",
                      fmt(s["fps"] / n["frames_per_s"], 2) if s and s.get("db") else "n/a"])
    md.append(table(["model", "input", "frames", "wall s", "frames/s", "OpenCV threads", "vidsift frames/s",
                     "speed-up"], nrows, ["l", "l", "r", "r", "r", "r", "r", "r"]))
    md.append("")

    md.append("## (e) Peak RSS\n")
    rrows = []
    for name in ["vs.yolox_nano.fps2.clip", "vs.yolox_nano.fps2.archive", "vs.yolox_nano.kf.long1",
                 "vs.yolox_nano.kf.long30", "vs.yolox_nano.every.vtest", "vs.yolov8n.every.vtest"]:
        s = step(name)
        if s and s["time"].get("max_rss_kb"):
            rrows.append([name, FILE_DESC.get(s["file"], s["file"]), s["mode"], s["db"]["frames"] if s.get("db")
                          else "?", fmt(mb(s["time"]["max_rss_kb"]), 0)])
    md.append(table(["run", "input", "sampling", "frames", "peak RSS MB"], rrows, ["l", "l", "l", "r", "r"]))
    md.append("")

    md.extend(ort_md)
    md.append("")

    if micro_rows:
        md.append("## Micro-benchmarks (Google Benchmark, bench_micro)\n")
        md.append(table(["benchmark", "time", "items/s", "note"], micro_rows, ["l", "r", "r", "l"]))
        md.append("")

    md.append("## Corpus\n")
    md.append("Built once by `bench/corpus.sh` with the ffmpeg CLI from `vtest.avi` (looped, played 3x faster so "
              "every frame is distinct; libx264 veryfast CRF 23, key frame every 60 frames = 2 s, no scene-cut "
              "key frames):\n")
    for k in ["vtest", "720p", "1080p", "archive", "long1", "long30"]:
        md.append(f"- `{k}`: {FILE_DESC[k]}")
    md.append("")

    analysis = Path(__file__).with_name("ANALYSIS.md")
    if analysis.exists():
        md.append(analysis.read_text().rstrip("\n"))
        md.append("")
    text = "\n".join(md) + "\n"
    Path(a.out).write_text(text)

    # ---- stdout: the figures and ratios
    print()
    print("Targets")
    print(text_table(["target", "threshold", "measured", "result"], [list(t[:4]) for t in targets]))
    print()
    print("(a) inference ceiling")
    print(text_table(["model", "input", "when", "config", "nets x thr", "images/s"], infer_rows))
    print()
    print("(b) decode ceiling")
    print(text_table(["file", "frames", "dec", "thr", "out", "decoded", "packets", "wall s", "out/s", "video-s/s"],
                     dec_rows))
    print()
    print("(c) vidsift run")
    print(text_table(["model", "file", "sampling", "frames", "video s", "wall s", "proc s", "frames/s", "video-s/s",
                      "RSS MB", "other %", "videos"], run_rows))
    print()
    print("(d) naive baseline")
    print(text_table(["model", "input", "frames", "wall s", "frames/s", "cv thr", "vidsift f/s", "speed-up"], nrows))
    print()
    if ort_text:
        print(ort_text)
        print()
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
