// Every tensor of a model directory, single-file or sharded, behind one name lookup.
// Rules of the road: a directory holds either model.safetensors or model.safetensors.index.json
// ({"weight_map": {tensor: shard}}), the layout transformers writes; the single file wins when both
// exist. In the sharded case the weight_map is the authority: only tensors it lists are visible,
// each must exist in the shard it names, and shard names must be plain file names in the
// directory. All validation happens in open(); views stay valid for the store's life, moves too.
// A released tensor's mapped pages are dropped from this process (the page cache keeps them), so
// streaming a 16 GB checkpoint to the GPU holds a few pages of it at a time, not all of it.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "actors/engine/weights/safetensors_file.hpp"
#include "actors/engine/weights/tensor_view.hpp"
#include "actors/engine/weights/weight_source.hpp"

namespace proofmesh::engine {

class weight_store final : public weight_source {
public:
  static weight_store open(const std::string& model_dir);

  /// nullptr when absent.
  const tensor_view* find(std::string_view name) const;
  bool contains(std::string_view name) const override { return find(name) != nullptr; }

  const tensor_view& fetch(std::string_view name,
                           std::span<const int64_t> expected_shape) const override;
  /// Drops the tensor's whole mapped pages from this process's memory (madvise DONTNEED).
  void release(const tensor_view& tensor) const override;

  /// The tensor decoded to f32. input_error if it is missing or its shape is not `expected_shape`.
  std::vector<float> load_f32(std::string_view name, std::span<const int64_t> expected_shape) const;

  /// All tensor names, sorted.
  std::vector<std::string> names() const;

  /// The file that describes the store (model.safetensors or the index), for messages.
  const std::string& source() const { return source_; }

private:
  std::string source_;
  std::vector<safetensors_file> files_;
  std::map<std::string, const tensor_view*, std::less<>> index_;
};

} // namespace proofmesh::engine
