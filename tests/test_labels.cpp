// test_labels.cpp — labels.h: the built-in COCO list (and that it matches the
// shared coco.names), load_labels trimming / trailing blank lines / CRLF /
// errors naming the file, label_name outside the list, resolve_classes with
// names, numeric ids, duplicates and unknown names.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vidsift/labels.h"

namespace fs = std::filesystem;

namespace vidsift {
namespace {

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

TEST(Labels, CocoList) {
  const auto& l = coco_labels();
  ASSERT_EQ(l.size(), 80u);
  EXPECT_EQ(l[0], "person");
  EXPECT_EQ(l[1], "bicycle");
  EXPECT_EQ(l[2], "car");
  EXPECT_EQ(l[16], "dog");
  EXPECT_EQ(l[79], "toothbrush");
  EXPECT_EQ(&coco_labels(), &l);  // one shared list
}

TEST(Labels, CocoListMatchesSharedCocoNames) {
  const fs::path names = test::model_path("coco.names");
  ASSERT_TRUE(fs::exists(names)) << names;
  EXPECT_EQ(load_labels(names), coco_labels());
}

TEST(Labels, LoadTrimsAndDropsTrailingBlankLines) {
  test::TempDir tmp("labels");
  write(tmp / "l.txt", "  cat \n\tdog\t\r\ntraffic light\r\n\n   \n\n");
  const auto l = load_labels(tmp / "l.txt");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0], "cat");
  EXPECT_EQ(l[1], "dog");
  EXPECT_EQ(l[2], "traffic light");

  // No final newline.
  write(tmp / "m.txt", "a\nb");
  EXPECT_EQ(load_labels(tmp / "m.txt"), (std::vector<std::string>{"a", "b"}));

  // A blank line in the middle keeps its place so later ids stay right.
  write(tmp / "n.txt", "a\n\nc\n");
  const auto n = load_labels(tmp / "n.txt");
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[2], "c");
}

TEST(Labels, MissingFileThrowsNamingIt) {
  test::TempDir tmp("labels-missing");
  const fs::path p = tmp / "does_not_exist.names";
  try {
    load_labels(p);
    FAIL() << "expected LabelsError";
  } catch (const LabelsError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
  }
}

TEST(Labels, EmptyFileThrowsNamingIt) {
  test::TempDir tmp("labels-empty");
  write(tmp / "empty.names", "\n  \n\n");
  try {
    load_labels(tmp / "empty.names");
    FAIL() << "expected LabelsError";
  } catch (const LabelsError& e) {
    EXPECT_NE(std::string(e.what()).find("empty.names"), std::string::npos) << e.what();
  }
  write(tmp / "zero.names", "");
  EXPECT_THROW(load_labels(tmp / "zero.names"), LabelsError);
}

// A Latin-1 label file would put bytes that are not UTF-8 into
// detections.label: it is refused, saying where and how to convert it.
TEST(Labels, NonUtf8FileIsRefusedWithTheLine) {
  test::TempDir tmp("labels-latin1");
  write(tmp / "latin1.names", "person\ncaf\xe9\n");
  try {
    load_labels(tmp / "latin1.names");
    FAIL() << "expected LabelsError";
  } catch (const LabelsError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("latin1.names is not UTF-8 (byte 0xE9 on line 2)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("iconv"), std::string::npos) << msg;
  }
  write(tmp / "bom.names", "\xef\xbb\xbfperson\ncaf\xc3\xa9\n");
  const auto l = load_labels(tmp / "bom.names");
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], "person");  // the byte order mark is not part of the first label
  EXPECT_EQ(l[1], "caf\xc3\xa9");
}

// /dev/zero used to be read for 4 GB before failing.
TEST(Labels, DeviceOrHugeFileIsRefusedAtOnce) {
  try {
    load_labels("/dev/zero");
    FAIL() << "expected LabelsError";
  } catch (const LabelsError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/zero is not a regular file"), std::string::npos) << e.what();
  }
  test::TempDir tmp("labels-huge");
  write(tmp / "huge.names", std::string(2 << 20, 'a'));
  EXPECT_THROW(load_labels(tmp / "huge.names"), LabelsError);
}

TEST(Labels, LabelNameOutOfRange) {
  const auto& l = coco_labels();
  EXPECT_EQ(label_name(l, 0), "person");
  EXPECT_EQ(label_name(l, 79), "toothbrush");
  EXPECT_EQ(label_name(l, 80), "class80");
  EXPECT_EQ(label_name(l, 1000), "class1000");
  EXPECT_EQ(label_name(l, -1), "class-1");
  EXPECT_EQ(label_name({}, 0), "class0");
}

TEST(Labels, ResolveClassesNamesAndIds) {
  const auto& l = coco_labels();
  EXPECT_EQ(resolve_classes({"person", "car"}, l), (std::vector<int>{0, 2}));
  // Sorted and unique, whitespace trimmed, names and ids mixed.
  EXPECT_EQ(resolve_classes({"car", " person ", "0", "16", "car"}, l), (std::vector<int>{0, 2, 16}));
  EXPECT_EQ(resolve_classes({"traffic light"}, l), (std::vector<int>{9}));
  // Numeric ids are taken as they are, even beyond the list.
  EXPECT_EQ(resolve_classes({"85", "3"}, l), (std::vector<int>{3, 85}));
  // Blank entries are ignored.
  EXPECT_EQ(resolve_classes({"", "  ", "dog"}, l), (std::vector<int>{16}));
  EXPECT_TRUE(resolve_classes({}, l).empty());
}

TEST(Labels, ResolveClassesUnknownListsNames) {
  const auto& l = coco_labels();
  try {
    resolve_classes({"person", "unicorn", "car", "dragon"}, l);
    FAIL() << "expected LabelsError";
  } catch (const LabelsError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unicorn"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dragon"), std::string::npos) << msg;
    // Only the unknown ones are named as unknown; then every valid name.
    EXPECT_EQ(msg.rfind("unknown class name(s): unicorn, dragon; the 80 valid names are: person, bicycle, car,", 0), 0u)
        << msg;
    EXPECT_NE(msg.find("toothbrush"), std::string::npos) << msg;
  }
  // A near miss gets a suggestion.
  try {
    resolve_classes({"preson"}, l);
    FAIL() << "expected LabelsError";
  } catch (const LabelsError& e) {
    EXPECT_NE(std::string(e.what()).find("preson (did you mean person?)"), std::string::npos) << e.what();
  }
  // Case matters: labels are matched exactly.
  EXPECT_THROW(resolve_classes({"Person"}, l), LabelsError);
  // With a custom list.
  const std::vector<std::string> mine = {"a", "b"};
  EXPECT_EQ(resolve_classes({"b"}, mine), (std::vector<int>{1}));
  EXPECT_THROW(resolve_classes({"person"}, mine), LabelsError);
}

TEST(Labels, ResolveClassesHugeIdIsALabelsError) {
  // A numeric id that does not fit an int is a user error, not a crash.
  try {
    resolve_classes({"99999999999999999999"}, coco_labels());
    FAIL() << "expected LabelsError";
  } catch (const LabelsError& e) {
    EXPECT_NE(std::string(e.what()).find("99999999999999999999"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vidsift
