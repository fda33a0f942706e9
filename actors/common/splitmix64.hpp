// splitmix64: one step of Vigna's generator, used wherever host code needs cheap, well-mixed,
// reproducible 64-bit values from a counter (seeds, weight init, block hashes). The CUDA sampler
// keeps a device copy of the same function in kernels/cuda/sample.cu.
#pragma once

#include <cstdint>

namespace proofmesh {

constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

} // namespace proofmesh
