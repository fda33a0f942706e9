// DeepSeek's CUDA kernels against their CPU references (kernels/cpu/*) on fresh random inputs:
// LayerNorm, FP8 dequantisation, interleaved and strided rope with YaRN's scale, MLA over a paged
// latent cache (dense and with a key list), the indexer's scores and top-k, the MoE router and
// combine. Tolerances: float32 sums in another order than the CPU's loops, a few ulps, so 1e-5
// relative for single reductions and 1e-4 for MLA's three chained ones; bf16 outputs take
// output_tolerance<bf16> (8e-3) on top. Choices (top-k keys, experts) must be identical: the
// inputs are drawn so no two candidates tie within rounding.
#include "gpu_test_support.hpp"
#include "actors/engine/weights/half_precision.hpp"
#include "kernels/cpu/index_topk.hpp"
#include "kernels/cpu/layer_norm.hpp"
#include "kernels/cpu/mla_attention.hpp"
#include "kernels/cpu/moe_route.hpp"
#include "kernels/cpu/rope.hpp"
#include "kernels/cuda/fp8_dequant.cuh"
#include "kernels/cuda/index_topk.cuh"
#include "kernels/cuda/layer_norm.cuh"
#include "kernels/cuda/mla_attention.cuh"
#include "kernels/cuda/moe.cuh"
#include "kernels/cuda/rope.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

template <typename T>
class cuda_deepseek : public ::testing::Test {};
TYPED_TEST_SUITE(cuda_deepseek, element_types, type_names);

TYPED_TEST(cuda_deepseek, layer_norm_matches_cpu) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  std::mt19937 rng(1);
  const int64_t rows = 37, dim = 128;
  auto x = random_values<T>(static_cast<size_t>(rows * dim), rng, 2.0f, 0.5f);
  auto w = random_values<T>(static_cast<size_t>(dim), rng, 0.2f, 1.0f);
  auto b = random_values<T>(static_cast<size_t>(dim), rng, 0.1f);
  std::vector<float> xf = to_floats(x), wf = to_floats(w), bf = to_floats(b);
  std::vector<float> ref(xf.size());
  cpu::layer_norm({.x = xf.data(), .weight = wf.data(), .bias = bf.data(), .out = ref.data(),
                   .rows = rows, .dim = dim, .row_stride = dim, .eps = 1e-6f});
  device_buffer<T> dx(x), dw(w), db(b);
  ASSERT_EQ(cuda::layer_norm<T>({.x = dx.get(), .weight = dw.get(), .bias = db.get(),
                                 .out = dx.get(), .rows = rows, .dim = dim, .row_stride = dim,
                                 .eps = 1e-6f},
                                nullptr),
            cudaSuccess);
  const double rel = std::max(1e-5, static_cast<double>(output_tolerance<T>::rel));
  expect_all_near(dx.download(), ref, [&](size_t i) { return rel * (1 + std::abs(ref[i])); },
                  "layer_norm");
}

TYPED_TEST(cuda_deepseek, fp8_dequant_matches_cpu_in_chunks) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  std::mt19937 rng(2);
  const int64_t rows = 70, cols = 45, br = 32, bc = 16; // partial blocks at both edges
  std::vector<uint8_t> q(static_cast<size_t>(rows * cols));
  for (auto& v : q) v = static_cast<uint8_t>(rng() % 0x7F | (rng() % 2 ? 0x80 : 0)); // no NaN
  std::vector<float> scale(static_cast<size_t>(((rows + br - 1) / br) * ((cols + bc - 1) / bc)));
  for (auto& s : scale) s = 0.001f + static_cast<float>(rng() % 1000) / 1e5f;
  std::vector<float> ref(q.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      ref[static_cast<size_t>(r * cols + c)] =
          round_to<T>(engine::e4m3_to_f32(q[static_cast<size_t>(r * cols + c)]) *
                      scale[static_cast<size_t>((r / br) * ((cols + bc - 1) / bc) + c / bc)]);
    }
  }
  device_buffer<uint8_t> dq(q);
  device_buffer<float> ds(scale);
  device_buffer<T> out(q.size());
  out.poison();
  // Three uneven chunks, as the upload's staging buffers cut a tensor.
  for (auto [first, count] : {std::pair<int64_t, int64_t>{0, 1000}, {1000, 1}, {1001, 2149}}) {
    ASSERT_EQ(cuda::fp8_dequant<T>({.q = dq.get() + first, .scale = ds.get(),
                                    .out = out.get() + first, .first = first, .count = count,
                                    .cols = cols, .block_rows = br, .block_cols = bc},
                                   nullptr),
              cudaSuccess);
  }
  expect_all_near(out.download(), ref, [](size_t) { return 0.0; }, "fp8_dequant");
}

