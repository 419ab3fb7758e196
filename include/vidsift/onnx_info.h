// onnx_info: reads what vidsift needs to know about an ONNX model (input
// name and shape, output shapes, opset, metadata) from the model file,
// decoded by Debian's ONNX library (libonnx-dev: onnx::ModelProto, generated
// protobuf code), without building the network.
//
// Contract:
//   - read_onnx_info() reads the whole file into memory and parses it;
//     parse_onnx_info() parses a buffer already in memory.  The whole
//     ModelProto is decoded (nodes and weights included, into an arena freed
//     before return); only the fields listed in OnnxInfo are copied out.
//   - Both throw OnnxInfoError when the file cannot be read
//     ("cannot read <path>: <strerror>") or the bytes are not a valid ONNX
//     ModelProto ("<path>: not a valid ONNX model: <detail>", with
//     "<memory>" in place of the path for parse_onnx_info).  Arbitrary or
//     truncated input throws OnnxInfoError; it never crashes and never reads
//     outside the buffer (protobuf's parser is bounds-checked).  Files over
//     2 GiB (the protobuf limit) are rejected.
//   - "Valid" means: protobuf parses the bytes as onnx.ModelProto (detail
//     "the protobuf ModelProto encoding is malformed or truncated" when it
//     does not: broken wire format, or any nested message, a node or an
//     initializer too, that is broken), ir_version and graph are present
//     ("no ir_version", "no graph"), and a model with ir_version >= 3 has at
//     least one opset_import ("no opset_import", as the ONNX checker
//     requires).  As in protobuf (and ONNX Runtime's loader), a field whose
//     wire type differs from the schema's is kept as an unknown field, not
//     an error.  Operators are not checked against the ONNX schemas.
//   - parse_names_metadata() never throws; malformed input gives an empty
//     vector.
//
// Thread-safety: all functions are reentrant and keep no shared state; they
// may be called concurrently.

#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vidsift {

// What vidsift reads from an ONNX model.  Dimensions are -1 when they are
// symbolic (dim_param) or unknown; a shape is empty when the value has no
// tensor type or its rank is unknown.
struct OnnxInfo {
  // Name of the first graph input that is not also an initializer; empty if
  // every graph input is an initializer.
  std::string input_name;
  // Shape of that input.
  std::vector<std::int64_t> input_shape;
  // One shape per graph output, in graph order.
  std::vector<std::vector<std::int64_t>> output_shapes;
  // Version of the default-domain ("" or "ai.onnx") opset_import; 0 if the
  // model imports no default-domain opset.
  std::int64_t opset = 0;
  // ModelProto.metadata_props, key -> value (a repeated key: last one wins).
  std::map<std::string, std::string> metadata;
  // ModelProto.producer_name (e.g. "pytorch").
  std::string producer_name;
};

// Thrown when a model cannot be read or is not a valid ONNX ModelProto.
class OnnxInfoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and parses the ONNX model at path.  Throws OnnxInfoError, with a
// message naming path, if the file cannot be read or is not a valid ONNX
// ModelProto.
OnnxInfo read_onnx_info(const std::filesystem::path& path);

// Parses an ONNX ModelProto held in memory.  Throws OnnxInfoError (message
// starting with "<memory>") if bytes is not a valid ONNX ModelProto.  The
// result does not refer to bytes after return.
OnnxInfo parse_onnx_info(std::string_view bytes);

// Parses the Ultralytics `names` metadata value, a Python dict literal such
// as "{0: 'person', 1: 'bicycle', 2: \"o'clock\"}", into labels indexed by
// class id.  Keys are non-negative integers, values single- or
// double-quoted Python strings (escapes \\ \' \" \n \r \t \xHH \uXXXX
// \UXXXXXXXX are decoded, others kept verbatim); whitespace and a trailing
// comma are allowed.  Returns an empty vector for malformed input, for
// duplicate keys, and when the keys are not exactly 0..n-1.
std::vector<std::string> parse_names_metadata(std::string_view value);

}  // namespace vidsift
