// The parsed header of a safetensors file: which tensors it holds and where their bytes lie.
// Rules of the road: parse_safetensors_header is a pure function over bytes (no I/O), so it can be
// fuzzed. It trusts nothing in the file: every length, offset and shape is range-checked before
// use, and any violation is an input_error whose message starts with the file name. It never
// reads outside `file`, and it bounds work by the 100 MB header cap of the reference Rust crate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "actors/engine/weights/dtype.hpp"

namespace proofmesh::engine {

/// Largest header the parser accepts, as in huggingface/safetensors (MAX_HEADER_SIZE).
inline constexpr uint64_t safetensors_max_header_bytes = 100'000'000;

/// Largest tensor rank the parser accepts; real checkpoints stop at 5.
inline constexpr size_t safetensors_max_rank = 8;

struct safetensors_header {
  struct entry {
    std::string name;
    dtype type;
    std::vector<int64_t> shape;
    size_t begin;  // byte offset of the first element, relative to data_start
    size_t end;    // one past the last byte; end - begin == elements * dtype_size(type)
  };

  std::vector<entry> tensors;                   // sorted by name
  std::map<std::string, std::string> metadata;  // "__metadata__", empty when absent
  size_t data_start;                            // 8 + header length: where offset 0 lies
  size_t data_size;                             // file size - data_start
};

/// Parses and validates the whole header of a safetensors file held in `file`. Tensors must lie
/// inside the data section and must not overlap; gaps and trailing bytes are tolerated.
safetensors_header parse_safetensors_header(std::span<const std::byte> file,
                                            std::string_view file_name_for_errors);

} // namespace proofmesh::engine
