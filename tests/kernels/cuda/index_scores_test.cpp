// The indexer's tensor-core scores (index_topk's bf16 path at DeepSeek-V3.2's widths: head_dim
// 128, 64 heads, and 32 so that half the warps sit idle) against a float64 loop over the same
// bf16 inputs, and the keys index_topk then chooses against cpu::index_topk's. Positions cover
// fewer keys than one tile, a full 256-key block, one past it, and a partial last cache block.
// Tolerance per score: float32 accumulation of 128 exact products, ~1e-6 of Σ|q·k|, carried
// through relu and the head weights: 1e-5 · Σ_h |w_h| · weight_scale · scale · Σ_d |q_d k_d|.
#include "gpu_test_support.hpp"
#include "kernels/cpu/index_topk.hpp"
#include "kernels/cuda/index_scores.cuh"
#include "kernels/cuda/index_topk.cuh"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;
using bf16 = __nv_bfloat16;

TEST(cuda_index_scores, match_a_direct_sum_and_choose_what_the_cpu_chooses) {
  PM_SKIP_WITHOUT_GPU();
  std::mt19937 rng(21);
  const int64_t dim = 128, positions = 700, block_size = 64, topk = 50;
  const float scale = 0.09f, weight_scale = 0.125f;
  const std::vector<int32_t> pos = {5, 63, 255, 256, 699};
  const auto tokens = static_cast<int64_t>(pos.size());
  const paged_sequence seq{.positions = positions, .block_size = block_size, .width = dim};
  const int64_t max_positions = seq.blocks() * block_size;
  for (int64_t heads : {64, 32}) {
    SCOPED_TRACE(std::to_string(heads) + " heads");
    const std::vector<bf16> q = random_values<bf16>(static_cast<size_t>(tokens * heads * dim), rng);
    const std::vector<bf16> w = random_values<bf16>(static_cast<size_t>(tokens * heads), rng);
    const std::vector<bf16> keys = random_values<bf16>(static_cast<size_t>(positions * dim), rng);
    std::vector<double> ref, tol;
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t s = 0; s <= pos[static_cast<size_t>(t)]; ++s) {
        double score = 0, mag = 0;
        for (int64_t h = 0; h < heads; ++h) {
          double dot = 0, abs_dot = 0;
          for (int64_t d = 0; d < dim; ++d) {
            const double prod =
                static_cast<double>(to_float(q[static_cast<size_t>((t * heads + h) * dim + d)])) *
                to_float(keys[static_cast<size_t>(s * dim + d)]);
            dot += prod;
            abs_dot += std::abs(prod);
          }
          const double wh = to_float(w[static_cast<size_t>(t * heads + h)]) * weight_scale;
          score += wh * std::max(dot * scale, 0.0);
          mag += std::abs(wh) * scale * abs_dot;
        }
        ref.push_back(score);
        tol.push_back(1e-5 * mag + 1e-7);
      }
    }
    const std::vector<float> qf = to_floats(q), wf = to_floats(w), kf = to_floats(keys);
    std::vector<int32_t> chosen(static_cast<size_t>(tokens * topk));
    for (int64_t t = 0; t < tokens; ++t) {
      cpu::index_topk({.q = qf.data() + t * heads * dim, .keys = kf.data(),
                       .weights = wf.data() + t * heads, .selected = chosen.data() + t * topk,
                       .tokens = 1, .first_position = pos[static_cast<size_t>(t)],
                       .heads = heads, .head_dim = dim, .topk = topk, .q_stride = heads * dim,
                       .weights_stride = heads, .scale = scale, .weight_scale = weight_scale});
    }
    device_buffer<bf16> dq(q), dw(w), dkeys(seq.pool(keys));
    device_buffer<int32_t> dtable(seq.table()), dseq(std::vector<int32_t>(tokens, 0)), dpos(pos);
    device_buffer<int32_t> dsel(chosen.size());
    device_buffer<float> scores(static_cast<size_t>(tokens * max_positions));
    dsel.poison();
    scores.poison();
    const cuda::index_topk_params<bf16> p{
        .q = dq.get(), .keys = dkeys.get(), .weights = dw.get(), .block_tables = dtable.get(),
        .token_seq = dseq.get(), .token_pos = dpos.get(), .selected = dsel.get(),
        .scores = scores.get(), .tokens = tokens, .heads = heads, .head_dim = dim,
        .topk = topk, .q_stride = heads * dim, .weights_stride = heads,
        .block_size = block_size, .max_blocks_per_seq = seq.blocks(),
        .max_positions = max_positions, .scale = scale, .weight_scale = weight_scale};
    ASSERT_TRUE(cuda::index_scores_mma_supports(p));
    ASSERT_EQ(cuda::index_topk<bf16>(p, nullptr), cudaSuccess);
    const std::vector<float> all = scores.download();
    std::vector<float> visible;
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t s = 0; s <= pos[static_cast<size_t>(t)]; ++s) {
        visible.push_back(all[static_cast<size_t>(t * max_positions + s)]);
      }
    }
    expect_all_near(visible, ref, [&](size_t i) { return tol[i]; }, "index scores");
    EXPECT_EQ(dsel.download(), chosen);
  }
}

} // namespace
} // namespace proofmesh::kernels
