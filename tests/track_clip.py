#!/usr/bin/python3
"""Ground-truth clips for --track (tests/test_track_truth.cpp, bench/track_truth.sh).

  track_clip.py make OUT.mp4 VTEST.AVI   builds the clip with the ffmpeg CLI
  track_clip.py metrics DB [MIN_FRAMES]  scores the tracks of the clip's video in DB, prints JSON

The clip (960x540, 25 fps, 8 s, grey background) holds crops of four real
people cut from vtest.avi, moving along known paths:
  p1  walks left -> right in the upper lane;
  p2  walks right -> left in the same lane, drawn over p1: their paths cross
      at t = 4 s and p1 is hidden behind p2 for a few frames (not counted as
      visible while p2 covers more than half of it);
  p3  walks, stands still from t = 2 s to t = 5 s, walks on (middle lane);
  p4  walks out of the right edge (less than half visible from t = 2.2 s)
      and comes back in (half visible again at t = 5.6 s, lower lane). Without re-identification this is two
      appearances, so the truth is 5 appearances ("unique objects").

Metrics (person detections only; a detection belongs to the appearance
whose box, clipped to the frame, contains its centre, the nearest centre
first; detections inside no appearance are "unmatched"):
  unique       tracks with at least MIN_FRAMES analysed frames (default 3)
  truth        appearances (5)
  id_switches  frames where an appearance's matched track id differs from
               the id it had the last time it was matched (CLEAR-MOT style)
  fragmented   appearances covered by more than one track id (sum of
               ids - 1 over appearances)
  merged       tracks that matched more than one appearance
  coverage     matched appearance-frames / appearance-frames visible
"""
import json
import math
import sqlite3
import subprocess
import sys

W, H, FPS, DUR = 960, 540, 25, 8.0

# name: (vtest time s, crop w:h:x:y, scaled w, scaled h)
CROPS = {
    "p1": (0.0, "50:106:243:211", 75, 159),
    "p2": (0.0, "60:102:633:230", 88, 150),
    "p3": (2.0, "50:126:677:262", 68, 170),
    "p4": (2.0, "54:104:432:221", 80, 154),
}


def pos(name, t):
    """Top-left corner of a person at time t (the ffmpeg expressions below say the same)."""
    if name == "p1":
        return 30 + 100 * t, 20
    if name == "p2":
        return 840 - 100 * t, 32
    if name == "p3":
        return 80 + 100 * min(t, 2) + 100 * max(0.0, t - 5), 200
    if name == "p4":
        return (650 + 120 * t if t < 4 else 990 - 120 * (t - 5)), 375
    raise KeyError(name)


XEXPR = {
    "p1": "30+100*t",
    "p2": "840-100*t",
    "p3": "80+100*min(t\\,2)+100*max(0\\,t-5)",
    "p4": "if(lt(t\\,4)\\,650+120*t\\,990-120*(t-5))",
}


def appearance(name, t):
    """Which appearance of `name` is on screen at t (p4 has two), or None."""
    x, y = pos(name, t)
    w, h = CROPS[name][2], CROPS[name][3]
    x0, x1 = max(0.0, x), min(float(W), x + w)
    if x1 - x0 < 0.5 * w:  # less than half the person in frame: not counted
        return None
    if name == "p4":
        return "p4a" if t < 4 else "p4b"
    return name


def hidden(name, t):
    """p1 is drawn under p2: hidden when p2 covers more than half of it."""
    if name != "p1":
        return False
    ax0, ay0, ax1, ay1 = truth_box("p1", t)
    bx0, by0, bx1, by1 = truth_box("p2", t)
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    return inter > 0.5 * (ax1 - ax0) * (ay1 - ay0)


def truth_box(name, t):
    x, y = pos(name, t)
    w, h = CROPS[name][2], CROPS[name][3]
    return max(0.0, x), y, min(float(W), x + w), y + h


