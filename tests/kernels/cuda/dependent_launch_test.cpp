// Programmatic dependent launch keeps every dependency. A chain shaped like a decode step's
// layers (rms_norm with the residual add, then gemv, many times over the same activation
// buffers) runs three ways: a stream synchronisation after every launch, so no kernel can start
// before the one before it ends; back to back on one stream, where each kernel may start early;
// and as a CUDA graph captured from that stream, as the decode graphs run it. The kernels are
// deterministic, so the three final states must be equal bit for bit. The chain has every hazard
// a step has: gemv reads the x rms_norm just wrote (read after write), rms_norm overwrites the x
// the gemv before it read and reads the y it wrote, and the next gemv overwrites that y (write
// after read). A kernel that touched an activation before wait_for_upstream would read a stale
// or half-written row and change the result; the chain is long (24 pairs) and each gemv reads
// 8 MB of weights, long enough for early starts to overlap real work.
#include "gpu_test_support.hpp"
#include "kernels/cuda/dependent_launch.cuh"
#include "kernels/cuda/gemv.cuh"
#include "kernels/cuda/rms_norm.cuh"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;
using bf16 = __nv_bfloat16;

constexpr int64_t dim = 2048;
constexpr int layers = 24;

struct chain {
  std::vector<std::unique_ptr<device_buffer<bf16>>> weights; // [layers] of [dim, dim]
  device_buffer<bf16> norm_weight;          // [dim]
  device_buffer<bf16> h, x, y;              // [1, dim] each: residual stream, normed, product

  explicit chain(std::mt19937& rng)
      : norm_weight(random_values<bf16>(size_t{dim}, rng, 0.1f, 1.0f)),
        h(random_values<bf16>(size_t{dim}, rng)), x(size_t{dim}),
        y(random_values<bf16>(size_t{dim}, rng)) {
    for (int l = 0; l < layers; ++l) {
      weights.push_back(std::make_unique<device_buffer<bf16>>(
          random_values<bf16>(size_t{dim * dim}, rng, 0.03f)));
    }
  }

  // One layer pair: h += y; x = norm(h); y = x · W_lᵀ. serial: the host waits after each kernel.
  void launch(int l, cudaStream_t stream, bool serial) {
    check_cuda(cuda::rms_norm<bf16>({.x = h.get(), .residual = y.get(),
                                     .weight = norm_weight.get(), .out = x.get(), .rows = 1,
                                     .dim = dim, .row_stride = dim, .eps = 1e-5f},
                                    stream),
               "rms_norm");
    if (serial) {
      check_cuda(cudaStreamSynchronize(stream), "sync");
    }
    check_cuda(cuda::gemv({.x = x.get(), .w = weights[static_cast<size_t>(l)]->get(),
                           .bias = nullptr, .y = y.get(), .m = 1, .n = dim, .k = dim,
                           .out_type = CUDA_R_16BF},
                          stream),
               "gemv");
    if (serial) {
      check_cuda(cudaStreamSynchronize(stream), "sync");
    }
  }
};

// The chain's final residual stream and product, from the same start each time.
std::vector<bf16> final_state(chain& c, const std::vector<bf16>& h0, const std::vector<bf16>& y0,
                              int mode, cudaStream_t stream) {
  c.h.upload(h0);
  c.y.upload(y0);
  c.x.poison();
  check_cuda(cudaDeviceSynchronize(), "upload");
  if (mode == 0) {
    for (int l = 0; l < layers; ++l) {
      c.launch(l, stream, true);
    }
  } else if (mode == 1) {
    for (int l = 0; l < layers; ++l) {
      c.launch(l, stream, false);
    }
  } else {
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    check_cuda(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "capture");
    for (int l = 0; l < layers; ++l) {
      c.launch(l, stream, false);
    }
    check_cuda(cudaStreamEndCapture(stream, &graph), "end capture");
    check_cuda(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
    check_cuda(cudaGraphLaunch(exec, stream), "graph launch");
    check_cuda(cudaStreamSynchronize(stream), "graph sync");
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
  }
  check_cuda(cudaStreamSynchronize(stream), "chain");
  std::vector<bf16> out = c.h.download();
  const std::vector<bf16> y = c.y.download();
  out.insert(out.end(), y.begin(), y.end());
  return out;
}

TEST(cuda_dependent_launch, early_starts_keep_every_dependency) {
  PM_SKIP_WITHOUT_GPU();
  std::mt19937 rng(7);
  chain c(rng);
  const std::vector<bf16> h0 = c.h.download(), y0 = c.y.download();
  cudaStream_t stream = nullptr;
  check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream");
  const std::vector<bf16> serial = final_state(c, h0, y0, 0, stream);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    expect_all_bitwise_equal(final_state(c, h0, y0, 1, stream), serial, "back to back");
    expect_all_bitwise_equal(final_state(c, h0, y0, 2, stream), serial, "graph");
  }
  // The chain did something: the residual stream moved away from where it started.
  const std::vector<bf16> h_end(serial.begin(), serial.begin() + dim);
  int moved = 0;
  for (int64_t i = 0; i < dim; ++i) {
    moved += to_float(h_end[static_cast<size_t>(i)]) != to_float(h0[static_cast<size_t>(i)]);
  }
  EXPECT_GT(moved, dim / 2);
  cudaStreamDestroy(stream);
}

} // namespace
} // namespace proofmesh::kernels
