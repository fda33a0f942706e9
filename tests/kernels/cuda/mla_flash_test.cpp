// MLA's tensor-core path at DeepSeek-V3's widths (latent 512, rope 64), in bf16.
// 1. The attention alone (mla_flash_attend) against a float64 softmax over the same bf16 inputs,
//    at 1, 3 and 7 key splits (some splits empty), over two sequences in one pool with a partial
//    last block, 80 heads (a full block of 64 and a partial one), dense and with key lists that
//    hold -1 padding and a position past the token's own (which must be ignored), and a token
//    without a sequence (zeros).
//    Tolerance per element: P is rounded to bf16 before P V (2^-9 of each weight, so of the
//    weighted sum of |v|) and the output once (2^-9 of it); twice those: 4e-3 · (Σ p|v| / Σ p +
//    |o|).
// 2. The whole of mla_attention (absorb GEMM, attention, expand GEMM) against
//    cpu::mla_attention in float32, 128 heads of nope 128 and v 128, dense and sparse, at a
//    decode-like batch (the keys split) and a prefill-like one (no split). Tolerance: q_latent is
//    rounded to bf16 (as FlashMLA's absorbed form is), which moves each score by about
//    2^-9 · sqrt(512) · |q_latent| |c| · scale; the softmax turns that into errors of o_latent's
//    512 dims that are independent, o_latent's own rounding adds more, and W_vb sums 512 of
//    them. Seen on an H200: errors of about 0.5% of the output's rms, the largest 2%. So
//    1e-2 · |ref| + 3.5e-2 · rms: six of those standard deviations, while a wrong head, key or
//    stride is off by about the rms itself (test 1 checks the masking exactly).
#include "gpu_test_support.hpp"
#include "kernels/cpu/mla_attention.hpp"
#include "kernels/cuda/mla_attention.cuh"
#include "kernels/cuda/mla_flash.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;
using bf16 = __nv_bfloat16;

constexpr int64_t latent = 512, rope = 64, width = latent + rope, nope = 128;

struct query_token {
  int32_t seq, pos;
};