def make(out, vtest):
    tmp = out + ".crops"
    import os
    os.makedirs(tmp, exist_ok=True)
    inputs = []
    for name, (ts, crop, sw, sh) in CROPS.items():
        png = f"{tmp}/{name}.png"
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-ss", str(ts), "-i", vtest, "-frames:v", "1",
                        "-vf", f"crop={crop},scale={sw}:{sh}", png], check=True)
        inputs += ["-loop", "1", "-framerate", str(FPS), "-i", png]
    # A plain grey background (a blurred vtest frame made the detector see
    # kites and skis in the dark-clothed people).
    inputs = ["-f", "lavfi", "-i", f"color=c=0x808080:s={W}x{H}:r={FPS}:d={DUR}"] + inputs
    chain = "[0:v]null[bg0];"
    # Drawing order: p1 first, p2 over it (the crossing hides p1), then p3, p4.
    prev = "bg0"
    for i, name in enumerate(["p1", "p2", "p3", "p4"]):
        y = int(pos(name, 0)[1])
        chain += f"[{prev}][{i + 1}:v]overlay=x='{XEXPR[name]}':y={y}:eval=frame:shortest=1[bg{i + 1}];"
        prev = f"bg{i + 1}"
    chain = chain.rstrip(";")
    cmd = (["ffmpeg", "-y", "-loglevel", "error"] + inputs +
           ["-filter_complex", chain, "-map", f"[{prev}]", "-t", str(DUR), "-r", str(FPS), "-c:v", "libx264",
            "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", out])
    subprocess.run(cmd, check=True)


def metrics(db, min_frames=3):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT d.frame_index, d.ts, d.x, d.y, d.w, d.h, d.track_id FROM detections d "
        "JOIN finished_videos v ON v.id = d.video_id WHERE d.label = 'person' ORDER BY d.frame_index, d.id").fetchall()
    frames = [r[0] for r in con.execute(
        "SELECT f.frame_index, f.ts FROM frames f JOIN finished_videos v ON v.id = f.video_id")]
    ts_of = dict(con.execute("SELECT f.frame_index, f.ts FROM frames f JOIN finished_videos v ON v.id = f.video_id"))
    unique = con.execute("SELECT COUNT(*) FROM tracks t JOIN finished_videos v ON v.id = t.video_id "
                         "WHERE t.label = 'person' AND t.frames >= ?", (min_frames,)).fetchone()[0]
    tracks_all = con.execute("SELECT COUNT(*) FROM tracks t JOIN finished_videos v ON v.id = t.video_id "
                             "WHERE t.label = 'person'").fetchone()[0]
    by_frame = {}
    for r in rows:
        by_frame.setdefault(r[0], []).append(r)
    last_id = {}
    ids_of = {}
    apps_of_track = {}
    switches = 0
    visible = 0
    matched = 0
    unmatched = 0
    null_ids = 0
    for f in sorted(frames):
        t = ts_of[f]
        boxes = {}
        for name in CROPS:
            a = appearance(name, t)
            if a and not hidden(name, t):
                boxes[a] = truth_box(name, t)
        visible += len(boxes)
        taken = set()
        for r in by_frame.get(f, []):
            cx, cy = r[2] + r[4] / 2, r[3] + r[5] / 2
            best, bd = None, None
            for a, (x0, y0, x1, y1) in boxes.items():
                if a in taken or not (x0 <= cx <= x1 and y0 <= cy <= y1):
                    continue
                d = math.hypot(cx - (x0 + x1) / 2, cy - (y0 + y1) / 2)
                if bd is None or d < bd:
                    best, bd = a, d
            if best is None:
                unmatched += 1
                continue
            taken.add(best)
            matched += 1
            tid = r[6]
            if tid is None:
                null_ids += 1
                continue
            if best in last_id and last_id[best] != tid:
                switches += 1
            last_id[best] = tid
            ids_of.setdefault(best, set()).add(tid)
            apps_of_track.setdefault(tid, set()).add(best)
    fragmented = sum(len(s) - 1 for s in ids_of.values())
    merged = sum(1 for s in apps_of_track.values() if len(s) > 1)
    return {
        "truth": 5, "unique": unique, "tracks": tracks_all, "id_switches": switches, "fragmented": fragmented,
        "merged": merged, "coverage": round(matched / visible, 3) if visible else 0, "unmatched_detections": unmatched,
        "detections_without_track": null_ids, "frames": len(frames), "appearances_seen": len(ids_of),
    }


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "metrics":
        print(json.dumps(metrics(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3), sort_keys=True))
    else:
        sys.exit(__doc__)
