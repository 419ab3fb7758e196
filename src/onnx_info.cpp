#include "vidsift/onnx_info.h"

#include <google/protobuf/arena.h>
#include <onnx/onnx_pb.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>
#include <unordered_set>
#include <utility>

namespace vidsift {

namespace {

// Internal parse failure; the public functions turn it into OnnxInfoError
// with the source name in front.
class Malformed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Shape = std::vector<std::int64_t>;

// The shape of a tensor or sparse tensor value; empty for other kinds
// (sequence, map, optional) and when the rank is unknown.
Shape shape_of(const onnx::ValueInfoProto& value) {
  if (!value.has_type()) return {};
  const onnx::TypeProto& type = value.type();
  const onnx::TensorShapeProto* shape = nullptr;
  if (type.has_tensor_type() && type.tensor_type().has_shape()) {
    shape = &type.tensor_type().shape();
  } else if (type.has_sparse_tensor_type() && type.sparse_tensor_type().has_shape()) {
    shape = &type.sparse_tensor_type().shape();
  }
  if (shape == nullptr) return {};
  Shape dims;
  dims.reserve(static_cast<std::size_t>(shape->dim_size()));
  for (const onnx::TensorShapeProto::Dimension& d : shape->dim()) {
    dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
  }
  return dims;
}

OnnxInfo info_of(const onnx::ModelProto& model) {
  if (!model.has_ir_version()) throw Malformed("no ir_version");
  if (!model.has_graph()) throw Malformed("no graph");
  if (model.ir_version() >= 3 && model.opset_import_size() == 0) throw Malformed("no opset_import");

  OnnxInfo info;
  info.producer_name = model.producer_name();
  for (const onnx::OperatorSetIdProto& op : model.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") info.opset = op.version();
  }
  for (const onnx::StringStringEntryProto& e : model.metadata_props()) {
    info.metadata.insert_or_assign(e.key(), e.value());
  }

  const onnx::GraphProto& graph = model.graph();
  std::unordered_set<std::string_view> initializers;
  for (const onnx::TensorProto& t : graph.initializer()) initializers.insert(t.name());
  for (const onnx::SparseTensorProto& t : graph.sparse_initializer()) initializers.insert(t.values().name());
  for (const onnx::ValueInfoProto& in : graph.input()) {
    if (!initializers.contains(in.name())) {
      info.input_name = in.name();
      info.input_shape = shape_of(in);
      break;
    }
  }
  info.output_shapes.reserve(static_cast<std::size_t>(graph.output_size()));
  for (const onnx::ValueInfoProto& out : graph.output()) info.output_shapes.push_back(shape_of(out));
  return info;
}

// A serialized protobuf message cannot exceed 2 GiB; larger models keep
// their weights in external files.
constexpr std::size_t kMaxModelSize = (std::size_t{1} << 31) - 1;

OnnxInfo parse_model(std::string_view bytes) {
  if (bytes.size() > kMaxModelSize) throw Malformed("larger than 2 GiB");
  // The arena holds every parsed submessage (weights included) and frees
  // them at once.
  google::protobuf::Arena arena;
  auto* model = google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
  if (!model->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw Malformed("the protobuf ModelProto encoding is malformed or truncated");
  }
  return info_of(*model);
}

OnnxInfo parse_named(std::string_view bytes, const std::string& source) {
  try {
    return parse_model(bytes);
  } catch (const Malformed& e) {
    throw OnnxInfoError(source + ": not a valid ONNX model: " + e.what());
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

[[noreturn]] void throw_read_error(const std::filesystem::path& path, int err) {
  throw OnnxInfoError("cannot read " + path.string() + ": " + std::generic_category().message(err));
}

std::string read_file(const std::filesystem::path& path) {
  constexpr std::size_t kChunk = std::size_t{1} << 20;

  errno = 0;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw_read_error(path, errno != 0 ? errno : EIO);

  std::string data;
  for (;;) {
    const std::size_t old_size = data.size();
    if (old_size > kMaxModelSize) {
      throw OnnxInfoError(path.string() + ": not a valid ONNX model: larger than 2 GiB");
    }
    data.resize(old_size + kChunk);
    errno = 0;
    const std::size_t n = std::fread(data.data() + old_size, 1, kChunk, file.get());
    data.resize(old_size + n);
    if (n < kChunk) {
      if (std::ferror(file.get())) {
        throw_read_error(path, errno != 0 ? errno : EIO);
      }
      return data;
    }
  }
}

// ---------------------------------------------------------------------------
// Python dict literal of class names
// ---------------------------------------------------------------------------

// Parses {int: 'str', ...}.  Every method returns false on malformed input.
class NamesParser {
 public:
  explicit NamesParser(std::string_view s) : s_(s) {}

  bool parse(std::map<std::size_t, std::string>& out) {
    skip_space();
    if (!consume('{')) return false;
    skip_space();
    if (!consume('}')) {
      for (;;) {
        std::size_t key = 0;
        std::string value;
        skip_space();
        if (!parse_key(key)) return false;
        skip_space();
        if (!consume(':')) return false;
        skip_space();
        if (!parse_string(value)) return false;
        if (!out.emplace(key, std::move(value)).second) return false;
        skip_space();
        if (consume('}')) break;
        if (!consume(',')) return false;
        skip_space();
        if (consume('}')) break;  // trailing comma
      }
    }
    skip_space();
    return pos_ == s_.size();
  }

 private:
  bool consume(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // A key can only be valid if it is below the number of entries, which is
  // at most the input length; larger values are rejected before they can
  // overflow.
  bool parse_key(std::size_t& key) {
    const std::size_t start = pos_;
    key = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      key = key * 10 + static_cast<std::size_t>(s_[pos_] - '0');
      if (key > s_.size()) return false;
      ++pos_;
    }
    return pos_ > start;
  }

  bool hex_digits(std::size_t count, std::uint32_t& value) {
    if (s_.size() - pos_ < count) return false;
    value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = s_[pos_++];
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
      value = value * 16 + digit;
    }
    return true;
  }

  static bool append_utf8(std::uint32_t cp, std::string& out) {
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    return true;
  }

  bool parse_escape(std::string& out) {
    if (pos_ == s_.size()) return false;
    const char c = s_[pos_++];
    std::uint32_t cp = 0;
    switch (c) {
      case '\\': out.push_back('\\'); return true;
      case '\'': out.push_back('\''); return true;
      case '"': out.push_back('"'); return true;
      case 'n': out.push_back('\n'); return true;
      case 'r': out.push_back('\r'); return true;
      case 't': out.push_back('\t'); return true;
      case 'x': return hex_digits(2, cp) && append_utf8(cp, out);
      case 'u': return hex_digits(4, cp) && append_utf8(cp, out);
      case 'U': return hex_digits(8, cp) && append_utf8(cp, out);
      default:  // Python keeps unknown escapes verbatim.
        out.push_back('\\');
        out.push_back(c);
        return true;
    }
  }

  bool parse_string(std::string& out) {
    if (pos_ == s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) {
      return false;
    }
    const char quote = s_[pos_++];
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == quote) return true;
      if (c == '\n') return false;  // not allowed in a one-line literal
      if (c == '\\') {
        if (!parse_escape(out)) return false;
      } else {
        out.push_back(c);
      }
    }
    return false;  // unterminated
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

OnnxInfo parse_onnx_info(std::string_view bytes) { return parse_named(bytes, "<memory>"); }

OnnxInfo read_onnx_info(const std::filesystem::path& path) {
  const std::string data = read_file(path);
  return parse_named(data, path.string());
}

std::vector<std::string> parse_names_metadata(std::string_view value) {
  std::map<std::size_t, std::string> entries;
  if (!NamesParser(value).parse(entries)) return {};
  // Keys are unique; they are exactly 0..n-1 iff the largest is n-1.
  if (entries.empty() || entries.rbegin()->first != entries.size() - 1) {
    return {};
  }
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (auto& [id, name] : entries) names.push_back(std::move(name));
  return names;
}

}  // namespace vidsift
