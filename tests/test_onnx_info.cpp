#include "vidsift/onnx_info.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace vidsift {
namespace {

namespace fs = std::filesystem;
using Shape = std::vector<std::int64_t>;

// The build defines VIDSIFT_SHARED_DIR; without it, use the environment
// variable of the same name, then the default location.
fs::path shared_dir() {
#ifdef VIDSIFT_SHARED_DIR
  return fs::path(VIDSIFT_SHARED_DIR);
#else
  if (const char* env = std::getenv("VIDSIFT_SHARED_DIR"); env && *env) {
    return fs::path(env);
  }
  return fs::path("/work/shared");
#endif
}

fs::path model_path(const char* name) { return shared_dir() / "models" / name; }

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Message of the OnnxInfoError thrown by f, or "" if it did not throw.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const OnnxInfoError& e) {
    return e.what();
  }
  return "";
}

// ---- A tiny protobuf encoder for hand-built models ------------------------

std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

std::string tag(std::uint32_t field, std::uint32_t wire) { return varint((std::uint64_t{field} << 3) | wire); }

std::string int_field(std::uint32_t field, std::uint64_t v) { return tag(field, 0) + varint(v); }

std::string bytes_field(std::uint32_t field, std::string_view payload) {
  return tag(field, 2) + varint(payload.size()) + std::string(payload);
}

// A dimension: a value >= 0, or a symbolic name.
struct Dim {
  std::int64_t value = -1;
  std::string param;
};

std::string value_info(std::string_view name, const std::vector<Dim>& dims) {
  std::string shape;
  for (const Dim& d : dims) {
    const std::string dim =
        d.param.empty() ? int_field(1, static_cast<std::uint64_t>(d.value)) : bytes_field(2, d.param);
    shape += bytes_field(1, dim);
  }
  const std::string tensor_type = int_field(1, 1) + bytes_field(2, shape);
  return bytes_field(1, name) + bytes_field(2, bytes_field(1, tensor_type));
}

std::string initializer(std::string_view name) {
  // dims, data_type, name, raw_data
  return int_field(1, 4) + int_field(2, 1) + bytes_field(8, name) + bytes_field(9, std::string(16, '\x01'));
}

std::string opset(std::string_view domain, std::uint64_t version) {
  return bytes_field(1, domain) + int_field(2, version);
}

std::string entry(std::string_view key, std::string_view value) { return bytes_field(1, key) + bytes_field(2, value); }

// Unknown fields of every non-group wire type.
std::string unknown_fields() {
  return int_field(900, 12345) + tag(901, 1) + std::string(8, '\xff') + bytes_field(902, "skip me") + tag(903, 5) +
         std::string(4, '\xee');
}

// NodeProto: input = 1, output = 2, name = 3, op_type = 4.
std::string node(std::string_view op_type, std::string_view in, std::string_view out) {
  return bytes_field(1, in) + bytes_field(2, out) + bytes_field(3, "n0") + bytes_field(4, op_type);
}

std::string sample_graph() {
  return bytes_field(1, node("Identity", "pixels", "boxes")) + bytes_field(2, "g") +
         bytes_field(5, initializer("weights")) + unknown_fields() + bytes_field(11, value_info("weights", {{4, ""}})) +
         bytes_field(11, value_info("pixels", {{-1, "batch"}, {3, ""}, {}, {640, ""}})) +
         bytes_field(11, value_info("second", {{1, ""}})) +
         bytes_field(12, value_info("boxes", {{1, ""}, {84, ""}, {8400, ""}})) +
         bytes_field(12, bytes_field(1, "untyped"));
}

std::string sample_model() {
  return int_field(1, 8) + bytes_field(2, "handmade") + unknown_fields() + bytes_field(7, sample_graph()) +
         bytes_field(8, opset("com.microsoft", 1)) + bytes_field(8, opset("ai.onnx", 17)) +
         bytes_field(14, entry("author", "me")) + bytes_field(14, entry("names", "{0: 'a'}"));
}

// ---- Hand-built models -----------------------------------------------------

TEST(OnnxInfo, HandBuiltModel) {
  const OnnxInfo info = parse_onnx_info(sample_model());
  EXPECT_EQ(info.input_name, "pixels");  // "weights" is an initializer
  EXPECT_EQ(info.input_shape, (Shape{-1, 3, -1, 640}));
  ASSERT_EQ(info.output_shapes.size(), 2u);
  EXPECT_EQ(info.output_shapes[0], (Shape{1, 84, 8400}));
  EXPECT_EQ(info.output_shapes[1], Shape{});
  EXPECT_EQ(info.opset, 17);
  EXPECT_EQ(info.producer_name, "handmade");
  EXPECT_EQ(info.metadata, (std::map<std::string, std::string>{{"author", "me"}, {"names", "{0: 'a'}"}}));
}

