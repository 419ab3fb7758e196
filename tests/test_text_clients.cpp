// A database that holds file names and messages that are not UTF-8
// is read by Python's sqlite3 module (a strict UTF-8 reader, like pandas and
// JSON exports): every table and view, SELECT *. The exact bytes of a name
// are in videos.path_bytes, and the escaped text decodes back to them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

// argv: database. Prints one JSON object.
constexpr const char* kReader = R"PY(
import json, re, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
out = {"read": {}, "errors": [], "paths": [], "warnings": [], "commands": []}
def unescape(text):
    # vidsift's escaping of text that was not UTF-8: \xHH is the byte HH, \\ a backslash.
    return re.sub(rb"\\(\\|x([0-9a-fA-F]{2}))",
                  lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(2), 16)]), text.encode("utf-8"))
def is_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"):
    try:
        out["read"][name] = len(con.execute('SELECT * FROM "%s"' % name).fetchall())
    except Exception as e:
        out["errors"].append("%s: %s" % (name, e))
for path, raw in con.execute("SELECT path, path_bytes FROM videos ORDER BY id"):
    back = path.encode("utf-8") if is_utf8(raw) else unescape(path)
    out["paths"].append({"hex": raw.hex(), "decodes": back == raw})
for (w,) in con.execute("SELECT warning FROM videos WHERE warning IS NOT NULL"):
    out["warnings"].append(unescape(w).hex())
for (c,) in con.execute("SELECT command FROM runs"):
    out["commands"].append(unescape(c).hex())
print(json.dumps(out))
)PY";

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

nlohmann::json read_with_python(const fs::path& dir, const fs::path& db) {
  const fs::path script = dir / "reader.py";
  std::ofstream(script) << kReader;
  const auto r = run_command("/usr/bin/python3 " + sh_quote(script.string()) + " " + sh_quote(db.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  return nlohmann::json::parse(r.output, nullptr, false);
}

}  // namespace

TEST(TextClients, PythonReadsEveryTableAndViewOfADatabaseWithNonUtf8Names) {
  TempDir d("text-clients");
  const fs::path in = d / "in";
  fs::create_directories(in);
  // Latin-1 names (one with a backslash, one matching the pattern, whose
  // pattern is Latin-1 too) and a corrupt file.
  const std::string latin = (in / "caf\xe9 \\ cam.mp4").string();
  const std::string named = (in / "caf\xe9_20261125_221403.mp4").string();
  const std::string bad = (in / "bad\xff.mp4").string();
  ASSERT_TRUE(make_clip(latin, "-t 1 -i " + sh_quote(video_path("vtest.avi").string()) +
                                   " -map_metadata -1 -c:v libx264 -preset ultrafast -pix_fmt yuv420p"));
  fs::copy_file(latin, named);
  std::ofstream(bad) << "this is not a video \xff\xfe";
  const std::string pattern = "caf\xe9_%Y%m%d_%H%M%S.mp4";
  const fs::path db = d / "t.db";
  const std::string cmd = sh_quote(vidsift_binary()) + " run " + sh_quote(in.string()) + " --db " +
                          sh_quote(db.string()) + " --model " + sh_quote(model_path("yolox_nano.onnx").string()) +
                          " --every 5 --progress=false --time-from-name " + sh_quote(pattern);
  auto r = run_command(cmd);
  ASSERT_EQ(r.status, 1) << r.output;  // the corrupt file failed

  const auto j = read_with_python(d.path(), db);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["errors"], nlohmann::json::array());
  for (const char* name :
       {"runs", "videos", "frames", "detections", "timings", "finished_videos", "per_video_label_counts",
        "per_minute_label_counts", "label_events", "detections_at", "per_hour_label_counts", "video_provenance"})
    EXPECT_TRUE(j["read"].contains(name)) << name << " " << j.dump();
  EXPECT_EQ(j["read"]["videos"], 3);
  // Every path: the BLOB is the name's exact bytes, the text decodes to it.
  std::set<std::string> want = {hex(latin), hex(named), hex(bad)}, got;
  for (const auto& p : j["paths"]) {
    got.insert(p["hex"].get<std::string>());
    EXPECT_TRUE(p["decodes"].get<bool>()) << p.dump();
  }
  EXPECT_EQ(got, want);
  // The warning (it quotes the pattern) and the command line decode to
  // their bytes too. (A label file that is not UTF-8 is refused; labels
  // from model metadata go through the same conversion, see test_store.)
  ASSERT_EQ(j["warnings"].size(), 1u) << j.dump();
  EXPECT_NE(j["warnings"][0].get<std::string>().find(hex(pattern)), std::string::npos);
  EXPECT_NE(j["commands"][0].get<std::string>().find(hex(pattern)), std::string::npos);
  EXPECT_EQ(query_int(db,
                      "SELECT COUNT(*) FROM videos WHERE recorded_at = '2026-11-25T22:14:03Z' AND "
                      "recorded_at_source = 'name' AND path_bytes = x'" +
                          hex(named) + "'"),
            1);
  // The corrupt file's row carries its error, valid UTF-8.
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM videos WHERE status='failed' AND error <> '' AND path_bytes = x'" +
                              hex(bad) + "'"),
            1);

  // A rerun finds every earlier row by its exact name: nothing is analysed again.
  const std::string before = query_db(db, "SELECT group_concat(id) FROM videos")[0][0];
  r = run_command(cmd);
  ASSERT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("skipped 3 video(s)"), std::string::npos) << r.output;
  EXPECT_EQ(query_db(db, "SELECT group_concat(id) FROM videos")[0][0], before);

  // Merged into another database, the names keep their bytes and text.
  const fs::path all = d / "all.db";
  r = run_command(sh_quote(vidsift_binary()) + " merge --db " + sh_quote(all.string()) + " " + sh_quote(db.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto m = read_with_python(d.path(), all);
  EXPECT_EQ(m["errors"], nlohmann::json::array());
  EXPECT_EQ(m["paths"], j["paths"]);
}
