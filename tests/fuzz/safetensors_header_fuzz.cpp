// libFuzzer target: parse_safetensors_header over arbitrary bytes.
// Rules of the road: input_error is the only acceptable failure; anything else (another
// exception, a sanitizer report, a hang) is a finding. On success the entries must satisfy the
// parser's promises, checked here so a silent validation bug is a crash too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "actors/common/error.hpp"
#include "actors/engine/weights/safetensors_header.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace proofmesh::engine;
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  try {
    const safetensors_header header = parse_safetensors_header(file, "fuzz.safetensors");
    require(header.data_start >= 8 && header.data_start + header.data_size == size);
    for (const auto& entry : header.tensors) {
      require(entry.begin <= entry.end && entry.end <= header.data_size);
      require(entry.shape.size() <= safetensors_max_rank);
      uint64_t num_elements = 1;
      for (int64_t dim : entry.shape) num_elements *= static_cast<uint64_t>(dim);
      require(num_elements * dtype_size(entry.type) == entry.end - entry.begin);
      // Touch the first and last byte so ASan sees any out-of-range view.
      if (entry.end > entry.begin) {
        volatile std::byte first = file[header.data_start + entry.begin];
        volatile std::byte last = file[header.data_start + entry.end - 1];
        (void)first;
        (void)last;
      }
    }
  } catch (const proofmesh::input_error&) {
  }
  return 0;
}
