// Tests of admit(): fingerprint + lookup among finished results, with a real
// store and real files.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "vidsift/admission.h"
#include "vidsift/store.h"

namespace fs = std::filesystem;
using namespace vidsift;
using namespace vidsift::test;

namespace {

VideoFile file_of(const fs::path& p) {
  VideoFile f;
  f.path = p.string();
  f.size = static_cast<std::int64_t>(fs::file_size(p));
  f.mtime = 1;
  return f;
}

struct Fixture {
  TempDir dir{"admission"};
  Store store{(dir / "a.db").string()};
  fs::path a = dir / "a.mp4";
  fs::path b = dir / "b.mp4";
  std::int64_t run = 0;
  FinalLookup lookup = [this](const std::string& p, const std::string& fp, bool failed) {
    return store.find_final(p, fp, "key", failed);
  };
  Fixture() {
    std::ofstream(a) << "video a";
    std::ofstream(b) << "video b";
    RunRecord r;
    r.settings_key = "key";
    run = store.begin_run(r);
  }
  void record(const fs::path& p, VideoStatus s) {
    VideoRecord rec;
    rec.path = p.string();
    rec.fingerprint = fingerprint(file_of(p));
    const auto id = store.start_video(run, rec, "key");
    VideoResult r;
    r.status = s;
    store.finish_video(id, r);
  }
};

}  // namespace

TEST(Admission, NewFileIsAnalysedWithItsFingerprint) {
  Fixture f;
  const Admission a = admit(file_of(f.a), {}, f.lookup);
  EXPECT_EQ(a.verdict, Admit::Analyse);
  EXPECT_EQ(a.fingerprint, fingerprint(file_of(f.a)));
}

TEST(Admission, DoneIsSkippedUnlessForced) {
  Fixture f;
  f.record(f.a, VideoStatus::Done);
  EXPECT_EQ(admit(file_of(f.a), {}, f.lookup).verdict, Admit::SkipDone);
  EXPECT_EQ(admit(file_of(f.b), {}, f.lookup).verdict, Admit::Analyse);
  AdmissionOptions force;
  force.force = true;
  EXPECT_EQ(admit(file_of(f.a), force, f.lookup).verdict, Admit::Analyse);
}

TEST(Admission, FailedIsSkippedUnlessRetried) {
  Fixture f;
  f.record(f.a, VideoStatus::Failed);
  EXPECT_EQ(admit(file_of(f.a), {}, f.lookup).verdict, Admit::SkipFailed);
  AdmissionOptions retry;
  retry.retry_failed = true;
  EXPECT_EQ(admit(file_of(f.a), retry, f.lookup).verdict, Admit::Analyse);
}

TEST(Admission, ChangedFileIsAnalysedAgain) {
  Fixture f;
  f.record(f.a, VideoStatus::Done);
  std::ofstream(f.a, std::ios::app) << " and more";
  EXPECT_EQ(admit(file_of(f.a), {}, f.lookup).verdict, Admit::Analyse);
}

TEST(Admission, UnreadableFileAndFailingLookupAreReportedNotThrown) {
  Fixture f;
  VideoFile gone = file_of(f.a);
  gone.path = (f.dir / "vanished.mp4").string();
  const Admission a = admit(gone, {}, f.lookup);
  EXPECT_EQ(a.verdict, Admit::Unreadable);
  EXPECT_NE(a.error.find("vanished.mp4"), std::string::npos) << a.error;
  const Admission b = admit(
      file_of(f.a), {},
      [](const std::string&, const std::string&, bool) -> std::optional<VideoStatus> { throw StoreError("locked"); });
  EXPECT_EQ(b.verdict, Admit::Unreadable);
  EXPECT_NE(b.error.find("locked"), std::string::npos);
}