TYPED_TEST(cuda_deepseek, interleaved_strided_rope_with_scale_matches_cpu) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  std::mt19937 rng(3);
  const int64_t tokens = 5, heads = 3, stride = 24, dim = 8, row = heads * stride;
  auto x = random_values<T>(static_cast<size_t>(tokens * row), rng);
  std::vector<int32_t> pos = {0, 1, 7, 4095, 100000};
  std::vector<int64_t> pos64(pos.begin(), pos.end());
  const auto inv = cpu::rope_inv_freq({.head_dim = dim, .theta = 10000,
                                       .scaling = cpu::rope_scaling::rope_scaling_yarn,
                                       .factor = 40, .original_max_position = 4096});
  for (bool interleaved : {true, false}) {
    std::vector<float> ref = to_floats(x);
    // Rotate the 8 dims that start 16 into each 24-wide head (MLA's q: nope, then rope).
    cpu::rope({.x = ref.data() + 16, .positions = pos64.data(), .inv_freq = inv.data(),
               .tokens = tokens, .heads = heads, .head_dim = dim, .head_stride = stride,
               .token_stride = row, .interleaved = interleaved, .scale = 1.3f});
    device_buffer<T> dx(x);
    device_buffer<int32_t> dp(pos);
    device_buffer<float> di(inv);
    ASSERT_EQ(cuda::rope<T>({.x = dx.get() + 16, .positions = dp.get(), .inv_freq = di.get(),
                             .tokens = tokens, .heads = heads, .head_dim = dim,
                             .token_stride = row, .head_stride = stride,
                             .interleaved = interleaved, .scale = 1.3f},
                            nullptr),
              cudaSuccess);
    const double rel = output_tolerance<T>::rel;
    expect_all_near(dx.download(), ref, [&](size_t i) { return rel * (1 + std::abs(ref[i])); },
                    interleaved ? "interleaved rope" : "rotate-half rope");
  }
}

