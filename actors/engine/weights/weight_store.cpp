// Rules of the road: the index JSON is untrusted like any file: size-capped, strictly typed, shard
// names checked before they touch the file system. Files are opened once per shard, and the name
// index is built only after files_ stops growing, so no view pointer sees a reallocation.
#include "actors/engine/weights/weight_store.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/common/error.hpp"
#include "actors/common/text_file.hpp"
#include "actors/engine/weights/safetensors_header.hpp"

namespace proofmesh::engine {

namespace {

using json = nlohmann::json;

bool is_regular_file(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 && S_ISREG(status.st_mode);
}

json read_index(const std::string& path) {
  const std::string content = read_text_file(path, safetensors_max_header_bytes);
  try {
    return json::parse(content);
  } catch (const json::exception& e) {
    throw input_error(path + ": not valid JSON: " + e.what());
  }
}

void check_shard_name(const std::string& index_path, const std::string& shard) {
  const bool is_plain = !shard.empty() && shard != "." && shard != ".." &&
                        shard.find('/') == std::string::npos &&
                        shard.find('\\') == std::string::npos &&
                        shard.find('\0') == std::string::npos;
  if (!is_plain) {
    throw input_error(index_path + ": shard name " + json(shard).dump() +
                      " is not a plain file name inside the model directory");
  }
}

} // namespace

weight_store weight_store::open(const std::string& model_dir) {
  weight_store store;
  const std::string single_path = model_dir + "/model.safetensors";
  const std::string index_path = model_dir + "/model.safetensors.index.json";
  if (is_regular_file(single_path)) {
    store.source_ = single_path;
    store.files_.push_back(safetensors_file::open(single_path));
    for (const tensor_view& tensor : store.files_.front().tensors()) {
      store.index_.emplace(tensor.name, &tensor);
    }
    return store;
  }
  if (!is_regular_file(index_path)) {
    throw input_error(model_dir + ": holds neither model.safetensors nor model.safetensors.index.json");
  }

  store.source_ = index_path;
  const json index = read_index(index_path);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw input_error(index_path + ": lacks a \"weight_map\" object");
  }
  const json& weight_map = index["weight_map"];
  std::map<std::string, size_t> file_of_shard;
  for (const auto& [name, shard_json] : weight_map.items()) {
    if (!shard_json.is_string()) {
      throw input_error(index_path + ": weight_map entry " + json(name).dump() + " is not a string");
    }
    const auto shard = shard_json.get<std::string>();
    check_shard_name(index_path, shard);
    if (file_of_shard.emplace(shard, store.files_.size()).second) {
      store.files_.push_back(safetensors_file::open(model_dir + "/" + shard));
    }
  }
  for (const auto& [name, shard_json] : weight_map.items()) {
    const auto shard = shard_json.get<std::string>();
    const tensor_view* tensor = store.files_[file_of_shard.at(shard)].find(name);
    if (tensor == nullptr) {
      throw input_error(index_path + ": tensor " + json(name).dump() + " is not in shard " +
                        json(shard).dump());
    }
    store.index_.emplace(name, tensor);
  }
  return store;
}

const tensor_view* weight_store::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

const tensor_view& weight_store::fetch(std::string_view name,
                                       std::span<const int64_t> expected_shape) const {
  const tensor_view* tensor = find(name);
  if (tensor == nullptr) {
    throw input_error(source_ + ": missing tensor \"" + std::string(name) + "\"");
  }
  if (!std::equal(tensor->shape.begin(), tensor->shape.end(), expected_shape.begin(),
                  expected_shape.end())) {
    throw input_error(source_ + ": tensor \"" + tensor->name + "\" has shape " +
                      shape_string(tensor->shape) + ", expected " + shape_string(expected_shape));
  }
  return *tensor;
}

void weight_store::release(const tensor_view& tensor) const {
  // Only pages wholly inside the tensor: a neighbour's bytes on a shared page are simply read
  // again from the page cache if they are needed.
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(tensor.data);
  const uintptr_t first = (begin + page - 1) / page * page;
  const uintptr_t last = (begin + tensor.num_bytes) / page * page;
  if (last > first) {
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  }
}

std::vector<float> weight_store::load_f32(std::string_view name,
                                          std::span<const int64_t> expected_shape) const {
  const tensor_view& tensor = fetch(name, expected_shape);
  std::vector<float> values(static_cast<size_t>(tensor.num_elements()));
  to_f32(tensor, values);
  return values;
}

std::vector<std::string> weight_store::names() const {
  std::vector<std::string> result;
  result.reserve(index_.size());
  for (const auto& [name, tensor] : index_) result.push_back(name);
  return result;
}

} // namespace proofmesh::engine