TEST(cuda_mla_flash, attends_like_a_direct_softmax) {
  PM_SKIP_WITHOUT_GPU();
  std::mt19937 rng(11);
  const int64_t block_size = 16, heads = 80, topk = 100;
  const std::vector<int64_t> lengths = {300, 77};
  const int64_t max_blocks = (lengths[0] + block_size - 1) / block_size;
  // Pool blocks shuffled between the two sequences.
  int64_t pool_blocks = 0;
  for (int64_t n : lengths) pool_blocks += (n + block_size - 1) / block_size;
  std::vector<int32_t> order(static_cast<size_t>(pool_blocks));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<int32_t> tables(static_cast<size_t>(2 * max_blocks), 0);
  for (int64_t s = 0, next = 0; s < 2; ++s) {
    for (int64_t b = 0; b < (lengths[s] + block_size - 1) / block_size; ++b) {
      tables[static_cast<size_t>(s * max_blocks + b)] = order[static_cast<size_t>(next++)];
    }
  }
  const std::vector<bf16> pool = random_values<bf16>(
      static_cast<size_t>(pool_blocks * block_size * width), rng);
  auto row_of = [&](int32_t seq, int64_t position) {
    const int64_t slot =
        tables[static_cast<size_t>(seq * max_blocks + position / block_size)] * block_size +
        position % block_size;
    return pool.data() + slot * width;
  };

  const std::vector<query_token> toks = {{0, 299}, {1, 76}, {0, 5}, {1, 40}, {-1, 3}, {0, 150}};
  const auto tokens = static_cast<int64_t>(toks.size());
  const int64_t q_stride = heads * (nope + rope) + 8;
  const std::vector<bf16> q = random_values<bf16>(static_cast<size_t>(tokens * q_stride), rng);
  const std::vector<bf16> q_latent =
      random_values<bf16>(static_cast<size_t>(tokens * heads * latent), rng);
  // Key lists: visible positions in random order, with -1 padding and one past the position.
  std::vector<int32_t> selected;
  for (const query_token& tk : toks) {
    std::vector<int32_t> list;
    for (int32_t s = 0; s <= tk.pos && tk.seq >= 0; s += 3) list.push_back(s);
    std::shuffle(list.begin(), list.end(), rng);
    list.resize(std::min<size_t>(list.size(), topk - 12));
    list.push_back(tk.pos + 1); // ignored: a position the token may not see
    while (static_cast<int64_t>(list.size()) < topk) {
      list.insert(list.begin() + static_cast<int64_t>(rng() % (list.size() + 1)), -1);
    }
    selected.insert(selected.end(), list.begin(), list.end());
  }
  std::vector<int32_t> seqs, positions;
  for (const query_token& tk : toks) {
    seqs.push_back(tk.seq);
    positions.push_back(tk.pos);
  }
  device_buffer<bf16> dpool(pool), dq(q), dql(q_latent);
  device_buffer<int32_t> dtables(tables), dseq(seqs), dpos(positions), dsel(selected);
  const float scale = 0.045f;

  for (bool sparse : {false, true}) {
    // The float64 reference and the magnitude each element's tolerance scales with.
    std::vector<double> ref(static_cast<size_t>(tokens * heads * latent), 0.0), mag(ref.size());
    for (int64_t t = 0; t < tokens; ++t) {
      const query_token tk = toks[static_cast<size_t>(t)];
      std::vector<int64_t> keys;
      if (tk.seq >= 0) {
        for (int64_t i = 0; i < (sparse ? topk : tk.pos + 1); ++i) {
          const int64_t s = sparse ? selected[static_cast<size_t>(t * topk + i)] : i;
          if (s >= 0 && s <= tk.pos) keys.push_back(s);
        }
      }
      for (int64_t h = 0; h < heads; ++h) {
        std::vector<double> score;
        for (int64_t s : keys) {
          const bf16* k = row_of(tk.seq, s);
          double dot = 0;
          for (int64_t d = 0; d < latent; ++d) {
            dot += static_cast<double>(to_float(
                       q_latent[static_cast<size_t>((t * heads + h) * latent + d)])) *
                   to_float(k[d]);
          }
          for (int64_t d = 0; d < rope; ++d) {
            dot += static_cast<double>(to_float(
                       q[static_cast<size_t>(t * q_stride + h * (nope + rope) + nope + d)])) *
                   to_float(k[latent + d]);
          }
          score.push_back(dot * scale);
        }
        const double top = score.empty() ? 0.0 : *std::max_element(score.begin(), score.end());
        double sum = 0;
        for (double& s : score) sum += (s = std::exp(s - top));
        for (size_t i = 0; i < keys.size(); ++i) {
          const bf16* k = row_of(tk.seq, keys[i]);
          for (int64_t d = 0; d < latent; ++d) {
            const auto at = static_cast<size_t>((t * heads + h) * latent + d);
            ref[at] += score[i] / sum * to_float(k[d]);
            mag[at] += score[i] / sum * std::abs(to_float(k[d]));
          }
        }
      }
    }
    const int64_t longest = sparse ? topk : max_blocks * block_size;
    const int64_t tiles = (longest + 31) / 32;
    for (int64_t splits : {1, 3, 7}) {
      SCOPED_TRACE((sparse ? "key lists, splits " : "dense, splits ") + std::to_string(splits));
      const cuda::mla_attention_params<bf16> p{
          .q = dq.get(), .kv_b = nullptr, .cache = dpool.get(), .block_tables = dtables.get(),
          .token_seq = dseq.get(), .token_pos = dpos.get(),
          .selected = sparse ? dsel.get() : nullptr, .out = nullptr, .workspace = nullptr,
          .tokens = tokens, .heads = heads, .nope = nope, .rope = rope, .v = 128,
          .latent = latent, .q_stride = q_stride, .out_stride = heads * 128,
          .block_size = block_size, .max_blocks_per_seq = max_blocks, .topk = topk,
          .scale = scale};
      ASSERT_TRUE(cuda::mla_flash_supports(p));
      device_buffer<bf16> o(ref.size());
      device_buffer<float> partials(
          static_cast<size_t>(tokens * heads * splits * cuda::mla_flash_partial_width));
      o.poison();
      partials.poison();
      const cuda::mla_flash_args a{.q_latent = dql.get(), .o_latent = o.get(),
                                   .partials = partials.get(), .splits = splits,
                                   .split_keys = (tiles + splits - 1) / splits * 32};
      ASSERT_EQ(cuda::mla_flash_attend(p, a, nullptr), cudaSuccess);
      expect_all_near(o.download(), ref,
                      [&](size_t i) { return 4e-3 * (mag[i] + std::abs(ref[i])) + 1e-6; },
                      "o_latent");
    }
  }
}

