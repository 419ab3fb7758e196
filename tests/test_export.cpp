// Tests of `vidsift export`: vtest.avi analysed for real under two settings,
// exported as CSV, JSON lines, COCO and YOLO, each output read back by
// Python's csv/json modules and checked against the database.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;
using namespace vidsift::test;

namespace {

// Reads an export with Python and prints what it found as one JSON object.
constexpr const char* kReader = R"PY(
import csv, json, os, sys
fmt, path = sys.argv[1], sys.argv[2]
out = {}
if fmt == "csv":
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = {"count": len(rows), "fields": list(rows[0].keys()) if rows else [],
           "labels": sorted({r["label"] for r in rows}), "videos": len({r["video_id"] for r in rows}),
           "min_conf": min(float(r["confidence"]) for r in rows) if rows else None}
elif fmt == "jsonl":
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(l) for l in f if l.strip()]
    out = {"count": len(rows), "labels": sorted({r["label"] for r in rows}),
           "keys": sorted(rows[0].keys()) if rows else []}
elif fmt == "coco":
    with open(path, encoding="utf-8") as f:
        c = json.load(f)
    ids = {i["id"] for i in c["images"]}
    names = [i["file_name"] for i in c["images"]]
    size = {i["id"]: (i["width"], i["height"]) for i in c["images"]}
    inside = all(a["bbox"][0] >= 0 and a["bbox"][1] >= 0 and a["bbox"][0] + a["bbox"][2] <= size[a["image_id"]][0] + 0.01
                 and a["bbox"][1] + a["bbox"][3] <= size[a["image_id"]][1] + 0.01 for a in c["annotations"])
    out = {"images": len(c["images"]), "annotations": len(c["annotations"]), "categories": len(c["categories"]),
           "first_category": c["categories"][0] if c["categories"] else None,
           "unique_names": len(set(names)) == len(names), "names": sorted(names)[:3],
           "refs_ok": all(a["image_id"] in ids for a in c["annotations"]), "boxes_inside": inside,
           "category_ids": sorted({a["category_id"] for a in c["annotations"]})}
elif fmt == "yolo":
    files = sorted(os.listdir(path))
    lines, ok = 0, True
    for n in files:
        if n == "classes.txt":
            continue
        with open(os.path.join(path, n)) as f:
            for l in f:
                p = l.split()
                ok = ok and len(p) == 5 and int(p[0]) >= 0 and all(0 <= float(v) <= 1 for v in p[1:])
                lines += 1
    with open(os.path.join(path, "classes.txt")) as f:
        classes = f.read().splitlines()
    out = {"files": len(files), "lines": lines, "values_ok": ok, "classes": len(classes),
           "class0": classes[0] if classes else None, "names": files[:2]}
print(json.dumps(out))
)PY";

class Export : public ::testing::Test {
 protected:
  // vtest.avi under two settings (every 20th and every 40th frame): the
  // same stem twice, 40 + 20 frames.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("export");
    db_ = dir_->path() / "e.db";
    for (const char* every : {"20", "40"}) {
      const auto r =
          run_command(sh_quote(vidsift_binary()) + " run " + sh_quote(video_path("vtest.avi").string()) + " --db " +
                      sh_quote(db_.string()) + " --model " + sh_quote(model_path("yolox_nano.onnx").string()) +
                      " --every " + every + " --progress=false");
      ASSERT_EQ(r.status, 0) << r.output;
    }
    std::ofstream(dir_->path() / "read.py") << kReader;
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // `vidsift export <db> <args>`; returns its status and stderr+stdout.
  static CommandResult vidsift_export(const std::string& args) {
    return run_command(sh_quote(vidsift_binary()) + " export " + sh_quote(db_.string()) + " " + args);
  }
  static nlohmann::json read_back(const std::string& format, const fs::path& p) {
    const auto r = run_command("/usr/bin/python3 " + sh_quote((dir_->path() / "read.py").string()) + " " + format +
                               " " + sh_quote(p.string()) + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.output;
    return nlohmann::json::parse(r.output, nullptr, false);
  }
  static long long detections(const std::string& cond = "1") {
    return query_int(db_,
                     "SELECT COUNT(*) FROM detections d JOIN videos v ON v.id = d.video_id WHERE v.status IN "
                     "('done','partial') AND " +
                         cond);
  }
  static inline std::unique_ptr<TempDir> dir_;
  static inline fs::path db_;
};

}  // namespace