TEST(OnnxInfo, EmptyDomainIsDefaultAndOtherDomainsIgnored) {
  const std::string model = int_field(1, 7) + bytes_field(7, sample_graph()) + bytes_field(8, opset("", 12)) +
                            bytes_field(8, opset("ai.onnx.ml", 3));
  EXPECT_EQ(parse_onnx_info(model).opset, 12);
}

TEST(OnnxInfo, SparseInitializerIsNotAnInput) {
  const std::string sparse = bytes_field(1, initializer("sparse_w"));
  const std::string graph = bytes_field(15, sparse) + bytes_field(11, value_info("sparse_w", {{2, ""}})) +
                            bytes_field(11, value_info("x", {{5, ""}}));
  const std::string model = int_field(1, 8) + bytes_field(7, graph) + bytes_field(8, opset("", 17));
  EXPECT_EQ(parse_onnx_info(model).input_name, "x");
}

TEST(OnnxInfo, NegativeDimValueIsUnknown) {
  const std::string dim = int_field(1, static_cast<std::uint64_t>(-5));
  const std::string shape = bytes_field(1, dim);
  const std::string vi = bytes_field(1, "x") + bytes_field(2, bytes_field(1, int_field(1, 1) + bytes_field(2, shape)));
  const std::string model = int_field(1, 8) + bytes_field(7, bytes_field(11, vi)) + bytes_field(8, opset("", 17));
  EXPECT_EQ(parse_onnx_info(model).input_shape, Shape{-1});
}

// What the decoder says when protobuf rejects the bytes.
constexpr const char* kMalformed = "malformed or truncated";

TEST(OnnxInfo, RejectsInvalidModels) {
  const std::string graph = bytes_field(7, sample_graph());
  const std::string op = bytes_field(8, opset("", 17));
  const struct {
    const char* what;
    std::string bytes;
    const char* detail;
  } cases[] = {
      {"empty", "", "no ir_version"},
      {"no graph", int_field(1, 8) + op, "no graph"},
      {"no ir_version", graph + op, "no ir_version"},
      {"no opset_import", int_field(1, 8) + graph, "no opset_import"},
      // A known field with another wire type is an unknown field to
      // protobuf, so the graph is missing.
      {"graph as varint", int_field(1, 8) + int_field(7, 1) + op, "no graph"},
      {"unterminated group", int_field(1, 8) + tag(3, 3) + graph + op, kMalformed},
      {"wire type 7", int_field(1, 8) + tag(3, 7) + graph + op, kMalformed},
      {"field 0", int_field(1, 8) + tag(0, 0) + "\x01" + graph + op, kMalformed},
      {"overlong varint", int_field(1, 8) + tag(5, 0) + std::string(10, '\x80') + "\x01" + graph + op, kMalformed},
      {"truncated varint", int_field(1, 8) + graph + op + tag(5, 0) + "\x80", kMalformed},
      {"length past end", int_field(1, 8) + tag(6, 2) + varint(1000) + "abc", kMalformed},
      {"huge length", int_field(1, 8) + tag(6, 2) + varint(~std::uint64_t{0}), kMalformed},
      // The graph's own length is fine, but a field inside it claims more
      // bytes than the graph holds (the rest of the model follows).
      {"nested overrun", int_field(1, 8) + bytes_field(7, tag(2, 2) + varint(20) + "short") + op + std::string(40, 'x'),
       kMalformed},
      {"truncated fixed32", int_field(1, 8) + graph + op + tag(5, 5) + "ab", kMalformed},
      // Nodes and weights are decoded too: a damaged node or initializer is
      // a damaged model, even though vidsift reads neither.
      {"garbage node", int_field(1, 8) + bytes_field(7, bytes_field(1, "not a node") + sample_graph()) + op,
       kMalformed},
      {"garbage attribute",
       int_field(1, 8) +
           bytes_field(7, bytes_field(1, node("Relu", "a", "b") + bytes_field(5, "\xff\xff")) + sample_graph()) + op,
       kMalformed},
      {"garbage initializer",
       int_field(1, 8) +
           bytes_field(7, bytes_field(5, bytes_field(3, "\xff\xff") + bytes_field(8, "w")) + sample_graph()) + op,
       kMalformed},
  };
  for (const auto& c : cases) {
    const std::string msg = error_of([&] { (void)parse_onnx_info(c.bytes); });
    if (msg.empty()) {
      ADD_FAILURE() << c.what << ": did not throw";
      continue;
    }
    EXPECT_EQ(msg.rfind("<memory>: not a valid ONNX model: ", 0), 0u) << c.what << ": " << msg;
    EXPECT_NE(msg.find(c.detail), std::string::npos) << c.what << ": " << msg;
  }
}

