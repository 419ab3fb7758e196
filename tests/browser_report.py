#!/usr/bin/python3
"""The page of `vidsift report --html`, opened in Debian's headless Chromium.

Makes a real database with a real run (clips cut from vtest.avi with the
ffmpeg CLI, model yolox_nano), writes the page, opens it with selenium +
chromedriver and checks that:
  * it loads with no console message at all (a Content-Security-Policy
    violation, i.e. any attempt to fetch something, is one), and the
    browser made no request but the page itself;
  * a screenshot is not blank (pixel variance);
  * the numbers in the page (data- attributes) equal the same SQL queries run
    here with sqlite3: totals, per-label counts, per-video status, frames and
    detections, the stage timings, and each timeline bar against the
    per_minute_label_counts view (one bar per non-zero minute and label);
  * the thumbnails are JPEG pictures the browser decoded, and the video whose
    source was deleted shows "source not available" instead;
  * a hostile file name is shown as text, never as markup.

Usage: browser_report.py --vidsift BIN --shared DIR --tmp DIR
Exit 0 pass, 1 fail, 77 skipped (only when VIDSIFT_SKIP_BROWSER=1 and
chromium or chromedriver is missing: CI installs them with scripts/setup.sh,
so there a missing browser is a failure).
"""

import argparse
import base64
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse

