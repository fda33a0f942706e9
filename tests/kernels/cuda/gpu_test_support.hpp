// Shared helpers of the CUDA kernel tests: the skip-without-GPU check, device buffers that are
// poisoned before a kernel runs, and float conversions for T in {float, bf16}.
// Rules of the road: every test starts with PM_SKIP_WITHOUT_GPU(); a failed runtime call throws,
// which GoogleTest reports as a failure of that test; outputs are filled with 0xff bytes (a NaN
// in float and in bf16) before each launch so that an element the kernel forgot shows as NaN.
#pragma once

#include <gtest/gtest.h>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace proofmesh::kernels::test {

inline bool has_gpu(std::string* why) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    *why = err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device";
    return false;
  }
  return true;
}

#define PM_SKIP_WITHOUT_GPU()                                    \
  do {                                                           \
    std::string pm_why_;                                         \
    if (!::proofmesh::kernels::test::has_gpu(&pm_why_)) {        \
      GTEST_SKIP() << "needs a CUDA GPU: " << pm_why_;           \
    }                                                            \
  } while (0)

inline void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
  }
}

inline float to_float(float v) { return v; }
inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
T from_float(float v) {
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else {
    return __float2bfloat16(v);
  }
}

/// v rounded to T and back: what a kernel storing v in T leaves.
template <typename T>
float round_to(float v) {
  return to_float(from_float<T>(v));
}

template <typename T>
std::vector<float> to_floats(const std::vector<T>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    out[i] = to_float(v[i]);
  }
  return out;
}

/// n values drawn from N(mean, stddev), already representable in T.
template <typename T>
std::vector<T> random_values(size_t n, std::mt19937& rng, float stddev = 1.0f, float mean = 0.0f) {
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<T> out(n);
  for (auto& e : out) {
    e = from_float<T>(dist(rng));
  }
  return out;
}

/// Device memory of n elements of T, freed on scope exit.
template <typename T>
class device_buffer {
public:
  explicit device_buffer(size_t n) : n_(n) {
    check_cuda(cudaMalloc(&ptr_, std::max<size_t>(n, 1) * sizeof(T)), "cudaMalloc");
  }
  explicit device_buffer(const std::vector<T>& host) : device_buffer(host.size()) {
    upload(host);
  }
  ~device_buffer() { cudaFree(ptr_); }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;

  T* get() const { return ptr_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    check_cuda(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
               "upload");
  }
  /// Fills with 0xff bytes: NaN in float and bf16, -1 in int32.
  void poison() { check_cuda(cudaMemset(ptr_, 0xff, n_ * sizeof(T)), "poison"); }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    check_cuda(cudaDeviceSynchronize(), "kernel");
    check_cuda(cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return host;
  }

private:
  T* ptr_ = nullptr;
  size_t n_;
};

/// Tolerances of a kernel's output in T against a float32/float64 reference.
template <typename T>
struct output_tolerance;

template <>
struct output_tolerance<float> {
  // float32 arithmetic in a different order (tree reductions, vector lanes) than the CPU loop:
  // a few ulps, ~1e-6 relative; 1e-5 leaves room without hiding a wrong formula.
  static constexpr float rel = 1e-5f;
};

template <>
struct output_tolerance<__nv_bfloat16> {
  // One rounding of the float32 result to bf16 (8 significant bits): up to 2^-8 = 3.9e-3 of the
  // value; both sides may round a near-tie differently, so allow two roundings' worth.
  static constexpr float rel = 8e-3f;
};

/// Checks got[i] against ref[i] within tol(i) for every i; a NaN where the reference is finite
/// (an element the kernel never wrote over the poison) always fails. Reports the first few
/// misses and the count.
template <typename T, typename R, typename Tol>
void expect_all_near(const std::vector<T>& got, const std::vector<R>& ref, Tol tol,
                     const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = to_float(got[i]);
    const double r = static_cast<double>(ref[i]);
    const double t = tol(i);
    if (!(std::abs(g - r) <= t)) { // also catches NaN
      if (++bad <= 8) {
        ADD_FAILURE() << what << ": element " << i << " got " << g << " want " << r
                      << " (tolerance " << t << ")";
      }
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.size() << " elements off";
}

/// Bitwise equality, for copies (gather, cache writes) and elements a kernel must not touch.
template <typename T>
void expect_all_bitwise_equal(const std::vector<T>& got, const std::vector<T>& want,
                              const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      if (++bad <= 8) {
        ADD_FAILURE() << what << ": element " << i << " got " << to_float(got[i]) << " want "
                      << to_float(want[i]);
      }
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.size() << " elements differ";
}

// One sequence's positions in a paged pool: block b of the sequence is pool block
// (blocks - 1 - b), so every read goes through the table.
struct paged_sequence {
  int64_t positions, block_size, width;
  int64_t blocks() const { return (positions + block_size - 1) / block_size; }
  std::vector<int32_t> table() const {
    std::vector<int32_t> t(static_cast<size_t>(blocks()));
    for (int64_t b = 0; b < blocks(); ++b) {
      t[static_cast<size_t>(b)] = static_cast<int32_t>(blocks() - 1 - b);
    }
    return t;
  }
  template <typename T>
  std::vector<T> pool(const std::vector<T>& rows) const {
    std::vector<T> out(static_cast<size_t>(blocks() * block_size * width), from_float<T>(0.0f));
    const std::vector<int32_t> t = table();
    for (int64_t s = 0; s < positions; ++s) {
      const int64_t slot = t[static_cast<size_t>(s / block_size)] * block_size + s % block_size;
      std::copy_n(rows.begin() + s * width, width, out.begin() + slot * width);
    }
    return out;
  }
};

inline const char* type_name(float) { return "float"; }
inline const char* type_name(__nv_bfloat16) { return "bf16"; }

/// Typed-test name generator: "float" / "bf16" instead of 0 / 1.
struct type_names {
  template <typename T>
  static std::string GetName(int) {
    return type_name(T{});
  }
};

using element_types = ::testing::Types<float, __nv_bfloat16>;

} // namespace proofmesh::kernels::test