// Protobuf keeps a field whose wire type does not match the schema as an
// unknown field (as ONNX Runtime's own loader does) instead of failing.
TEST(OnnxInfo, KnownFieldWithOtherWireTypeIsUnknown) {
  const std::string model = int_field(1, 8) + int_field(2, 5) + bytes_field(7, sample_graph()) +
                            bytes_field(8, opset("", 17)) + bytes_field(14, int_field(1, 3));
  const OnnxInfo info = parse_onnx_info(model);
  EXPECT_EQ(info.producer_name, "");
  EXPECT_EQ(info.input_name, "pixels");
  EXPECT_EQ(info.metadata, (std::map<std::string, std::string>{{"", ""}}));
}

TEST(OnnxInfo, RandomBytesThrow) {
  std::mt19937 rng(1234);
  for (const std::size_t size : {1u, 2u, 7u, 64u, 1000u, 100000u}) {
    for (int round = 0; round < 50; ++round) {
      std::string bytes(size, '\0');
      for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
      EXPECT_THROW((void)parse_onnx_info(bytes), OnnxInfoError) << "size " << size << " round " << round;
    }
  }
}

// ---- Files -----------------------------------------------------------------

// A file in the temp directory that is removed when the object goes away.
class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("vidsift_onnx_" + std::string(info->name()) + "_" + std::to_string(::getpid()) + ".onnx");
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (!out) throw std::runtime_error("cannot write " + path_.string());
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(OnnxInfoFile, ReadsHandBuiltFile) {
  TempFile file(sample_model());
  const OnnxInfo info = read_onnx_info(file.path());
  EXPECT_EQ(info.input_name, "pixels");
  EXPECT_EQ(info.opset, 17);
}

TEST(OnnxInfoFile, MissingFileNamesPath) {
  const fs::path missing = fs::temp_directory_path() / "vidsift_no_such.onnx";
  const std::string msg = error_of([&] { (void)read_onnx_info(missing); });
  EXPECT_EQ(msg, "cannot read " + missing.string() + ": No such file or directory");
}

TEST(OnnxInfoFile, DirectoryNamesPath) {
  const fs::path dir = fs::temp_directory_path();
  const std::string msg = error_of([&] { (void)read_onnx_info(dir); });
  EXPECT_NE(msg.find(dir.string()), std::string::npos) << msg;
}

TEST(OnnxInfoFile, GarbageFileNamesPath) {
  TempFile file("this is not a model\n");
  const std::string msg = error_of([&] { (void)read_onnx_info(file.path()); });
  EXPECT_EQ(msg.rfind(file.path().string() + ": not a valid ONNX model: ", 0), 0u) << msg;
}

// ---- The shared models -----------------------------------------------------

#define REQUIRE_MODEL(path)                                        \
  do {                                                             \
    if (!fs::exists(path)) GTEST_SKIP() << (path) << " not found"; \
  } while (0)