TYPED_TEST(cuda_deepseek, mla_attention_matches_cpu_dense_and_selected) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  std::mt19937 rng(4);
  const int64_t heads = 5, nope = 16, rope = 8, v = 12, latent = 40, row = latent + rope;
  const int64_t tokens = 3, first = 30, positions = first + tokens, topk = 7;
  auto q = random_values<T>(static_cast<size_t>(tokens * heads * (nope + rope)), rng);
  auto kv_b = random_values<T>(static_cast<size_t>(heads * (nope + v) * latent), rng, 0.3f);
  auto rows = random_values<T>(static_cast<size_t>(positions * row), rng);
  const paged_sequence seq{.positions = positions, .block_size = 4, .width = row};
  // A key list per token: 7 positions it can see, ascending, the last one padded.
  std::vector<int32_t> selected;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t i = 0; i < topk - 1; ++i) selected.push_back(static_cast<int32_t>(i * 5 + t));
    selected.push_back(-1);
  }
  const std::vector<float> qf = to_floats(q), kf = to_floats(kv_b), cf = to_floats(rows);
  device_buffer<T> dq(q), dkv(kv_b), dcache(seq.pool(rows));
  device_buffer<int32_t> dtable(seq.table()), dseq(std::vector<int32_t>(tokens, 0)), dsel(selected);
  std::vector<int32_t> pos;
  for (int64_t t = 0; t < tokens; ++t) pos.push_back(static_cast<int32_t>(first + t));
  device_buffer<int32_t> dpos(pos);
  cuda::gemm_handle gemm{};
  ASSERT_EQ(cuda::gemm_handle_create(gemm), cudaSuccess);
  for (bool sparse : {false, true}) {
    std::vector<float> ref(static_cast<size_t>(tokens * heads * v));
    cpu::mla_attention({.q = qf.data(), .cache = cf.data(), .kv_b = kf.data(),
                        .selected = sparse ? selected.data() : nullptr, .out = ref.data(),
                        .tokens = tokens, .first_position = first, .heads = heads, .nope = nope,
                        .rope = rope, .v = v, .latent = latent, .q_stride = heads * (nope + rope),
                        .out_stride = heads * v, .selected_stride = topk, .scale = 0.15f});
    device_buffer<T> dout(ref.size());
    dout.poison();
    cuda::mla_attention_params<T> p{
        .q = dq.get(), .kv_b = dkv.get(), .cache = dcache.get(), .block_tables = dtable.get(),
        .token_seq = dseq.get(), .token_pos = dpos.get(),
        .selected = sparse ? dsel.get() : nullptr, .out = dout.get(), .workspace = nullptr,
        .tokens = tokens, .heads = heads, .nope = nope, .rope = rope, .v = v, .latent = latent,
        .q_stride = heads * (nope + rope), .out_stride = heads * v, .block_size = 4,
        .max_blocks_per_seq = seq.blocks(), .topk = topk, .scale = 0.15f};
    device_buffer<float> workspace(cuda::mla_attention_workspace_floats(p));
    p.workspace = workspace.get();
    ASSERT_EQ(cuda::mla_attention<T>(gemm, p, nullptr), cudaSuccess);
    const double rel = std::max(1e-4, static_cast<double>(output_tolerance<T>::rel));
    expect_all_near(dout.download(), ref, [&](size_t i) { return rel * (1 + std::abs(ref[i])); },
                    sparse ? "mla over a key list" : "mla over every position");
  }
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  ASSERT_EQ(cuda::gemm_handle_destroy(gemm), cudaSuccess);
}

TYPED_TEST(cuda_deepseek, index_topk_chooses_what_the_cpu_chooses) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  std::mt19937 rng(5);
  const int64_t heads = 8, dim = 32, tokens = 4, positions = 300, topk = 20;
  auto q = random_values<T>(static_cast<size_t>(tokens * heads * dim), rng);
  auto w = random_values<T>(static_cast<size_t>(tokens * heads), rng);
  auto keys = random_values<T>(static_cast<size_t>(positions * dim), rng);
  const std::vector<int32_t> pos = {3, 19, 20, 299}; // fewer, exactly, and more keys than topk
  const paged_sequence seq{.positions = positions, .block_size = 16, .width = dim};
  const std::vector<float> qf = to_floats(q), wf = to_floats(w), kf = to_floats(keys);
  std::vector<int32_t> ref(static_cast<size_t>(tokens * topk));
  for (int64_t t = 0; t < tokens; ++t) {
    cpu::index_topk({.q = qf.data() + t * heads * dim, .keys = kf.data(),
                     .weights = wf.data() + t * heads, .selected = ref.data() + t * topk,
                     .tokens = 1, .first_position = pos[static_cast<size_t>(t)], .heads = heads,
                     .head_dim = dim, .topk = topk, .q_stride = heads * dim,
                     .weights_stride = heads, .scale = 0.17f, .weight_scale = 0.35f});
  }
  device_buffer<T> dq(q), dw(w), dkeys(seq.pool(keys));
  device_buffer<int32_t> dtable(seq.table()), dseq(std::vector<int32_t>(tokens, 0)), dpos(pos);
  device_buffer<int32_t> dsel(ref.size());
  device_buffer<float> scores(static_cast<size_t>(tokens * seq.blocks() * 16));
  dsel.poison();
  ASSERT_EQ(cuda::index_topk<T>({.q = dq.get(), .keys = dkeys.get(), .weights = dw.get(),
                                 .block_tables = dtable.get(), .token_seq = dseq.get(),
                                 .token_pos = dpos.get(), .selected = dsel.get(),
                                 .scores = scores.get(), .tokens = tokens, .heads = heads,
                                 .head_dim = dim, .topk = topk, .q_stride = heads * dim,
                                 .weights_stride = heads, .block_size = 16,
                                 .max_blocks_per_seq = seq.blocks(),
                                 .max_positions = seq.blocks() * 16, .scale = 0.17f,
                                 .weight_scale = 0.35f},
                                nullptr),
            cudaSuccess);
  EXPECT_EQ(dsel.download(), ref);
}