TEST_F(Export, CsvHasAHeaderAndEveryDetection) {
  const fs::path out = dir_->path() / "all.csv";
  const auto r = vidsift_export("--format csv --out " + sh_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_GT(detections(), 0);
  const auto j = read_back("csv", out);
  EXPECT_EQ(j["count"], detections());
  EXPECT_EQ(j["videos"], 2);
  EXPECT_EQ(j["fields"], nlohmann::json::parse(R"(["video_id","path","settings_key","frame_index","ts","class_id",
    "label","confidence","x","y","w","h","track_id","at"])"));
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
}

TEST_F(Export, CsvToStdoutWithWhere) {
  const fs::path out = dir_->path() / "people.csv";
  // stdout only: the summary line goes to stderr.
  const auto r = run_command("{ " + sh_quote(vidsift_binary()) + " export --db " + sh_quote(db_.string()) +
                             " --format csv --where \"label = 'person' AND confidence >= 0.5\" > " +
                             sh_quote(out.string()) + " 2>/dev/null; }");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = read_back("csv", out);
  EXPECT_EQ(j["count"], detections("d.label = 'person' AND ROUND(d.confidence, 4) >= 0.5"));
  EXPECT_EQ(j["labels"], nlohmann::json::parse(R"(["person"])"));
  EXPECT_GE(j["min_conf"].get<double>(), 0.5);
}

TEST_F(Export, JsonLinesOneObjectPerDetection) {
  const fs::path out = dir_->path() / "all.jsonl";
  const auto r = vidsift_export("--format jsonl --out " + sh_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = read_back("jsonl", out);
  EXPECT_EQ(j["count"], detections());
  EXPECT_EQ(j["keys"], nlohmann::json::parse(R"(["at","class_id","confidence","frame_index","h","label","path",
    "settings_key","track_id","ts","video_id","w","x","y"])"));
}

TEST_F(Export, CocoImagesAreTheAnalysedFrames) {
  const fs::path out = dir_->path() / "coco.json";
  const auto r = vidsift_export("--format coco --out " + sh_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("60 image(s)"), std::string::npos) << r.output;
  const auto j = read_back("coco", out);
  EXPECT_EQ(j["images"], query_int(db_, "SELECT COUNT(*) FROM frames"));
  EXPECT_EQ(j["images"], 60);
  EXPECT_EQ(j["annotations"], detections());
  EXPECT_EQ(j["categories"], 80);  // the model's labels, not only those detected
  EXPECT_EQ(j["first_category"]["name"], "person");
  EXPECT_EQ(j["first_category"]["id"], 1);
  EXPECT_EQ(j["unique_names"], true);
  EXPECT_EQ(j["refs_ok"], true);
  EXPECT_EQ(j["boxes_inside"], true);
  // One stem under two settings: the names carry the video id.
  const std::string first_id = query_db(db_, "SELECT MIN(id) FROM videos")[0][0];
  EXPECT_EQ(j["names"][0], "vtest_v" + first_id + "_000000.jpg") << j.dump();
}

TEST_F(Export, CocoOfOneSettingsKeyUsesThePlainStem) {
  const fs::path out = dir_->path() / "coco1.json";
  const std::string key = query_db(db_, "SELECT settings_key FROM videos ORDER BY id LIMIT 1")[0][0];
  const auto r = vidsift_export("--format coco --where \"settings_key = '" + key + "' AND label = 'person'\" --out " +
                                sh_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = read_back("coco", out);
  EXPECT_EQ(j["images"], 40);
  EXPECT_EQ(j["annotations"], detections("v.settings_key = '" + key + "' AND d.label = 'person'"));
  EXPECT_EQ(j["category_ids"], nlohmann::json::parse("[1]"));
  EXPECT_EQ(j["names"][0], "vtest_000000.jpg");
  EXPECT_EQ(j["names"][1], "vtest_000020.jpg");
}

TEST_F(Export, YoloOneFilePerFrameAndClasses) {
  const fs::path out = dir_->path() / "yolo";
  auto r = vidsift_export("--format yolo --out " + sh_quote(out.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = read_back("yolo", out);
  EXPECT_EQ(j["files"], 60 + 1);
  EXPECT_EQ(j["lines"], detections());
  EXPECT_EQ(j["values_ok"], true);
  EXPECT_EQ(j["classes"], 80);
  EXPECT_EQ(j["class0"], "person");
  // A second export into the same, now full, directory is refused.
  r = vidsift_export("--format yolo --out " + sh_quote(out.string()));
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("not empty"), std::string::npos) << r.output;
}

TEST_F(Export, UsageErrorsAndAMissingDatabase) {
  const fs::path out = dir_->path() / "bad.csv";
  auto r = vidsift_export("--format csv --where 'no_such_column = 1' --out " + sh_quote(out.string()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("no_such_column"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  r = vidsift_export("--format csv --where \"1; DELETE FROM detections\"");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_GT(detections(), 0);
  EXPECT_EQ(vidsift_export("--format xml").status, 2);
  EXPECT_EQ(vidsift_export("").status, 2);               // no --format
  EXPECT_EQ(vidsift_export("--format yolo").status, 2);  // yolo needs --out
  const fs::path missing = dir_->path() / "missing.db";
  r = run_command(sh_quote(vidsift_binary()) + " export --db " + sh_quote(missing.string()) + " --format csv");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_FALSE(fs::exists(missing));
}
