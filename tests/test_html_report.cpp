// `vidsift report --html` (src/cli/report_html.cpp, report_thumbs.cpp): the
// page's contents, escaping, scope filters, the top-N rule on a 1,000-video
// database, tracks and recorded_at when the database has them. Real runs on
// a clip cut from vtest.avi; larger databases are made from a real one with
// SQL. The page in a browser: tests/browser_report.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "report_html.h"
#include "test_util.h"
#include "vidsift/store.h"
#include "vidsift/utf8.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

CommandResult run_vidsift(const std::string& args) {
  return run_command(sh_quote(vidsift_binary()) + " " + args + " --progress=false");
}

CommandResult sqlite(const fs::path& db, const std::string& sql) {
  const fs::path script = db.string() + ".sql";
  std::ofstream(script) << sql;
  return run_command("sqlite3 " + sh_quote(db.string()) + " < " + sh_quote(script.string()));
}

// One real run on 12 s of vtest.avi (12 frames analysed), shared by the tests.
class HtmlReport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("html-report");
    clip_ = clip_cache_dir() / "html_report_people.mp4";
    ASSERT_TRUE(make_clip(clip_, "-ss 10 -i " + sh_quote(video_path("vtest.avi").string()) +
                                     " -t 12 -c:v libx264 -preset veryfast -g 10 -pix_fmt yuv420p"));
    db_ = *dir_ / "base.db";
    const auto r = run_vidsift("run " + sh_quote(clip_.string()) + " --db " + sh_quote(db_.string()) + " --model " +
                               sh_quote(model_path("yolox_nano.onnx").string()) + " --every 10 -q");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // A copy of the base database to change.
  static fs::path copy_db(const std::string& name) {
    const fs::path p = *dir_ / name;
    fs::remove(p);
    run_command("sqlite3 " + sh_quote(db_.string()) + " \".backup " + p.string() + "\"");
    return p;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline fs::path clip_;
  static inline fs::path db_;
};

}  // namespace

TEST(HtmlEscape, EscapesMarkupAndRepairsBytes) {
  using vidsift::cli::html_escape;
  EXPECT_EQ(html_escape("<script>a&b</script>"), "&lt;script&gt;a&amp;b&lt;/script&gt;");
  EXPECT_EQ(html_escape("\"'"), "&quot;&#39;");
  EXPECT_EQ(html_escape("caf\xC3\xA9"), "caf\xC3\xA9");
  // Invalid UTF-8 is repaired (as to_utf8 does) and never passed on.
  const std::string repaired = html_escape("a\xFF<b");
  EXPECT_TRUE(vidsift::is_utf8(repaired)) << repaired;
  EXPECT_EQ(repaired.find('\xFF'), std::string::npos) << repaired;
  EXPECT_EQ(repaired.find('<'), std::string::npos) << repaired;
  EXPECT_EQ(html_escape("a\x01"
                        "b\tc"),
            "a\xEF\xBF\xBD"
            "b\tc");  // control character
}