TEST(cuda_moe, route_and_combine_match_cpu) {
  PM_SKIP_WITHOUT_GPU();
  std::mt19937 rng(6);
  const int64_t tokens = 33, experts = 64, k = 6, hidden = 40;
  auto logits = random_values<float>(static_cast<size_t>(tokens * experts), rng, 2.0f);
  auto bias = random_values<float>(static_cast<size_t>(experts), rng, 0.1f);
  std::vector<int32_t> ids(static_cast<size_t>(tokens * k));
  std::vector<float> weights(ids.size());
  cpu::moe_route({.logits = logits.data(), .bias = bias.data(), .experts_out = ids.data(),
                  .weights_out = weights.data(), .tokens = tokens, .experts = experts,
                  .per_token = k, .groups = 8, .groups_kept = 3, .scaling = 2.5f,
                  .normalize = true});
  device_buffer<float> dl(logits), db(bias), dw(ids.size());
  device_buffer<int32_t> di(ids.size());
  ASSERT_EQ(cuda::moe_route({.logits = dl.get(), .bias = db.get(), .experts_out = di.get(),
                             .weights_out = dw.get(), .tokens = tokens, .experts = experts,
                             .per_token = k, .groups = 8, .groups_kept = 3, .scaling = 2.5f,
                             .normalize = true},
                            nullptr),
            cudaSuccess);
  EXPECT_EQ(di.download(), ids);
  expect_all_near(dw.download(), weights, [&](size_t i) { return 1e-5 * weights[i]; },
                  "routing weights");

  // Combine: out[t] += sum_k w[t, k] * y[rows[t, k]], rows a permutation of the pairs.
  auto y = random_values<float>(static_cast<size_t>(tokens * k * hidden), rng);
  auto out = random_values<float>(static_cast<size_t>(tokens * hidden), rng);
  std::vector<int32_t> rows(static_cast<size_t>(tokens * k));
  std::iota(rows.begin(), rows.end(), 0);
  std::shuffle(rows.begin(), rows.end(), rng);
  std::vector<float> ref = out;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t d = 0; d < hidden; ++d) {
      float sum = 0;
      for (int64_t c = 0; c < k; ++c) {
        sum += weights[static_cast<size_t>(t * k + c)] *
               y[static_cast<size_t>(rows[static_cast<size_t>(t * k + c)] * hidden + d)];
      }
      ref[static_cast<size_t>(t * hidden + d)] += sum;
    }
  }
  device_buffer<float> dy(y), dout(out), dwt(weights);
  device_buffer<int32_t> drows(rows);
  ASSERT_EQ(cuda::moe_combine<float>({.y = dy.get(), .rows = drows.get(), .weights = dwt.get(),
                                      .out = dout.get(), .tokens = tokens, .per_token = k,
                                      .hidden = hidden, .out_stride = hidden},
                                     nullptr),
            cudaSuccess);
  expect_all_near(dout.download(), ref, [&](size_t i) { return 1e-5 * (1 + std::abs(ref[i])); },
                  "moe_combine");
}

} // namespace
} // namespace proofmesh::kernels
