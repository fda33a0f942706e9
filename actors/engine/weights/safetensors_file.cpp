// Rules of the road: POSIX calls only (open/fstat/mmap), each failure reported with strerror and
// the path. The descriptor is closed right after mmap; the mapping keeps the file alive.
#include "actors/engine/weights/safetensors_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

#include "actors/common/error.hpp"
#include "actors/engine/weights/safetensors_header.hpp"

namespace proofmesh::engine {

namespace {

[[noreturn]] void fail_errno(const std::string& path, const char* action) {
  throw input_error(path + ": cannot " + action + ": " + std::strerror(errno));
}

class file_descriptor {
public:
  explicit file_descriptor(int fd) : fd_(fd) {}
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  int get() const { return fd_; }

private:
  int fd_;
};

} // namespace

safetensors_file safetensors_file::open(const std::string& path) {
  const file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail_errno(path, "open");
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) fail_errno(path, "stat");
  if (!S_ISREG(status.st_mode)) throw input_error(path + ": not a regular file");

  safetensors_file file;
  file.path_ = path;
  file.mapping_bytes_ = static_cast<size_t>(status.st_size);
  if (file.mapping_bytes_ > 0) {
    void* mapping = ::mmap(nullptr, file.mapping_bytes_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (mapping == MAP_FAILED) fail_errno(path, "mmap");
    file.mapping_ = mapping;
  }

  // From here an exception destroys `file`, which unmaps.
  const std::span<const std::byte> bytes(static_cast<const std::byte*>(file.mapping_),
                                         file.mapping_bytes_);
  safetensors_header header = parse_safetensors_header(bytes, path);
  const std::byte* data = bytes.data() + header.data_start;
  file.tensors_.reserve(header.tensors.size());
  for (auto& entry : header.tensors) {
    file.tensors_.push_back(tensor_view{
        .name = std::move(entry.name),
        .type = entry.type,
        .shape = std::move(entry.shape),
        .data = data + entry.begin,
        .num_bytes = entry.end - entry.begin,
    });
  }
  file.metadata_ = std::move(header.metadata);
  return file;
}

safetensors_file::safetensors_file(safetensors_file&& other) noexcept
    : path_(std::move(other.path_)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)),
      tensors_(std::move(other.tensors_)),
      metadata_(std::move(other.metadata_)) {}

safetensors_file& safetensors_file::operator=(safetensors_file&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
    tensors_ = std::move(other.tensors_);
    metadata_ = std::move(other.metadata_);
  }
  return *this;
}

safetensors_file::~safetensors_file() { unmap(); }

void safetensors_file::unmap() noexcept {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_bytes_);
  mapping_ = nullptr;
  mapping_bytes_ = 0;
  tensors_.clear();
}

const tensor_view* safetensors_file::find(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const tensor_view& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

} // namespace proofmesh::engine