TEST_F(HtmlReport, PageHoldsTheReportsNumbersAndNoExternalReference) {
  const fs::path page = *dir_ / "base.html";
  const auto r = run_vidsift("report " + sh_quote(db_.string()) + " --html " + sh_quote(page.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "wrote " + page.string())) << r.output;
  EXPECT_FALSE(fs::exists(page.string() + ".part"));
  const std::string html = read(page);
  const long long dets = query_int(db_, "SELECT COUNT(*) FROM detections");
  ASSERT_GT(dets, 0);
  EXPECT_TRUE(has(html, "id=\"total-detections\" data-value=\"" + std::to_string(dets) + "\"")) << html;
  EXPECT_TRUE(has(html, "id=\"total-frames\" data-value=\"12\""));
  // The same numbers as the text report.
  EXPECT_TRUE(has(r.output, "frames analysed 12, detections " + std::to_string(dets))) << r.output;
  for (const auto& row : query_db(db_, "SELECT label, COUNT(*) FROM detections GROUP BY label"))
    EXPECT_TRUE(has(html, "data-label=\"" + row[0] + "\" data-count=\"" + row[1] + "\"")) << row[0];
  // Self-contained: a CSP that forbids every fetch, no script, no URL.
  EXPECT_TRUE(has(html, "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\""));
  EXPECT_FALSE(has(html, "<script"));
  EXPECT_FALSE(has(html, "http://"));
  EXPECT_FALSE(has(html, "https://"));
  EXPECT_FALSE(has(html, "src=\"file"));
  // One timeline (one minute: one bar per label), the timings, the rule.
  EXPECT_EQ(count(html, "<svg class=\"timeline\""), 1u);
  EXPECT_EQ(count(html, "<rect class=\"bar\""),
            static_cast<std::size_t>(query_int(db_, "SELECT COUNT(DISTINCT label) FROM detections")));
  EXPECT_EQ(count(html, "class=\"timing-row\""),
            static_cast<std::size_t>(query_int(db_, "SELECT COUNT(*) FROM timings WHERE video_id IS NULL")));
  EXPECT_TRUE(has(html, "Timelines and thumbnails for 1 of 1 videos")) << html;
  // Thumbnails: JPEG data URIs decoded from the clip.
  EXPECT_GE(count(html, "<img class=\"thumb\""), 1u);
  EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,/9j/"), count(html, "<img class=\"thumb\""));
  EXPECT_FALSE(has(html, "source not available"));
}