TEST(cuda_mla_flash, mla_attention_at_real_widths_matches_cpu) {
  PM_SKIP_WITHOUT_GPU();
  std::mt19937 rng(12);
  const int64_t heads = 128, v = 128, block_size = 64, topk = 64;
  const float scale = 0.06f;
  cuda::gemm_handle gemm{};
  ASSERT_EQ(cuda::gemm_handle_create(gemm), cudaSuccess);
  const std::vector<bf16> kv_b =
      random_values<bf16>(static_cast<size_t>(heads * (nope + v) * latent), rng, 0.05f);
  const std::vector<float> kf = to_floats(kv_b);
  device_buffer<bf16> dkv(kv_b);
  // (tokens, first position): a decode-like step whose keys split, a prefill-like one that fills
  // the GPU without splitting.
  for (auto [tokens, first] : {std::pair<int64_t, int64_t>{3, 200}, {70, 10}}) {
    const int64_t positions = first + tokens;
    const paged_sequence seq{.positions = positions, .block_size = block_size, .width = width};
    const std::vector<bf16> q =
        random_values<bf16>(static_cast<size_t>(tokens * heads * (nope + rope)), rng);
    const std::vector<bf16> rows = random_values<bf16>(static_cast<size_t>(positions * width), rng);
    std::vector<int32_t> selected;
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t i = 0; i < topk; ++i) {
        const int64_t s = (i * 7 + t * 3) % (first + t + 1);
        selected.push_back(i % 5 == 4 || i > first + t ? -1 : static_cast<int32_t>(s));
      }
    }
    std::vector<int32_t> pos(static_cast<size_t>(tokens));
    std::iota(pos.begin(), pos.end(), static_cast<int32_t>(first));
    const std::vector<float> qf = to_floats(q), cf = to_floats(rows);
    device_buffer<bf16> dq(q), dcache(seq.pool(rows));
    device_buffer<int32_t> dtable(seq.table()), dseq(std::vector<int32_t>(tokens, 0)),
        dpos(pos), dsel(selected);
    for (bool sparse : {false, true}) {
      SCOPED_TRACE(std::to_string(tokens) + " tokens" + (sparse ? ", key lists" : ", dense"));
      std::vector<float> ref(static_cast<size_t>(tokens * heads * v));
      cpu::mla_attention({.q = qf.data(), .cache = cf.data(), .kv_b = kf.data(),
                          .selected = sparse ? selected.data() : nullptr, .out = ref.data(),
                          .tokens = tokens, .first_position = first, .heads = heads,
                          .nope = nope, .rope = rope, .v = v, .latent = latent,
                          .q_stride = heads * (nope + rope), .out_stride = heads * v,
                          .selected_stride = topk, .scale = scale});
      double rms = 0;
      for (float r : ref) rms += static_cast<double>(r) * r;
      rms = std::sqrt(rms / static_cast<double>(ref.size()));
      device_buffer<bf16> dout(ref.size());
      dout.poison();
      cuda::mla_attention_params<bf16> p{
          .q = dq.get(), .kv_b = dkv.get(), .cache = dcache.get(), .block_tables = dtable.get(),
          .token_seq = dseq.get(), .token_pos = dpos.get(),
          .selected = sparse ? dsel.get() : nullptr, .out = dout.get(), .workspace = nullptr,
          .tokens = tokens, .heads = heads, .nope = nope, .rope = rope, .v = v,
          .latent = latent, .q_stride = heads * (nope + rope), .out_stride = heads * v,
          .block_size = block_size, .max_blocks_per_seq = seq.blocks(), .topk = topk,
          .scale = scale};
      ASSERT_TRUE(cuda::mla_flash_supports(p));
      device_buffer<float> workspace(cuda::mla_attention_workspace_floats(p));
      p.workspace = workspace.get();
      ASSERT_EQ(cuda::mla_attention<bf16>(gemm, p, nullptr), cudaSuccess);
      expect_all_near(dout.download(), ref,
                      [&](size_t i) { return 1e-2 * std::abs(ref[i]) + 3.5e-2 * rms; },
                      "mla out");
    }
  }
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  ASSERT_EQ(cuda::gemm_handle_destroy(gemm), cudaSuccess);
}

} // namespace
} // namespace proofmesh::kernels
