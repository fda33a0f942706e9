// Rules of the road: checks run in the order the bytes are read (prefix, length, JSON, entries,
// then cross-entry overlap), each with its own message, so a test can name the failing check. All
// arithmetic on numbers from the file is in uint64 with explicit overflow checks.
#include "actors/engine/weights/safetensors_header.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "actors/common/error.hpp"

namespace proofmesh::engine {

namespace {

using json = nlohmann::json;

// Deepest legitimate value: an element of "shape" (root -> tensor -> shape -> element).
constexpr int max_json_depth = 3;

// JSON-quotes a name for a message, so control characters cannot break the one-line rule.
std::string quoted(const std::string& text) {
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

// nlohmann's messages echo the bytes they choked on; keep the message printable ASCII.
std::string printable(std::string text) {
  for (char& c : text) {
    if (c < 0x20 || c > 0x7E) c = '?';
  }
  return text;
}

class header_errors {
public:
  explicit header_errors(std::string_view file) : file_(file) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw input_error(std::string(file_) + ": " + problem);
  }
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& problem) const {
    fail("tensor " + quoted(name) + " " + problem);
  }

private:
  std::string_view file_;
};

uint64_t read_u64_le(const std::byte* at) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint64_t>(at[i]);
  return value;
}

// nlohmann keeps the last of two equal keys; safetensors forbids them, so we watch for them while
// parsing. The same callback stops absurd nesting early instead of building a deep DOM.
json parse_json_strictly(std::string_view text, const header_errors& errors) {
  std::vector<std::set<std::string>> keys_per_object;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > max_json_depth) errors.fail("header JSON nests deeper than a safetensors header");
    switch (event) {
    case json::parse_event_t::object_start: keys_per_object.emplace_back(); break;
    case json::parse_event_t::object_end: keys_per_object.pop_back(); break;
    case json::parse_event_t::key:
      if (!keys_per_object.back().insert(parsed.get<std::string>()).second) {
        errors.fail("header JSON repeats the key " + quoted(parsed.get<std::string>()));
      }
      break;
    default: break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    errors.fail("header is not valid JSON: " + printable(e.what()));
  }
}

std::map<std::string, std::string> parse_metadata(const json& value,
                                                  const header_errors& errors) {
  if (!value.is_object()) errors.fail("\"__metadata__\" is not a JSON object");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) errors.fail("\"__metadata__\" value of " + quoted(key) + " is not a string");
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// A non-negative JSON integer; nlohmann types those as unsigned, negatives as integer, and
// integers too big for uint64 (or written with '.', 'e') as float.
uint64_t parse_count(const json& value, const std::string& name, const char* field,
                     const header_errors& errors) {
  if (!value.is_number_unsigned()) {
    errors.fail_tensor(name, std::string(field) + " holds " + value.dump() +
                                 ", not a non-negative integer below 2^64");
  }
  return value.get<uint64_t>();
}

