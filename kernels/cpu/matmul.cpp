#include "kernels/cpu/matmul.hpp"

#include "actors/common/thread_pool.hpp"

namespace proofmesh::kernels::cpu {

namespace {

// Four dot products against one weight row; the compiler keeps the four sums in vector registers.
__attribute__((target_clones("avx2", "default"))) void dot4(const float* w, const float* x0,
                                                            const float* x1, const float* x2,
                                                            const float* x3, int64_t k,
                                                            float* out) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
  for (int64_t i = 0; i < k; ++i) {
    s0 += w[i] * x0[i];
    s1 += w[i] * x1[i];
    s2 += w[i] * x2[i];
    s3 += w[i] * x3[i];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

__attribute__((target_clones("avx2", "default"))) float dot1(const float* a, const float* b,
                                                             int64_t k) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < k; ++i) {
    s += a[i] * b[i];
  }
  return s;
}

} // namespace

float dot(const float* a, const float* b, int64_t k) { return dot1(a, b, k); }

void matmul(const matmul_params& p) {
  thread_pool::global().parallel_for(static_cast<size_t>(p.n), [&p](size_t begin, size_t end) {
    for (size_t j = begin; j < end; ++j) {
      const float* wj = p.w + static_cast<int64_t>(j) * p.k;
      float b = p.bias ? p.bias[j] : 0.0f;
      int64_t i = 0;
      for (; i + 4 <= p.m; i += 4) {
        float out[4];
        const float* x = p.x + i * p.k;
        dot4(wj, x, x + p.k, x + 2 * p.k, x + 3 * p.k, p.k, out);
        for (int r = 0; r < 4; ++r) {
          p.y[(i + r) * p.n + static_cast<int64_t>(j)] = out[r] + b;
        }
      }
      for (; i < p.m; ++i) {
        p.y[i * p.n + static_cast<int64_t>(j)] = dot1(wj, p.x + i * p.k, p.k) + b;
      }
    }
  });
}

} // namespace proofmesh::kernels::cpu