TEST_F(HtmlReport, HostileNamesAndErrorsAreEscaped) {
  const fs::path db = copy_db("hostile.db");
  const std::string name = "/tmp/<script>alert(1)</script>\"><img src=x onerror=alert(2)>.mp4";
  ASSERT_EQ(sqlite(db,
                   "INSERT INTO videos (run_id, path, path_bytes, status, error, warning, settings_key) VALUES "
                   "(1, '" +
                       name + "', CAST('" + name +
                       "' AS BLOB), 'failed', "
                       "'</td><script>alert(3)</script>', '<b>warn</b>', (SELECT settings_key FROM videos LIMIT 1));")
                .status,
            0);
  const fs::path page = *dir_ / "hostile.html";
  const auto r = run_vidsift("report " + sh_quote(db.string()) + " --html " + sh_quote(page.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string html = read(page);
  EXPECT_FALSE(has(html, "<script")) << html;
  EXPECT_FALSE(has(html, "<img src=x"));
  EXPECT_FALSE(has(html, "<b>warn"));
  EXPECT_TRUE(has(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;.mp4"));
  EXPECT_TRUE(has(html, "&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;"));
  EXPECT_TRUE(has(html, "data-status=\"failed\""));
}

TEST_F(HtmlReport, ThumbnailerFailuresBecomeText) {
  // Through the unit: a thumbnailer that throws or has no picture, with a
  // reason that is itself hostile.
  vidsift::Store store(db_.string(), 1000, vidsift::OpenMode::ReadOnly);
  std::ostringstream page;
  int calls = 0;
  const vidsift::cli::Thumbnailer thumbs = [&](const vidsift::cli::ThumbRequest& q) -> vidsift::cli::ThumbResult {
    EXPECT_GT(q.w, 0);
    EXPECT_EQ(q.path, fs::absolute(clip_).lexically_normal().string());
    if (++calls == 1) throw std::runtime_error("decoder <exploded>");
    return {"", "moved to <nowhere>"};
  };
  EXPECT_TRUE(vidsift::cli::write_html_report(store, {}, {20, 2}, thumbs, page));
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(has(page.str(), "source not available: decoder &lt;exploded&gt;"));
  EXPECT_TRUE(has(page.str(), "source not available: moved to &lt;nowhere&gt;"));
}

TEST_F(HtmlReport, ScopeFiltersApply) {
  const fs::path page = *dir_ / "scope.html";
  auto r = run_vidsift("report " + sh_quote(db_.string()) + " --run 7 --html " + sh_quote(page.string()));
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_TRUE(has(read(page), "There is no run 7 in this database."));
  r = run_vidsift("report " + sh_quote(db_.string()) + " --video /nowhere.mp4 --html " + sh_quote(page.string()));
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_TRUE(has(read(page), "id=\"total-videos\" data-value=\"0\""));
  r = run_vidsift("report " + sh_quote(db_.string()) + " --video " + sh_quote(clip_.string()) + " --since 2000-01-01 " +
                  "--html " + sh_quote(page.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(read(page), "id=\"total-videos\" data-value=\"1\""));
  r = run_vidsift("report " + sh_quote(db_.string()) + " --until 2000-01-01 --html " + sh_quote(page.string()));
  EXPECT_EQ(r.status, 4) << r.output;
  // An unwritable place: a clear message, exit 3, no page.
  r = run_vidsift("report " + sh_quote(db_.string()) + " --html /nonexistent-dir/x.html");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_TRUE(has(r.output, "cannot write /nonexistent-dir/x.html")) << r.output;
  // The options belong to report.
  r = run_vidsift("run x.mp4 --html x.html");
  EXPECT_EQ(r.status, 2) << r.output;
}

// A 1,000-video database (rows copied from the real one with SQL; every path
// a symlink to the clip, so thumbnails decode): the page names its top-N
// rule, details only N videos and stays small; a long video's timeline is
// binned; a deleted source shows "source not available"; the tracks table
// and recorded_at column are used when they exist.
TEST_F(HtmlReport, ThousandVideosGiveABoundedPage) {
  const fs::path db = copy_db("thousand.db");
  const fs::path videos = *dir_ / "many";
  fs::create_directories(videos);
  for (int i = 1; i < 1000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "v%04d.mp4", i);
    std::error_code ec;
    fs::create_symlink(clip_, videos / name, ec);
  }
  const std::string dir = videos.string();
  const std::string sql =
      "BEGIN;"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<999) "
      "INSERT INTO videos (id, run_id, path, path_bytes, size, mtime, fingerprint, settings_key, codec, width, "
      "height, fps, duration, frame_count, frames_analysed, status, started_at, finished_at, stream_index) "
      "SELECT 1+i, run_id, '" +
      dir + "/' || printf('v%04d.mp4', i), CAST('" + dir +
      "/' || printf('v%04d.mp4', i) AS BLOB), size, mtime, fingerprint, settings_key, codec, width, height, fps, "
      "duration, frame_count, frames_analysed, status, started_at, finished_at, stream_index FROM videos, n WHERE "
      "id=1;"
      "INSERT INTO frames SELECT v.id, f.frame_index, f.ts, f.detections FROM frames f, videos v WHERE f.video_id=1 "
      "AND v.id>1;"
      "INSERT INTO detections (video_id, frame_index, ts, class_id, label, confidence, x, y, w, h) SELECT v.id, "
      "d.frame_index, d.ts, d.class_id, d.label, d.confidence, d.x, d.y, d.w, d.h FROM detections d, videos v "
      "WHERE d.video_id=1 AND v.id>1 AND (d.id + v.id) % 5 <> 0 AND (v.id % 10 <> 0 OR d.id % 2 = 0);"
      // Some failed videos with hostile errors.
      "UPDATE videos SET status='failed', error='<i>cannot decode</i>', frames_analysed=0 WHERE id % 97 = 3;"
      "DELETE FROM detections WHERE video_id IN (SELECT id FROM videos WHERE status='failed');"
      // Video 2 lasts 5 hours: 300 minutes, one frame and one detection each.
      "WITH RECURSIVE m(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM m WHERE i<299) "
      "INSERT INTO frames SELECT 2, 100000+i, 60.0*i+1, 1 FROM m;"
      "WITH RECURSIVE m(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM m WHERE i<299) "
      "INSERT INTO detections (video_id, frame_index, ts, class_id, label, confidence, x, y, w, h) SELECT 2, "
      "100000+i, 60.0*i+1, 2, 'car', 0.5, 10, 10, 50, 40 FROM m;"
      "UPDATE videos SET recorded_at='2026-01-02T03:04:05Z' WHERE id=2;"
      "COMMIT;";
  const auto s = sqlite(db, sql);
  ASSERT_EQ(s.status, 0) << s.output;
  ASSERT_EQ(query_int(db, "SELECT COUNT(*) FROM videos"), 1000);
  // Video 2 now has the most detections; its source is deleted.
  fs::remove(videos / "v0001.mp4");

  const fs::path page = *dir_ / "thousand.html";
  auto r = run_vidsift("report " + sh_quote(db.string()) + " --html " + sh_quote(page.string()) + " --html-top 25");
  ASSERT_EQ(r.status, 0) << r.output;
  std::string html = read(page);
  EXPECT_LT(html.size(), 2u * 1024 * 1024) << html.size();
  EXPECT_TRUE(has(html,
                  "Timelines and thumbnails for 25 of 1,000 videos: the ones with the most detections, "
                  "sorted by detections"))
      << html.substr(0, 2000);
  EXPECT_EQ(count(html, "<svg class=\"timeline\""), 25u);
  EXPECT_EQ(count(html, "<tr class=\"video-row\""), 1000u);
  EXPECT_TRUE(has(html, "id=\"total-videos\" data-value=\"1000\""));
  EXPECT_TRUE(has(html, "&lt;i&gt;cannot decode&lt;/i&gt;"));
  EXPECT_FALSE(has(html, "<i>"));
  // The long video: 300 minutes in bars of 3 minutes, its deleted source.
  const auto at = html.find("<svg class=\"timeline\" data-video-id=\"2\"");
  ASSERT_NE(at, std::string::npos);
  const std::string svg = html.substr(at, html.find("</svg>", at) - at);
  EXPECT_TRUE(has(svg, "data-bin-minutes=\"3\"")) << svg.substr(0, 300);
  EXPECT_LE(count(svg, "<rect class=\"bar\""), 120u * 7);
  EXPECT_TRUE(has(svg, "data-label=\"car\" data-minute=\"3\" data-count=\"3\"")) << svg.substr(0, 3000);
  const std::string block = html.substr(at, html.find("</div>\n</div>", at) - at);
  EXPECT_TRUE(has(block, "source not available")) << block;
  EXPECT_TRUE(has(html, "<th>recorded at (UTC)</th>"));
  EXPECT_TRUE(has(html, "<td>2026-01-02T03:04:05Z</td>"));
  // The others decode from their (symlinked) source: 24 videos x 3 labels.
  EXPECT_GE(count(html, "<img class=\"thumb\""), 24u * 2);

  // With a tracks table (issue 12's agreed schema), thumbnails show tracks.
  ASSERT_EQ(sqlite(db,
                   "INSERT INTO tracks SELECT 4, id, label, class_id, frame_index, frame_index, ts, ts+4, 7 + id % "
                   "3, confidence, confidence, frame_index, ts, x, y, w, h FROM detections WHERE video_id=4;")
                .status,
            0);
  r = run_vidsift("report " + sh_quote(db.string()) + " --video " + sh_quote((videos / "v0003.mp4").string()) +
                  " --html " + sh_quote(page.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  html = read(page);
  EXPECT_TRUE(has(html, "Timelines and thumbnails for 1 of 1 videos")) << html.substr(0, 3000);
  const auto v3 = html.find("<div class=\"video\" id=\"video-4\"");
  ASSERT_NE(v3, std::string::npos);
  const std::string b3 = html.substr(v3, html.find("<div class=\"video\"", v3 + 10) - v3);
  EXPECT_EQ(count(b3, "<figcaption>track "), 3u) << b3;
  EXPECT_EQ(count(b3, "<img class=\"thumb\""), 3u) << b3;
}
