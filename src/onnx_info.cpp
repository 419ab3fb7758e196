#include "vidsift/onnx_info.h"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_set>
#include <utility>

namespace vidsift {

namespace {

// ---------------------------------------------------------------------------
// Protobuf wire format
// ---------------------------------------------------------------------------

enum WireType : std::uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Internal parse failure; the public functions turn it into OnnxInfoError
// with the source name in front.
class Malformed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One decoded field: its number, wire type and payload.
struct Field {
  std::uint32_t number = 0;
  std::uint32_t wire = 0;
  std::uint64_t varint = 0;  // payload of a kVarint field
  std::string_view bytes;    // payload of a kLengthDelimited field
  std::size_t offset = 0;    // absolute offset of the payload in the input
};

// Walks the fields of one message.  Every read is bounds-checked against the
// message's own bytes, so a nested length can never reach past its parent.
class Reader {
 public:
  Reader(std::string_view data, std::size_t base) : data_(data), base_(base) {}

  bool at_end() const { return pos_ == data_.size(); }

  // Decodes the next field and consumes its payload.
  Field next() {
    const std::size_t tag_offset = offset();
    const std::uint64_t tag = read_varint();
    Field f;
    f.wire = static_cast<std::uint32_t>(tag & 7);
    const std::uint64_t number = tag >> 3;
    if (number == 0 || number > 0x1fffffff) {
      throw Malformed("invalid field number " + std::to_string(number) + " at byte " + std::to_string(tag_offset));
    }
    f.number = static_cast<std::uint32_t>(number);
    switch (f.wire) {
      case kVarint:
        f.offset = offset();
        f.varint = read_varint();
        break;
      case kFixed64:
        f.offset = offset();
        advance(8);
        break;
      case kLengthDelimited: {
        const std::uint64_t len = read_varint();
        f.offset = offset();
        f.bytes = data_.substr(pos_, checked_length(len));
        advance(f.bytes.size());
        break;
      }
      case kFixed32:
        f.offset = offset();
        advance(4);
        break;
      case kStartGroup:
      case kEndGroup:
        throw Malformed("unsupported group field " + std::to_string(number) + " at byte " + std::to_string(tag_offset));
      default:
        throw Malformed("invalid wire type " + std::to_string(f.wire) + " at byte " + std::to_string(tag_offset));
    }
    return f;
  }

 private:
  std::size_t offset() const { return base_ + pos_; }

  std::uint64_t read_varint() {
    const std::size_t start = offset();
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == data_.size()) {
        throw Malformed("truncated varint at byte " + std::to_string(start));
      }
      const auto byte = static_cast<std::uint8_t>(data_[pos_++]);
      value |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return value;
    }
    throw Malformed("varint longer than 10 bytes at byte " + std::to_string(start));
  }

  std::size_t checked_length(std::uint64_t len) const {
    if (len > data_.size() - pos_) {
      throw Malformed("field of " + std::to_string(len) + " bytes at byte " + std::to_string(offset()) +
                      " runs past its end (" + std::to_string(data_.size() - pos_) + " bytes left)");
    }
    return static_cast<std::size_t>(len);
  }

  void advance(std::uint64_t n) { pos_ += checked_length(n); }

  std::string_view data_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

void expect_wire(const Field& f, WireType wire, const char* name) {
  if (f.wire != wire) {
    throw Malformed(std::string(name) + " (field " + std::to_string(f.number) + ") has wire type " +
                    std::to_string(f.wire) + ", expected " + std::to_string(wire) + " at byte " +
                    std::to_string(f.offset));
  }
}

std::uint64_t varint_of(const Field& f, const char* name) {
  expect_wire(f, kVarint, name);
  return f.varint;
}

std::string_view bytes_of(const Field& f, const char* name) {
  expect_wire(f, kLengthDelimited, name);
  return f.bytes;
}

Reader message_of(const Field& f, const char* name) { return Reader(bytes_of(f, name), f.offset); }

// ---------------------------------------------------------------------------
// ONNX messages (onnx.proto field numbers)
// ---------------------------------------------------------------------------

using Shape = std::vector<std::int64_t>;

// TensorShapeProto.Dimension: dim_value = 1, dim_param = 2.
std::int64_t parse_dimension(Reader r) {
  std::int64_t dim = -1;
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 1) {
      const auto v = static_cast<std::int64_t>(varint_of(f, "dim_value"));
      dim = v >= 0 ? v : -1;
    } else if (f.number == 2) {
      (void)bytes_of(f, "dim_param");
      dim = -1;
    }
  }
  return dim;
}

// TensorShapeProto: dim = 1.  Appends (protobuf merges repeated fields).
void parse_shape(Reader r, Shape& shape) {
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 1) shape.push_back(parse_dimension(message_of(f, "dim")));
  }
}

// TypeProto.Tensor / TypeProto.SparseTensor: elem_type = 1, shape = 2.
void parse_tensor_type(Reader r, Shape& shape) {
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 1) {
      (void)varint_of(f, "elem_type");
    } else if (f.number == 2) {
      parse_shape(message_of(f, "shape"), shape);
    }
  }
}

