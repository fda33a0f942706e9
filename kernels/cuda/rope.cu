// Launch shape: one 128-thread block per token. The block first computes cos/sin of its token's
// head_dim/2 angles once into shared memory (precise sincosf is costly at large angles), then
// rotates every (head, pair) of the token; consecutive threads take consecutive pairs, so loads
// and stores of each half are coalesced.
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/cuda/rope.cuh"

namespace proofmesh::kernels::cuda {

namespace {

constexpr int block_threads = 128;

template <typename T>
__global__ void __launch_bounds__(block_threads) rope_kernel(rope_params<T> p) {
  __shared__ float cos_s[max_rope_head_dim / 2];
  __shared__ float sin_s[max_rope_head_dim / 2];
  wait_for_upstream();
  const int64_t t = blockIdx.x;
  const int half = static_cast<int>(p.head_dim / 2);
  const float pos = static_cast<float>(p.positions[t]);
  for (int i = static_cast<int>(threadIdx.x); i < half; i += block_threads) {
    const float angle = pos * p.inv_freq[i];
    float s, c;
    sincosf(angle, &s, &c);
    // transformers scales cos and sin (cos() * attention_scaling) before the rotation.
    cos_s[i] = __fmul_rn(c, p.scale);
    sin_s[i] = __fmul_rn(s, p.scale);
  }
  __syncthreads();
  T* x = p.x + t * p.token_stride;
  const int64_t head_stride = p.head_stride > 0 ? p.head_stride : p.head_dim;
  const int first_step = p.interleaved ? 2 : 1;
  const int second = p.interleaved ? 1 : half;
  const int64_t pairs = p.heads * half;
  for (int64_t idx = threadIdx.x; idx < pairs; idx += block_threads) {
    const int64_t h = idx / half;
    const int i = static_cast<int>(idx % half);
    T* v = x + h * head_stride + i * first_step;
    const float a = to_float(v[0]);
    const float b = to_float(v[second]);
    const float c = cos_s[i];
    const float s = sin_s[i];
    v[0] = from_float<T>(__fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s)));
    v[second] = from_float<T>(__fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s)));
  }
}

} // namespace

template <typename T>
cudaError_t rope(const rope_params<T>& p, cudaStream_t stream) {
  if (p.tokens < 0 || p.heads <= 0 || p.head_dim <= 0 || p.head_dim % 2 != 0 ||
      p.head_dim > max_rope_head_dim) {
    return cudaErrorInvalidValue;
  }
  if (p.tokens == 0) {
    return cudaSuccess;
  }
  const int64_t head_stride = p.head_stride > 0 ? p.head_stride : p.head_dim;
  if (p.x == nullptr || p.positions == nullptr || p.inv_freq == nullptr ||
      p.tokens > INT32_MAX || p.head_stride < 0 || head_stride < p.head_dim ||
      (p.tokens > 1 && p.token_stride < p.heads * head_stride)) {
    return cudaErrorInvalidValue;
  }
  return launch_dependent(rope_kernel<T>, static_cast<unsigned>(p.tokens), block_threads, 0, stream,
                          p);
}

template cudaError_t rope<float>(const rope_params<float>&, cudaStream_t);
template cudaError_t rope<__nv_bfloat16>(const rope_params<__nv_bfloat16>&, cudaStream_t);

} // namespace proofmesh::kernels::cuda
