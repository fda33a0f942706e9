// Rules of the road: validate everything before creating any file, so a bad call leaves the
// directory untouched; after the temp file exists, every failure path unlinks it.
#include "actors/engine/weights/safetensors_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "actors/common/error.hpp"

namespace proofmesh::engine {

namespace {

using ordered_json = nlohmann::ordered_json;

// The Rust crate sorts by its Dtype enum, descending; that enum lists F8_E4M3, F16, BF16, F32.
int alignment_rank(dtype type) {
  switch (type) {
  case dtype::dtype_f32: return 0;
  case dtype::dtype_bf16: return 1;
  case dtype::dtype_f16: return 2;
  case dtype::dtype_f8_e4m3: return 3;
  }
  return 4;
}

void check_tensor(const std::string& path, const tensor_to_write& tensor) {
  const std::string prefix = path + ": tensor \"" + tensor.name + "\" ";
  if (tensor.name == "__metadata__") throw input_error(prefix + "uses the reserved name");
  uint64_t num_elements = 1;
  for (int64_t dim : tensor.shape) {
    if (dim < 0) throw input_error(prefix + "has a negative dimension");
    if (__builtin_mul_overflow(num_elements, static_cast<uint64_t>(dim), &num_elements)) {
      throw input_error(prefix + "shape overflows 64 bits");
    }
  }
  uint64_t num_bytes = 0;
  if (__builtin_mul_overflow(num_elements, dtype_size(tensor.type), &num_bytes) ||
      num_bytes != tensor.bytes.size()) {
    throw input_error(prefix + "has " + std::to_string(tensor.bytes.size()) +
                      " bytes, but its shape and dtype need " + std::to_string(num_bytes));
  }
}

std::string build_header(const std::string& path, const std::vector<const tensor_to_write*>& order,
                         const std::map<std::string, std::string>& metadata) {
  ordered_json header = ordered_json::object();
  ordered_json& meta = header["__metadata__"] = ordered_json::object();
  for (const auto& [key, value] : metadata) meta[key] = value;
  if (!meta.contains("format")) meta["format"] = "pt";
  uint64_t offset = 0;
  for (const tensor_to_write* tensor : order) {
    ordered_json shape = ordered_json::array();
    for (int64_t dim : tensor->shape) shape.push_back(static_cast<uint64_t>(dim));
    ordered_json entry = ordered_json::object();
    entry["dtype"] = dtype_name(tensor->type);
    entry["shape"] = std::move(shape);
    entry["data_offsets"] = {offset, offset + tensor->bytes.size()};
    header[tensor->name] = std::move(entry);
    offset += tensor->bytes.size();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw input_error(path + ": cannot encode the header: " + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void write_all(int fd, const std::string& temp_path, const std::byte* data, size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw input_error(temp_path + ": cannot write: " + std::strerror(errno));
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
}

std::string parent_directory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

void write_safetensors(const std::string& path, std::span<const tensor_to_write> tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::set<std::string_view> names;
  std::vector<const tensor_to_write*> order;
  for (const tensor_to_write& tensor : tensors) {
    check_tensor(path, tensor);
    if (!names.insert(tensor.name).second) {
      throw input_error(path + ": tensor \"" + tensor.name + "\" appears twice");
    }
    order.push_back(&tensor);
  }
  std::sort(order.begin(), order.end(), [](const tensor_to_write* a, const tensor_to_write* b) {
    const int rank_a = alignment_rank(a->type);
    const int rank_b = alignment_rank(b->type);
    return rank_a != rank_b ? rank_a < rank_b : a->name < b->name;
  });
  const std::string header = build_header(path, order, metadata);

  std::string temp_path = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temp_path.data());
  if (fd < 0) throw input_error(path + ": cannot create a temp file: " + std::strerror(errno));
  bool is_closed = false;
  try {
    // mkstemp makes 0600; weights are meant to be shared like any file Python would write.
    if (::fchmod(fd, 0644) != 0) {
      throw input_error(temp_path + ": cannot chmod: " + std::strerror(errno));
    }
    uint8_t prefix[8];
    for (int i = 0; i < 8; ++i) prefix[i] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i));
    write_all(fd, temp_path, reinterpret_cast<const std::byte*>(prefix), sizeof prefix);
    write_all(fd, temp_path, reinterpret_cast<const std::byte*>(header.data()), header.size());
    for (const tensor_to_write* tensor : order) {
      write_all(fd, temp_path, tensor->bytes.data(), tensor->bytes.size());
    }
    if (::fsync(fd) != 0) throw input_error(temp_path + ": cannot fsync: " + std::strerror(errno));
    is_closed = true;  // Linux releases the descriptor even when close reports an error
    if (::close(fd) != 0) {
      throw input_error(temp_path + ": cannot close: " + std::strerror(errno));
    }
  } catch (...) {
    if (!is_closed) ::close(fd);
    ::unlink(temp_path.c_str());
    throw;
  }
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp_path.c_str());
    throw input_error(path + ": cannot rename the temp file into place: " + std::strerror(error));
  }
  // Make the rename itself durable; failure here loses nothing already written, so it is ignored.
  const int dir_fd = ::open(parent_directory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    if (::fsync(dir_fd) != 0) {
    }
    ::close(dir_fd);
  }
}

} // namespace proofmesh::engine
