// One safetensors file, memory-mapped read-only for the life of the object.
// Rules of the road: the object owns the mapping (RAII; movable, not copyable), and every
// tensor_view it hands out points into that mapping, so views die with it. Moving keeps views
// valid: the mapping and the tensor vector's buffer stay where they are. The whole header is
// validated at open(), so later lookups cannot fail on file content. A file truncated by someone
// else while mapped raises SIGBUS on access; weights are read-only inputs, so we accept that.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "actors/engine/weights/tensor_view.hpp"

namespace proofmesh::engine {

class safetensors_file {
public:
  /// Maps and validates `path`; input_error if it is missing, unreadable or malformed.
  static safetensors_file open(const std::string& path);

  safetensors_file(safetensors_file&& other) noexcept;
  safetensors_file& operator=(safetensors_file&& other) noexcept;
  safetensors_file(const safetensors_file&) = delete;
  safetensors_file& operator=(const safetensors_file&) = delete;
  ~safetensors_file();

  /// All tensors, sorted by name.
  const std::vector<tensor_view>& tensors() const { return tensors_; }
  /// nullptr when absent.
  const tensor_view* find(std::string_view name) const;
  /// The header's "__metadata__" map (e.g. {"format": "pt"}).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

private:
  safetensors_file() = default;
  void unmap() noexcept;

  std::string path_;
  void* mapping_ = nullptr;  // nullptr for an empty file, which mmap cannot map
  size_t mapping_bytes_ = 0;
  std::vector<tensor_view> tensors_;
  std::map<std::string, std::string> metadata_;
};

} // namespace proofmesh::engine