safetensors_header::entry parse_entry(const std::string& name, const json& value,
                                      uint64_t data_size, const header_errors& errors) {
  if (!value.is_object()) errors.fail_tensor(name, "is not a JSON object");
  for (const auto& [key, item] : value.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      errors.fail_tensor(name, "has unknown field " + quoted(key));
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!value.contains(field)) errors.fail_tensor(name, std::string("lacks \"") + field + "\"");
  }

  const json& dtype_json = value["dtype"];
  if (!dtype_json.is_string()) errors.fail_tensor(name, "dtype is not a string");
  const auto type = dtype_from_name(dtype_json.get<std::string>());
  if (!type) {
    errors.fail_tensor(name, "has unsupported dtype " + dtype_json.dump() +
                                 " (supported: F32, F16, BF16)");
  }

  const json& shape_json = value["shape"];
  if (!shape_json.is_array()) errors.fail_tensor(name, "shape is not a JSON array");
  if (shape_json.size() > safetensors_max_rank) {
    errors.fail_tensor(name, "has rank " + std::to_string(shape_json.size()) + ", above the limit " +
                                 std::to_string(safetensors_max_rank));
  }
  std::vector<int64_t> shape;
  uint64_t num_elements = 1;
  for (const json& dim_json : shape_json) {
    const uint64_t dim = parse_count(dim_json, name, "shape", errors);
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(num_elements, dim, &num_elements)) {
      errors.fail_tensor(name, "shape " + shape_json.dump() + " overflows 64 bits");
    }
    shape.push_back(static_cast<int64_t>(dim));
  }
  uint64_t num_bytes = 0;
  if (__builtin_mul_overflow(num_elements, dtype_size(*type), &num_bytes)) {
    errors.fail_tensor(name, "shape " + shape_json.dump() + " overflows 64 bits in bytes");
  }

  const json& offsets_json = value["data_offsets"];
  if (!offsets_json.is_array() || offsets_json.size() != 2) {
    errors.fail_tensor(name, "data_offsets is not a [begin, end] pair");
  }
  const uint64_t begin = parse_count(offsets_json[0], name, "data_offsets", errors);
  const uint64_t end = parse_count(offsets_json[1], name, "data_offsets", errors);
  const std::string range = "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
  if (begin > end) errors.fail_tensor(name, "data range " + range + " ends before it begins");
  if (end > data_size) {
    errors.fail_tensor(name, "data range " + range + " exceeds the data section (" +
                                 std::to_string(data_size) + " bytes)");
  }
  if (end - begin != num_bytes) {
    errors.fail_tensor(name, "data range " + range + " holds " + std::to_string(end - begin) +
                                 " bytes but " + std::string(dtype_name(*type)) + " shape " +
                                 shape_json.dump() + " needs " + std::to_string(num_bytes));
  }
  return {name, *type, std::move(shape), static_cast<size_t>(begin), static_cast<size_t>(end)};
}

void check_no_overlap(const std::vector<safetensors_header::entry>& tensors,
                      const header_errors& errors) {
  std::vector<const safetensors_header::entry*> by_offset;
  by_offset.reserve(tensors.size());
  for (const auto& tensor : tensors) by_offset.push_back(&tensor);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto& previous = *by_offset[i - 1];
    const auto& current = *by_offset[i];
    if (current.begin < previous.end) {
      errors.fail_tensor(current.name, "data range [" + std::to_string(current.begin) + ", " +
                                           std::to_string(current.end) + ") overlaps tensor " +
                                           quoted(previous.name) + " [" + std::to_string(previous.begin) +
                                           ", " + std::to_string(previous.end) + ")");
    }
  }
}

} // namespace

safetensors_header parse_safetensors_header(std::span<const std::byte> file,
                                            std::string_view file_name_for_errors) {
  const header_errors errors(file_name_for_errors);
  if (file.size() < 8) {
    errors.fail("file is " + std::to_string(file.size()) +
                " bytes, too short for the 8-byte header length");
  }
  const uint64_t header_bytes = read_u64_le(file.data());
  if (header_bytes > safetensors_max_header_bytes) {
    errors.fail("header length " + std::to_string(header_bytes) + " exceeds the cap of " +
                std::to_string(safetensors_max_header_bytes) + " bytes");
  }
  if (header_bytes > file.size() - 8) {
    errors.fail("header length " + std::to_string(header_bytes) + " exceeds the file (" +
                std::to_string(file.size()) + " bytes)");
  }

  const std::string_view text(reinterpret_cast<const char*>(file.data() + 8), header_bytes);
  // The Rust crate demands '{' first; checking here also keeps "[...]" or a bare number from
  // reaching the JSON parser.
  if (text.empty() || text.front() != '{') errors.fail("header does not start with a JSON object");
  // nlohmann stops at a raw NUL as if the input ended, which would let bytes after it through.
  if (text.find('\0') != std::string_view::npos) errors.fail("header is not valid JSON: raw NUL byte");
  const json root = parse_json_strictly(text, errors);
  if (!root.is_object()) errors.fail("header is not a JSON object");

  safetensors_header header;
  header.data_start = static_cast<size_t>(8 + header_bytes);
  header.data_size = file.size() - header.data_start;
  header.tensors.reserve(root.size());
  for (const auto& [name, value] : root.items()) {  // json objects iterate in name order
    if (name == "__metadata__") {
      header.metadata = parse_metadata(value, errors);
    } else {
      header.tensors.push_back(parse_entry(name, value, header.data_size, errors));
    }
  }
  check_no_overlap(header.tensors, errors);
  return header;
}

} // namespace proofmesh::engine