SKIP = 77
HOSTILE = "x<b>bold&amp;'\"y.mp4"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        fail("command failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stdout))
    return r.stdout


def browser_available():
    missing = [b for b in ("chromium", "chromedriver") if shutil.which(b) is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python3-selenium")
    try:
        import PIL  # noqa: F401
    except ImportError:
        missing.append("python3-pil")
    return missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vidsift", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--tmp", required=True)
    a = ap.parse_args()

    missing = browser_available()
    if missing:
        msg = "missing %s (scripts/setup.sh installs chromium, chromium-driver, python3-selenium, python3-pil)" % (
            ", ".join(missing))
        if os.environ.get("VIDSIFT_SKIP_BROWSER") == "1":
            print("SKIP (VIDSIFT_SKIP_BROWSER=1): " + msg)
            sys.exit(SKIP)
        fail(msg)

    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    shutil.rmtree(a.tmp, ignore_errors=True)
    os.makedirs(a.tmp)
    clip = os.path.join(a.tmp, "people.mp4")
    hostile = os.path.join(a.tmp, HOSTILE)
    db = os.path.join(a.tmp, "report.db")
    page = os.path.join(a.tmp, "report.html")
    src = os.path.join(a.shared, "videos", "vtest.avi")
    model = os.path.join(a.shared, "models", "yolox_nano.onnx")
    # 70 s: two minutes on the timeline. The second clip is deleted after
    # the run: its thumbnails must say "source not available".
    run(["ffmpeg", "-y", "-loglevel", "error", "-i", src, "-t", "70", "-c:v", "libx264", "-preset", "veryfast", "-g",
         "20", clip])
    run(["ffmpeg", "-y", "-loglevel", "error", "-ss", "20", "-i", src, "-t", "6", "-c:v", "libx264", "-preset",
         "veryfast", "-g", "10", hostile])
    run([a.vidsift, "run", clip, hostile, "--db", db, "--model", model, "--every", "20", "-q"])
    os.remove(hostile)
    run([a.vidsift, "report", db, "--html", page, "--html-thumbs", "3"])
    check(os.path.getsize(page) > 0, "empty page")
    html = open(page, encoding="utf-8").read()
    check("Content-Security-Policy" in html, "no CSP meta tag")
    check("<b>bold" not in html, "the hostile file name reached the page unescaped")

    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    q = lambda sql, *p: con.execute(sql, p).fetchall()  # noqa: E731

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2400"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        driver.get("file://" + urllib.parse.quote(page))
        check(driver.title.startswith("vidsift report"), "title: %r" % driver.title)

        # No console message at all (errors, CSP violations, warnings).
        logs = driver.get_log("browser")
        check(not logs, "console messages: %s" % logs)
        # No request but the page itself.
        urls = []
        for entry in driver.get_log("performance"):
            m = json.loads(entry["message"])["message"]
            if m.get("method") == "Network.requestWillBeSent":
                urls.append(m["params"]["request"]["url"])
        others = [u for u in urls if not u.startswith("file://") and not u.startswith("data:")]
        check(not others, "the page made network requests: %s" % others)
        files = [u for u in urls if u.startswith("file://")]
        check(len(files) == 1, "the page loaded other files: %s" % files)
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        check(not [r for r in resources if not r.startswith("data:")], "resources fetched: %s" % resources)

        # A screenshot that is not blank.
        shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L")
        px = list(shot.getdata())
        mean = sum(px) / len(px)
        var = sum((p - mean) ** 2 for p in px[::7]) / len(px[::7])
        check(var > 100, "screenshot looks blank (variance %.1f)" % var)
        shot.save(os.path.join(a.tmp, "screenshot.png"))

        def attr(css, name):
            return driver.find_element(By.CSS_SELECTOR, css).get_attribute(name)

        # Totals (one run, every row current).
        total_det = q("SELECT COUNT(*) FROM detections")[0][0]
        check(total_det > 0, "the run found nothing")
        check(int(attr("#total-detections", "data-value")) == total_det, "total detections")
        check(int(attr("#total-frames", "data-value")) == q("SELECT SUM(frames_analysed) FROM videos")[0][0],
              "total frames")
        check(int(attr("#total-videos", "data-value")) == q("SELECT COUNT(*) FROM videos")[0][0], "total videos")
        check(driver.find_element(By.ID, "total-detections").text == "{:,}".format(total_det),
              "shown total %r" % driver.find_element(By.ID, "total-detections").text)
        labels = {e.get_attribute("data-label"): int(e.get_attribute("data-count"))
                  for e in driver.find_elements(By.CSS_SELECTOR, "tr.label-row")}
        check(labels == dict(q("SELECT label, COUNT(*) FROM detections GROUP BY label")),
              "label counts %s" % labels)

        # Videos: status, frames, detections; the hostile name as text.
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.video-row")
        want = {str(i): (s, f, d) for i, s, f, d in q(
            "SELECT id, status, frames_analysed, (SELECT COUNT(*) FROM detections WHERE video_id=v.id) FROM videos v")}
        got = {r.get_attribute("data-video-id"): (r.get_attribute("data-status"), int(r.get_attribute("data-frames")),
                                                  int(r.get_attribute("data-detections"))) for r in rows}
        check(got == want, "videos: %s != %s" % (got, want))
        texts = [r.find_element(By.CSS_SELECTOR, "td.path").text for r in rows]
        check(any(t.endswith(HOSTILE) for t in texts), "hostile name not shown as text: %s" % texts)
        check(not driver.find_elements(By.CSS_SELECTOR, "#videos-table b"), "markup from a file name")

        # Stage timings.
        timing = {(e.get_attribute("data-stage")): float(e.get_attribute("data-total-s"))
                  for e in driver.find_elements(By.CSS_SELECTOR, "tr.timing-row")}
        check(timing == dict(q("SELECT stage, total_s FROM timings WHERE run_id=1 AND video_id IS NULL")),
              "timings %s" % timing)
        check(len(driver.find_elements(By.CSS_SELECTOR, "rect.stage-bar")) == len(timing), "stage bar segments")

        # Timelines: every bar against the view; one bar per non-zero minute
        # and label (the clips have at most 6 labels each: none is "other").
        svgs = driver.find_elements(By.CSS_SELECTOR, "svg.timeline")
        check(len(svgs) == 2, "timelines: %d" % len(svgs))
        for svg in svgs:
            vid = int(svg.get_attribute("data-video-id"))
            check(svg.get_attribute("data-bin-minutes") == "1", "bins")
            bars = {(e.get_attribute("data-label"), int(e.get_attribute("data-minute"))): int(
                e.get_attribute("data-count")) for e in svg.find_elements(By.CSS_SELECTOR, "rect.bar")}
            view = {(l, m): n for l, m, n in q(
                "SELECT label, minute, detections FROM per_minute_label_counts WHERE video_id=? AND detections>0",
                vid)}
            check(len(q("SELECT DISTINCT label FROM detections WHERE video_id=?", vid)) <= 6, "too many labels")
            check(bars == view, "video %d timeline %s != view %s" % (vid, bars, view))
            check(len(svg.find_elements(By.CSS_SELECTOR, "rect.bar")) == len(view), "bar count")
            height = sum(float(e.get_attribute("height")) for e in svg.find_elements(By.CSS_SELECTOR, "rect.bar"))
            check(height > 0, "bars without height")
        person = {m: n for (l, m), n in bars.items() if l == "person"}
        check(person, "no person minute in the last timeline")

        # Thumbnails: JPEG data the browser decoded; the deleted source says so.
        imgs = driver.find_elements(By.CSS_SELECTOR, "img.thumb")
        clip_id = q("SELECT id FROM videos WHERE path=?", os.path.realpath(clip))[0][0]
        n_labels = min(3, q("SELECT COUNT(DISTINCT label) FROM detections WHERE video_id=?", clip_id)[0][0])
        check(len(imgs) == n_labels, "thumbnails: %d, want %d" % (len(imgs), n_labels))
        for img in imgs:
            s = img.get_attribute("src")
            check(s.startswith("data:image/jpeg;base64,"), "thumbnail is not a JPEG data URI")
            data = base64.b64decode(s.split(",", 1)[1])
            check(data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9", "not a JPEG stream")
            pic = Image.open(io.BytesIO(data))
            check(pic.format == "JPEG" and pic.width > 0, "PIL cannot read the thumbnail")
            check(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == pic.width,
                  "the browser did not decode the thumbnail")
        missing = driver.find_elements(By.CSS_SELECTOR, "#video-%d .thumb-missing" % q(
            "SELECT id FROM videos WHERE id<>?", clip_id)[0][0])
        check(missing and all("source not available" in m.text for m in missing),
              "deleted source: %s" % [m.text for m in missing])
        check(not driver.find_elements(By.CSS_SELECTOR, "#video-%d .thumb-missing" % clip_id),
              "the present source has a missing thumbnail")
        rule = driver.find_element(By.ID, "top-rule")
        check(rule.get_attribute("data-shown") == "2", "top rule")
    finally:
        driver.quit()
    print("PASS: page %d bytes, %d detections, %d thumbnails, %d timeline bars" % (
        os.path.getsize(page), total_det, len(imgs), len(html.split('<rect class="bar"')) - 1))


if __name__ == "__main__":
    main()