// TypeProto: tensor_type = 1, sparse_tensor_type = 8.  Other kinds
// (sequence, map, optional) have no shape and are skipped.
void parse_type(Reader r, Shape& shape) {
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 1 || f.number == 8) {
      parse_tensor_type(message_of(f, "tensor_type"), shape);
    }
  }
}

struct ValueInfo {
  std::string_view name;
  Shape shape;
};

// ValueInfoProto: name = 1, type = 2.
ValueInfo parse_value_info(Reader r) {
  ValueInfo v;
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 1) {
      v.name = bytes_of(f, "value name");
    } else if (f.number == 2) {
      parse_type(message_of(f, "type"), v.shape);
    }
  }
  return v;
}

// TensorProto: name = 8.  The data fields are skipped by length.
std::string_view parse_tensor_name(Reader r) {
  std::string_view name;
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 8) name = bytes_of(f, "tensor name");
  }
  return name;
}

// SparseTensorProto: values = 1 (a TensorProto whose name is the sparse
// tensor's name).
std::string_view parse_sparse_tensor_name(Reader r) {
  std::string_view name;
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 1) name = parse_tensor_name(message_of(f, "values"));
  }
  return name;
}

struct GraphParts {
  std::vector<ValueInfo> inputs;
  std::vector<Shape> outputs;
  std::unordered_set<std::string_view> initializers;
};

// GraphProto: initializer = 5, input = 11, output = 12,
// sparse_initializer = 15.  Nodes (1) and everything else are skipped.
void parse_graph(Reader r, GraphParts& g) {
  while (!r.at_end()) {
    const Field f = r.next();
    switch (f.number) {
      case 5: g.initializers.insert(parse_tensor_name(message_of(f, "initializer"))); break;
      case 11: g.inputs.push_back(parse_value_info(message_of(f, "input"))); break;
      case 12: g.outputs.push_back(parse_value_info(message_of(f, "output")).shape); break;
      case 15: g.initializers.insert(parse_sparse_tensor_name(message_of(f, "sparse_initializer"))); break;
      default: break;
    }
  }
}

// OperatorSetIdProto: domain = 1, version = 2.
std::pair<std::string_view, std::int64_t> parse_opset(Reader r) {
  std::pair<std::string_view, std::int64_t> opset{{}, 0};
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 1) {
      opset.first = bytes_of(f, "opset domain");
    } else if (f.number == 2) {
      opset.second = static_cast<std::int64_t>(varint_of(f, "opset version"));
    }
  }
  return opset;
}

// StringStringEntryProto: key = 1, value = 2.
std::pair<std::string_view, std::string_view> parse_entry(Reader r) {
  std::pair<std::string_view, std::string_view> entry;
  while (!r.at_end()) {
    const Field f = r.next();
    if (f.number == 1) {
      entry.first = bytes_of(f, "metadata key");
    } else if (f.number == 2) {
      entry.second = bytes_of(f, "metadata value");
    }
  }
  return entry;
}

// ModelProto: ir_version = 1, producer_name = 2, graph = 7,
// opset_import = 8, metadata_props = 14.
OnnxInfo parse_model(std::string_view bytes) {
  OnnxInfo info;
  std::optional<std::uint64_t> ir_version;
  bool has_graph = false;
  bool has_opset_import = false;
  GraphParts graph;

  Reader r(bytes, 0);
  while (!r.at_end()) {
    const Field f = r.next();
    switch (f.number) {
      case 1: ir_version = varint_of(f, "ir_version"); break;
      case 2: info.producer_name = std::string(bytes_of(f, "producer_name")); break;
      case 7:
        has_graph = true;
        parse_graph(message_of(f, "graph"), graph);
        break;
      case 8: {
        has_opset_import = true;
        const auto [domain, version] = parse_opset(message_of(f, "opset_import"));
        if (domain.empty() || domain == "ai.onnx") info.opset = version;
        break;
      }
      case 14: {
        const auto [key, value] = parse_entry(message_of(f, "metadata_props"));
        info.metadata.insert_or_assign(std::string(key), std::string(value));
        break;
      }
      default: break;
    }
  }

  if (!ir_version) throw Malformed("no ir_version");
  if (!has_graph) throw Malformed("no graph");
  if (*ir_version >= 3 && !has_opset_import) throw Malformed("no opset_import");

  for (const ValueInfo& in : graph.inputs) {
    if (!graph.initializers.contains(in.name)) {
      info.input_name = std::string(in.name);
      info.input_shape = in.shape;
      break;
    }
  }
  info.output_shapes = std::move(graph.outputs);
  return info;
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
  // A serialized protobuf message cannot exceed 2 GiB; larger models keep
  // their weights in external files.
  constexpr std::size_t kMaxModelSize = std::size_t{1} << 31;
  constexpr std::size_t kChunk = std::size_t{1} << 20;

  errno = 0;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw_read_error(path, errno != 0 ? errno : EIO);

  std::string data;
  for (;;) {
    const std::size_t old_size = data.size();
    if (old_size >= kMaxModelSize) {
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