std::vector<std::string> coco_names() {
  std::ifstream in(model_path("coco.names"));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

TEST(OnnxInfoShared, YoloxNano) {
  const fs::path path = model_path("yolox_nano.onnx");
  REQUIRE_MODEL(path);
  const OnnxInfo info = read_onnx_info(path);
  EXPECT_EQ(info.input_name, "images");
  EXPECT_EQ(info.input_shape, (Shape{1, 3, 416, 416}));
  EXPECT_EQ(info.output_shapes, (std::vector<Shape>{{1, 3549, 85}}));
  EXPECT_EQ(info.opset, 11);
  EXPECT_EQ(info.producer_name, "pytorch");
  EXPECT_TRUE(info.metadata.empty());
}

TEST(OnnxInfoShared, Yolov5n) {
  const fs::path path = model_path("yolov5n.onnx");
  REQUIRE_MODEL(path);
  const OnnxInfo info = read_onnx_info(path);
  EXPECT_EQ(info.input_name, "images");
  EXPECT_EQ(info.input_shape, (Shape{1, 3, 640, 640}));
  EXPECT_EQ(info.output_shapes, (std::vector<Shape>{{1, 25200, 85}}));
  EXPECT_EQ(info.opset, 12);
  ASSERT_TRUE(info.metadata.contains("names"));
  EXPECT_EQ(parse_names_metadata(info.metadata.at("names")).size(), 80u);
}

TEST(OnnxInfoShared, Yolov8n) {
  const fs::path path = model_path("yolov8n.onnx");
  REQUIRE_MODEL(path);
  const OnnxInfo info = read_onnx_info(path);
  EXPECT_EQ(info.input_name, "images");
  EXPECT_EQ(info.input_shape, (Shape{1, 3, 640, 640}));
  EXPECT_EQ(info.output_shapes, (std::vector<Shape>{{1, 84, 8400}}));
  EXPECT_EQ(info.opset, 12);
  EXPECT_EQ(info.metadata.at("task"), "detect");
  ASSERT_TRUE(info.metadata.contains("names"));
  const std::vector<std::string> names = parse_names_metadata(info.metadata.at("names"));
  ASSERT_EQ(names.size(), 80u);
  EXPECT_EQ(names[0], "person");
  EXPECT_EQ(names[9], "traffic light");
  EXPECT_EQ(names[79], "toothbrush");
  // The metadata agrees with the shared label file, entry by entry.
  if (fs::exists(model_path("coco.names"))) {
    EXPECT_EQ(names, coco_names());
  }
}

TEST(OnnxInfoShared, TruncatedModelThrows) {
  const fs::path path = model_path("yolox_nano.onnx");
  REQUIRE_MODEL(path);
  const std::string bytes = slurp(path);
  ASSERT_GT(bytes.size(), 1000u);
  ASSERT_NO_THROW((void)parse_onnx_info(bytes));

  std::vector<std::size_t> cuts = {0, 1, 2, 10, 100, bytes.size() - 1};
  for (std::size_t i = 1; i < 64; ++i) cuts.push_back(bytes.size() * i / 64);
  for (const std::size_t cut : cuts) {
    EXPECT_THROW((void)parse_onnx_info(std::string_view(bytes).substr(0, cut)), OnnxInfoError) << "cut at " << cut;
  }

  TempFile file(std::string_view(bytes).substr(0, bytes.size() / 2));
  const std::string msg = error_of([&] { (void)read_onnx_info(file.path()); });
  EXPECT_EQ(msg.rfind(file.path().string() + ": not a valid ONNX model: ", 0), 0u) << msg;
}

// Flipped bytes in a real model either still parse or throw OnnxInfoError;
// nothing else (and, under sanitizers, no out-of-bounds read).
TEST(OnnxInfoShared, CorruptedModelNeverEscapes) {
  const fs::path path = model_path("yolox_nano.onnx");
  REQUIRE_MODEL(path);
  const std::string original = slurp(path);
  std::mt19937 rng(99);
  int rejected = 0;
  for (int round = 0; round < 200; ++round) {
    std::string bytes = original;
    // Corrupt near the start, where the structure (not weight data) is.
    const std::size_t span = std::min<std::size_t>(bytes.size(), 4096);
    for (int k = 0; k < 4; ++k) bytes[rng() % span] = static_cast<char>(rng());
    try {
      (void)parse_onnx_info(bytes);
    } catch (const OnnxInfoError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
}

// ---- parse_names_metadata --------------------------------------------------

using Names = std::vector<std::string>;

TEST(NamesMetadata, Basic) {
  EXPECT_EQ(parse_names_metadata("{0: 'person', 1: 'bicycle', 2: \"o'clock\"}"),
            (Names{"person", "bicycle", "o'clock"}));
}

TEST(NamesMetadata, Escapes) {
  EXPECT_EQ(parse_names_metadata(R"({0: 'it\'s', 1: "say \"hi\"", 2: 'a\\b',)"
                                 R"( 3: 'tab\there', 4: 'caf\xe9', 5: '\u00e9t\u00e9',)"
                                 R"( 6: '\U0001F600', 7: '\d'})"),
            (Names{"it's", "say \"hi\"", "a\\b", "tab\there", "caf\xc3\xa9", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80",
                   "\\d"}));
}

TEST(NamesMetadata, WhitespaceOrderAndTrailingComma) {
  EXPECT_EQ(parse_names_metadata("  {\n 1 :'traffic light' ,0:  'a'  ,  }  "), (Names{"a", "traffic light"}));
  EXPECT_EQ(parse_names_metadata("{0:''}"), Names{""});
}

TEST(NamesMetadata, EmptyAndMalformedGiveEmpty) {
  const char* bad[] = {
      "",
      "{}",
      "   ",
      "{0: 'a'",                            // unterminated dict
      "{0: 'a}",                            // unterminated string
      "{0: 'a', 2: 'c'}",                   // gap
      "{1: 'b'}",                           // does not start at 0
      "{0: 'a', 0: 'b'}",                   // duplicate key
      "{-1: 'a'}",                          // negative key
      "{'0': 'a'}",                         // string key
      "{0: a}",                             // unquoted value
      "{0: 'a'} extra",                     // trailing text
      "{0: 'a',, 1: 'b'}",                  // empty element
      "{0 'a'}",                            // missing colon
      "{0: 'a' 1: 'b'}",                    // missing comma
      "{0: 'a\nb'}",                        // raw newline in a string
      "{0: '\\x4'}",                        // short hex escape
      "{0: '\\ud800'}",                     // lone surrogate
      "{99999999999999999999999999: 'a'}",  // key overflow
      "['person', 'bicycle']",              // a list, not a dict
  };
  for (const char* s : bad) {
    EXPECT_TRUE(parse_names_metadata(s).empty()) << s;
  }
}

}  // namespace
}  // namespace vidsift
