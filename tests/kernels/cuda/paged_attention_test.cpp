// The CUDA paged attention against a float64 loop over the same paged cache, for T = float and
// bf16. One launch mixes full prefill, chunked prefill and decode tokens of several sequences of
// different lengths, in shuffled order, over shuffled non-contiguous block tables. Every cache
// slot that no visible key occupies holds NaN, and unused block-table entries point at an
// all-NaN block, so a read of a wrong slot, a block past the table's end, or a key past the
// causal limit poisons the output (or, for a key past pos whose slot is filled, shifts it).
// Tolerances against the float64 reference: float: scores, exp and the weighted sums run in
// float32 over up to 1000 keys, ~1e-6 of the output scale (values ~N(0,1)), so 1e-5 relative
// plus 1e-5 absolute; the 140000-key case sums 140000 terms in float32 and gets 1e-4 absolute.
// bf16: inputs are exact in float, so only the output rounding (output_tolerance<bf16>) adds,
// and, on the tensor-core path (head_dim 64 and 128), the rounding of each probability to bf16
// before the product with V: at most 2^-9 of each term, so 2^-9 * sum_j p_j |v_j| per output,
// a bound, not an estimate (doubled for the float32 sums around it).
// FP8 cache (bf16 only): the cache the launch reads is each head quantised on the host as
// kv_cache_write_fp8 does (fp8_cache_reference.hpp), and the reference attends over what the
// kernel widens it to, so the tolerance is the bf16 one: what is checked is the reading of codes
// and scales through the table, not the accuracy of FP8 (the runner tests measure that).
#include "fp8_cache_reference.hpp"
#include "gpu_test_support.hpp"
#include "kernels/cuda/paged_attention.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

template <typename T>
class cuda_paged_attention : public ::testing::Test {};
TYPED_TEST_SUITE(cuda_paged_attention, element_types, type_names);

struct sequence_spec {
  int64_t len;                          // keys in the cache
  std::vector<int32_t> query_positions; // positions of this sequence's query tokens
  int fork_of = -1;          // >= 0: an earlier sequence whose first blocks this one shares
  int64_t shared_blocks = 0; // how many (a fork's cached prefix)
};

struct attention_case {
  int64_t heads;
  int64_t kv_heads;
  int64_t head_dim;
  int64_t block_size;
  std::vector<sequence_spec> seqs;
  float q_stddev = 1.0f;     // large values make scores large: the max subtraction matters
  bool misaligned = false;   // cache bases one element off 16 bytes: the scalar access path
  double abs_tol = 1e-5;
  int32_t num_splits = 1;    // > 1: flash-decoding over a workspace, then the merge kernel
  bool ordered = false;      // tokens in sequence order, as the runner lays them out
  int32_t max_query_tokens = 0; // passed to the kernel: 1 selects the decode form
  bool fp8 = false;             // bf16 only: an FP8 cache of codes and scales
  float v_decades = 0.0f;       // > 0: value rows scaled by 10^(v_decades sin(key / 97)), so
                                // their magnitudes rise and fall over the keys
};

template <typename T>
void run_case(const attention_case& c, uint32_t seed) {
  SCOPED_TRACE("heads " + std::to_string(c.heads) + "/" + std::to_string(c.kv_heads) +
               " head_dim " + std::to_string(c.head_dim) + " block " +
               std::to_string(c.block_size) + (c.misaligned ? " misaligned" : "") + " splits " +
               std::to_string(c.num_splits) + (c.ordered ? " ordered" : "") +
               " max_query_tokens " + std::to_string(c.max_query_tokens) +
               (c.fp8 ? " fp8" : ""));
  std::mt19937 rng(seed);
  const int64_t hd = c.head_dim;
  const int64_t num_seqs = static_cast<int64_t>(c.seqs.size());

  // Block tables: each sequence gets shuffled physical blocks; one spare block is all NaN and
  // fills the unused table entries.
  int64_t max_blocks = 0, used_blocks = 0;
  for (const auto& s : c.seqs) {
    const int64_t b = (s.len + c.block_size - 1) / c.block_size;
    max_blocks = std::max(max_blocks, b);
    used_blocks += b;
  }
  max_blocks += 1; // room for an unused entry in every row
  const int64_t num_blocks = used_blocks + 3;
  std::vector<int32_t> phys(static_cast<size_t>(num_blocks));
  std::iota(phys.begin(), phys.end(), 0);
  std::shuffle(phys.begin(), phys.end(), rng);
  const int32_t nan_block = phys.back();
  std::vector<int32_t> tables(static_cast<size_t>(num_seqs * max_blocks), nan_block);
  size_t next = 0;
  for (int64_t s = 0; s < num_seqs; ++s) {
    const sequence_spec& spec = c.seqs[static_cast<size_t>(s)];
    const int64_t b = (spec.len + c.block_size - 1) / c.block_size;
    for (int64_t i = 0; i < b; ++i) {
      tables[static_cast<size_t>(s * max_blocks + i)] =
          spec.fork_of >= 0 && i < spec.shared_blocks
              ? tables[static_cast<size_t>(spec.fork_of * max_blocks + i)]
              : phys[next++];
    }
  }

  // Cache: NaN everywhere but the slots of each sequence's keys.
  const int64_t slot_width = c.kv_heads * hd;
  const size_t cache_n = static_cast<size_t>(num_blocks * c.block_size * slot_width);
  const T nan = from_float<T>(std::numeric_limits<float>::quiet_NaN());
  std::vector<T> k_cache(cache_n, nan), v_cache(cache_n, nan);
  std::normal_distribution<float> normal;
  auto slot_of = [&](int64_t s, int64_t j) {
    return static_cast<int64_t>(
               tables[static_cast<size_t>(s * max_blocks + j / c.block_size)]) *
               c.block_size +
           j % c.block_size;
  };
  auto v_scale = [&](int64_t j) {
    return std::pow(10.0f, c.v_decades * std::sin(static_cast<float>(j) / 97.0f));
  };
  for (int64_t s = 0; s < num_seqs; ++s) {
    for (int64_t j = 0; j < c.seqs[static_cast<size_t>(s)].len; ++j) {
      const size_t base = static_cast<size_t>(slot_of(s, j) * slot_width);
      for (int64_t i = 0; i < slot_width; ++i) {
        k_cache[base + static_cast<size_t>(i)] = from_float<T>(normal(rng));
        v_cache[base + static_cast<size_t>(i)] = from_float<T>(normal(rng) * v_scale(j));
      }
    }
  }

  // An FP8 cache: every head of every slot quantised (a head holding NaN gets NaN codes and a NaN
  // scale, as poison), and the bf16 cache replaced by what the kernel widens the codes to.
  std::vector<uint8_t> k_codes, v_codes;
  std::vector<float> k_scales, v_scales;
  if (c.fp8) {
    auto quantise = [&](std::vector<T>& cache, std::vector<uint8_t>& codes,
                        std::vector<float>& scales) {
      codes.assign(cache_n, 0x7F);
      scales.assign(cache_n / static_cast<size_t>(hd), std::numeric_limits<float>::quiet_NaN());
      std::vector<float> head(static_cast<size_t>(hd));
      for (size_t h = 0; h < scales.size(); ++h) {
        T* x = cache.data() + h * static_cast<size_t>(hd);
        std::transform(x, x + hd, head.begin(), [](T e) { return to_float(e); });
        if (std::any_of(head.begin(), head.end(), [](float e) { return std::isnan(e); })) {
          continue;
        }
        uint8_t* q8 = codes.data() + h * static_cast<size_t>(hd);
        scales[h] = engine::quantise_e4m3(head, {q8, static_cast<size_t>(hd)});
        for (int64_t d = 0; d < hd; ++d) {
          x[d] = from_float<T>(widened_fp8(q8[d], scales[h]));
        }
      }
    };
    quantise(k_cache, k_codes, k_scales);
    quantise(v_cache, v_codes, v_scales);
  }

  // Query tokens of all sequences, shuffled.
  std::vector<std::pair<int32_t, int32_t>> queries; // (seq, pos)
  for (int64_t s = 0; s < num_seqs; ++s) {
    for (int32_t p : c.seqs[static_cast<size_t>(s)].query_positions) {
      queries.emplace_back(static_cast<int32_t>(s), p);
    }
  }
  if (!c.ordered) {
    std::shuffle(queries.begin(), queries.end(), rng);
  }
  const int64_t tokens = static_cast<int64_t>(queries.size());
  std::vector<int32_t> token_seq, token_pos;
  for (auto [s, p] : queries) {
    token_seq.push_back(s);
    token_pos.push_back(p);
  }
  // q inside a fused qkv row; out rows wider than heads * head_dim.
  const int64_t q_stride = (c.heads + 2 * c.kv_heads) * hd;
  const int64_t out_stride = c.heads * hd + 3;
  std::vector<T> q = random_values<T>(static_cast<size_t>(tokens * q_stride), rng, c.q_stddev);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));

  // float64 reference, and the tolerance of each output element.
  const double rel = output_tolerance<T>::rel;
  const bool rounds_probabilities =
      std::is_same_v<T, __nv_bfloat16> && (hd == 64 || hd == 128) && !c.misaligned;
  ASSERT_TRUE(!c.fp8 || rounds_probabilities) << "FP8 cases are bf16 on the tensor-core path";
  std::vector<T> got_sel;
  std::vector<double> ref, bound; // bound: sum_j p_j |v_j| of each output
  const int64_t group = c.heads / c.kv_heads;
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t s = token_seq[static_cast<size_t>(t)];
    const int64_t pos = token_pos[static_cast<size_t>(t)];
    for (int64_t h = 0; h < c.heads; ++h) {
      const int64_t kvh = h / group;
      std::vector<double> scores(static_cast<size_t>(pos + 1));
      double mx = -INFINITY;
      for (int64_t j = 0; j <= pos; ++j) {
        const size_t kb = static_cast<size_t>(slot_of(s, j) * slot_width + kvh * hd);
        double dot = 0;
        for (int64_t d = 0; d < hd; ++d) {
          dot += static_cast<double>(to_float(q[static_cast<size_t>(t * q_stride + h * hd + d)])) *
                 to_float(k_cache[kb + static_cast<size_t>(d)]);
        }
        scores[static_cast<size_t>(j)] = dot * scale;
        mx = std::max(mx, dot * scale);
      }
      double sum = 0;
      for (auto& e : scores) {
        e = std::exp(e - mx);
        sum += e;
      }
      std::vector<double> o(static_cast<size_t>(hd), 0.0), b(static_cast<size_t>(hd), 0.0);
      for (int64_t j = 0; j <= pos; ++j) {
        const size_t vb = static_cast<size_t>(slot_of(s, j) * slot_width + kvh * hd);
        const double pj = scores[static_cast<size_t>(j)] / sum;
        for (int64_t d = 0; d < hd; ++d) {
          const double vd = to_float(v_cache[vb + static_cast<size_t>(d)]);
          o[static_cast<size_t>(d)] += pj * vd;
          b[static_cast<size_t>(d)] += pj * std::abs(vd);
        }
      }
      ref.insert(ref.end(), o.begin(), o.end());
      bound.insert(bound.end(), b.begin(), b.end());
    }
  }

  const size_t pad = c.misaligned ? 1 : 0;
  std::vector<T> k_dev(pad, from_float<T>(0.0f)), v_dev(pad, from_float<T>(0.0f));
  k_dev.insert(k_dev.end(), k_cache.begin(), k_cache.end());
  v_dev.insert(v_dev.end(), v_cache.begin(), v_cache.end());
  device_buffer<T> dq(q), dk(k_dev), dv(v_dev), dout(static_cast<size_t>(tokens * out_stride));
  device_buffer<int32_t> dtables(tables), dseq(token_seq), dpos(token_pos);
  dout.poison();
  device_buffer<float> workspace(std::max<size_t>(
      1, cuda::paged_attention_workspace_floats(tokens, c.heads, hd, c.num_splits)));
  workspace.poison();
  // The launch's parameters over a cache of element C (T itself, or FP8 codes).
  auto params_for = [&](const auto* k_base, const auto* v_base) {
    using C = std::remove_cv_t<std::remove_pointer_t<decltype(k_base)>>;
    return cuda::paged_attention_params<T, C>{
        .q = dq.get(), .k_cache = k_base, .v_cache = v_base, .block_tables = dtables.get(),
        .token_seq = dseq.get(), .token_pos = dpos.get(), .out = dout.get(), .tokens = tokens,
        .heads = c.heads, .kv_heads = c.kv_heads, .head_dim = hd, .q_stride = q_stride,
        .out_stride = out_stride, .block_size = c.block_size, .max_blocks_per_seq = max_blocks,
        .scale = scale, .num_splits = c.num_splits, .workspace = workspace.get(),
        .max_query_tokens = c.max_query_tokens};
  };
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    if (c.fp8) {
      device_buffer<uint8_t> dkc(k_codes), dvc(v_codes);
      device_buffer<float> dks(k_scales), dvs(v_scales);
      cuda::fp8_attention_params f =
          params_for(reinterpret_cast<const __nv_fp8_e4m3*>(dkc.get()),
                     reinterpret_cast<const __nv_fp8_e4m3*>(dvc.get()));
      f.k_scales = dks.get();
      f.v_scales = dvs.get();
      ASSERT_EQ(cuda::paged_attention(f, nullptr), cudaSuccess);
      check_cuda(cudaDeviceSynchronize(), "fp8 attention");
    }
  }
  if (!c.fp8) {
    ASSERT_EQ(cuda::paged_attention(params_for(dk.get() + pad, dv.get() + pad), nullptr),
              cudaSuccess);
  }
  std::vector<T> out = dout.download();
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t i = 0; i < c.heads * hd; ++i) {
      got_sel.push_back(out[static_cast<size_t>(t * out_stride + i)]);
    }
  }
  const double p_rounding = rounds_probabilities ? 2.0 * std::ldexp(1.0, -9) : 0.0;
  expect_all_near(
      got_sel, ref,
      [&](size_t i) { return rel * std::abs(ref[i]) + c.abs_tol + p_rounding * bound[i]; },
      "attention output");
}

// Full prefill, chunked prefill and decode of five sequences in one launch; the lengths cross the
// 32-key tile and the block boundaries in different places.
std::vector<sequence_spec> mixed_batch() {
  std::vector<int32_t> prefill(50);
  std::iota(prefill.begin(), prefill.end(), 0);
  std::vector<int32_t> chunk(10);
  std::iota(chunk.begin(), chunk.end(), 290);
  return {{.len = 50, .query_positions = prefill},
          {.len = 1, .query_positions = {0}},
          {.len = 1000, .query_positions = {999}},
          {.len = 300, .query_positions = chunk},
          {.len = 33, .query_positions = {32}}};
}

TYPED_TEST(cuda_paged_attention, mixed_prefill_and_decode_gqa) {
  PM_SKIP_WITHOUT_GPU();
  run_case<TypeParam>({.heads = 8, .kv_heads = 2, .head_dim = 128, .block_size = 16,
                       .seqs = mixed_batch()}, 1);
  run_case<TypeParam>({.heads = 14, .kv_heads = 2, .head_dim = 64, .block_size = 16,
                       .seqs = mixed_batch()}, 2);
  run_case<TypeParam>({.heads = 6, .kv_heads = 1, .head_dim = 16, .block_size = 7,
                       .seqs = mixed_batch()}, 3);
}

TYPED_TEST(cuda_paged_attention, head_dims_and_access_paths) {
  PM_SKIP_WITHOUT_GPU();
  // 8 (one lane per key), 24 (a chunk count that is no power of two), 256 (the maximum), 6
  // (pairs), and a cache one element off alignment (single elements).
  for (int64_t hd : {8, 24, 256, 6}) {
    run_case<TypeParam>({.heads = 4, .kv_heads = 2, .head_dim = hd, .block_size = 16,
                         .seqs = mixed_batch()}, 10 + static_cast<uint32_t>(hd));
  }
  run_case<TypeParam>({.heads = 5, .kv_heads = 5, .head_dim = 64, .block_size = 16,
                       .seqs = mixed_batch(), .misaligned = true}, 4);
  run_case<TypeParam>({.heads = 3, .kv_heads = 1, .head_dim = 128, .block_size = 1,
                       .seqs = mixed_batch(), .misaligned = true}, 5);
}

TYPED_TEST(cuda_paged_attention, large_scores_need_the_max_subtracted) {
  PM_SKIP_WITHOUT_GPU();
  // Scores of size ~30 * sqrt(head_dim): exp would overflow float without the running max.
  // Float error of a score grows with its size (~1e-5 here), hence 1e-4 absolute.
  run_case<TypeParam>({.heads = 4, .kv_heads = 1, .head_dim = 64, .block_size = 16,
                       .seqs = mixed_batch(), .q_stddev = 30.0f, .abs_tol = 1e-4}, 6);
}

TYPED_TEST(cuda_paged_attention, long_context_decode) {
  PM_SKIP_WITHOUT_GPU();
  // 140000 keys: nothing may scale with the context but the loop.
  run_case<TypeParam>({.heads = 4, .kv_heads = 1, .head_dim = 128, .block_size = 256,
                       .seqs = {{.len = 140000, .query_positions = {139999, 70000}},
                                {.len = 40, .query_positions = {39}}},
                       .abs_tol = 1e-4}, 7);
}

TYPED_TEST(cuda_paged_attention, split_keys_match_the_unsplit_reference) {
  PM_SKIP_WITHOUT_GPU();
  // Flash-decoding: 3 splits of the mixed batch (short sequences leave later splits empty), the
  // maximum of 32, and the planned split count of a long-context decode batch.
  for (int32_t splits : {3, 32}) {
    run_case<TypeParam>({.heads = 8, .kv_heads = 2, .head_dim = 128, .block_size = 16,
                         .seqs = mixed_batch(), .num_splits = splits}, 20 + splits);
  }
  run_case<TypeParam>({.heads = 4, .kv_heads = 1, .head_dim = 64, .block_size = 16,
                       .seqs = mixed_batch(), .q_stddev = 30.0f, .abs_tol = 1e-4,
                       .num_splits = 5}, 25);
  const int32_t planned = cuda::paged_attention_splits(2, 4, 140032, 132);
  EXPECT_GT(planned, 1);
  run_case<TypeParam>({.heads = 4, .kv_heads = 1, .head_dim = 128, .block_size = 256,
                       .seqs = {{.len = 140000, .query_positions = {139999, 70000}},
                                {.len = 40, .query_positions = {39}}},
                       .abs_tol = 1e-4, .num_splits = planned}, 26);
}

TYPED_TEST(cuda_paged_attention, split_merge_serves_head_dims_off_the_warp_width) {
  PM_SKIP_WITHOUT_GPU();
  // The merge walks head_dim 32 lanes at a time: head_dim 8 (the tiny golden models) leaves 24
  // lanes idle, and 80 leaves 16 in its last pass, yet every lane must join the shuffles that
  // hand out each split's weight. A chunk's tail and a decode, over a 2K context.
  std::vector<int32_t> tail(8);
  std::iota(tail.begin(), tail.end(), 2040);
  for (int64_t hd : {8, 80}) {
    for (int32_t splits : {11, 32}) {
      run_case<TypeParam>({.heads = 4, .kv_heads = 2, .head_dim = hd, .block_size = 16,
                           .seqs = {{.len = 2048, .query_positions = tail},
                                    {.len = 1500, .query_positions = {1499}}},
                           .num_splits = splits}, 40 + splits);
    }
  }
}

std::vector<int32_t> positions(int32_t begin, int32_t end) {
  std::vector<int32_t> p(static_cast<size_t>(end - begin));
  std::iota(p.begin(), p.end(), begin);
  return p;
}

// Sequences as the runner lays them out (each one's tokens together, in order): a full prefill
// that crosses the 64-token and 64-key tiles, a chunk over a cached prefix, a fork of that
// prefix, decodes, and a run one token past a tile.
std::vector<sequence_spec> runs_batch() {
  return {{.len = 300, .query_positions = positions(0, 300)},
          {.len = 700, .query_positions = positions(500, 700)},
          {.len = 1, .query_positions = {0}},
          {.len = 450, .query_positions = positions(420, 450), .fork_of = 1, .shared_blocks = 20},
          {.len = 130, .query_positions = {129}},
          {.len = 65, .query_positions = positions(0, 65)}};
}

struct head_shape {
  int64_t heads, kv_heads, head_dim, block_size;
};
// The prefill form's shapes: GQA groups of 1, 4, 8, 7 (a block's rows not a multiple of the
// group) and 64 (one token per block); blocks of 16 slots and of 7 (tiles straddle blocks
// anywhere).
constexpr head_shape prefill_shapes[] = {
    {8, 8, 128, 16}, {32, 8, 128, 16}, {16, 2, 64, 7}, {14, 2, 128, 16}, {64, 1, 64, 16}};

TYPED_TEST(cuda_paged_attention, tensor_core_prefill_over_runs_of_tokens) {
  PM_SKIP_WITHOUT_GPU();
  uint32_t seed = 40;
  for (const head_shape& sh : prefill_shapes) {
    run_case<TypeParam>({.heads = sh.heads, .kv_heads = sh.kv_heads, .head_dim = sh.head_dim,
                         .block_size = sh.block_size, .seqs = runs_batch(), .ordered = true},
                        seed++);
  }
  // Told the batch holds runs: the runs take the prefill form and the lone tokens (the decodes)
  // a second launch of the decode form, with and without splits (merged for the lone ones only).
  for (int32_t splits : {1, 3}) {
    run_case<TypeParam>({.heads = 32, .kv_heads = 8, .head_dim = 128, .block_size = 16,
                         .seqs = runs_batch(), .num_splits = splits, .ordered = true,
                         .max_query_tokens = 300},
                        seed++);
    run_case<TypeParam>({.heads = 16, .kv_heads = 2, .head_dim = 64, .block_size = 7,
                         .seqs = runs_batch(), .num_splits = splits, .ordered = true,
                         .max_query_tokens = 300},
                        seed++);
  }
  // Scores of ~30 * sqrt(head_dim): the running max must be subtracted on this path too.
  run_case<TypeParam>({.heads = 8, .kv_heads = 2, .head_dim = 128, .block_size = 16,
                       .seqs = runs_batch(), .q_stddev = 30.0f, .abs_tol = 1e-4,
                       .ordered = true},
                      seed++);
}

TYPED_TEST(cuda_paged_attention, decode_form_splits_the_keys_among_warps_and_blocks) {
  PM_SKIP_WITHOUT_GPU();
  std::vector<sequence_spec> decodes;
  for (int64_t len : {1, 63, 64, 65, 1000, 4100}) {
    decodes.push_back({.len = len, .query_positions = {static_cast<int32_t>(len - 1)}});
  }
  decodes.push_back({.len = 2000, .query_positions = {1999}, .fork_of = 4, .shared_blocks = 50});
  struct shape {
    int64_t heads, kv_heads, head_dim;
  };
  uint32_t seed = 60;
  // Groups of 1, 4, 7 and 16 take the decode form; 32 is past it and takes the prefill form.
  for (shape sh : {shape{8, 8, 128}, shape{32, 8, 128}, shape{14, 2, 64}, shape{16, 1, 128},
                   shape{32, 1, 64}}) {
    for (int32_t splits : {1, 3, 32}) {
      run_case<TypeParam>({.heads = sh.heads, .kv_heads = sh.kv_heads, .head_dim = sh.head_dim,
                           .block_size = 16, .seqs = decodes, .num_splits = splits,
                           .ordered = true, .max_query_tokens = 1},
                          seed++);
    }
  }
  // The decode form is correct for any batch, only slower: the mixed batch with a wrong hint.
  run_case<TypeParam>({.heads = 8, .kv_heads = 2, .head_dim = 128, .block_size = 16,
                       .seqs = mixed_batch(), .num_splits = 3, .max_query_tokens = 1},
                      seed++);
}

TYPED_TEST(cuda_paged_attention, tensor_core_paths_at_128k) {
  PM_SKIP_WITHOUT_GPU();
  // A chunk of prefill at the end of a 131072-token context, and the decode form at the same
  // length with the planned splits.
  const std::vector<sequence_spec> chunk = {
      {.len = 131072, .query_positions = positions(131056, 131072)},
      {.len = 64, .query_positions = positions(0, 64)}};
  run_case<TypeParam>({.heads = 8, .kv_heads = 2, .head_dim = 128, .block_size = 256,
                       .seqs = chunk, .abs_tol = 1e-4, .ordered = true},
                      70);
  const std::vector<sequence_spec> decode = {{.len = 131072, .query_positions = {131071}},
                                             {.len = 100, .query_positions = {99}}};
  run_case<TypeParam>({.heads = 8, .kv_heads = 2, .head_dim = 128, .block_size = 256,
                       .seqs = decode, .abs_tol = 1e-4,
                       .num_splits = cuda::paged_attention_splits(2, 8, 131328, 132),
                       .ordered = true, .max_query_tokens = 1},
                      71);
}

// The FP8 cache through every form: prefill runs over forks and partial blocks, GQA groups of 1
// to 64, the decode form with splits (also over values whose magnitudes span six decades), a
// mixed batch, large scores and a 128K context.
TEST(cuda_paged_attention_fp8, reads_codes_and_scales_through_every_form) {
  PM_SKIP_WITHOUT_GPU();
  using bf16 = __nv_bfloat16;
  uint32_t seed = 200;
  for (const head_shape& sh : prefill_shapes) {
    run_case<bf16>({.heads = sh.heads, .kv_heads = sh.kv_heads, .head_dim = sh.head_dim,
                    .block_size = sh.block_size, .seqs = runs_batch(), .ordered = true,
                    .fp8 = true},
                   seed++);
  }
  std::vector<sequence_spec> decodes;
  for (int64_t len : {1, 63, 64, 65, 1000, 4100}) {
    decodes.push_back({.len = len, .query_positions = {static_cast<int32_t>(len - 1)}});
  }
  decodes.push_back({.len = 2000, .query_positions = {1999}, .fork_of = 4, .shared_blocks = 50});
  // Then values that rise and fall over six decades: the decode form keeps its accumulators
  // relative to the largest V scale seen, and these move that unit up tile after tile and leave
  // small keys far below it.
  for (const float decades : {0.0f, 3.0f}) {
    for (const head_shape& sh : {head_shape{32, 8, 128, 16}, head_shape{14, 2, 64, 16}}) {
      for (int32_t splits : decades == 0.0f ? std::vector<int32_t>{1, 3, 32}
                                            : std::vector<int32_t>{1, 3}) {
        run_case<bf16>({.heads = sh.heads, .kv_heads = sh.kv_heads, .head_dim = sh.head_dim,
                        .block_size = sh.block_size, .seqs = decodes, .num_splits = splits,
                        .ordered = true, .max_query_tokens = 1, .fp8 = true,
                        .v_decades = decades},
                       seed++);
      }
    }
  }
  run_case<bf16>({.heads = 32, .kv_heads = 8, .head_dim = 128, .block_size = 16,
                  .seqs = runs_batch(), .num_splits = 3, .ordered = true,
                  .max_query_tokens = 300, .fp8 = true},
                 seed++);
  run_case<bf16>({.heads = 8, .kv_heads = 2, .head_dim = 128, .block_size = 16,
                  .seqs = runs_batch(), .q_stddev = 30.0f, .abs_tol = 1e-4, .ordered = true,
                  .fp8 = true},
                 seed++);
  const std::vector<sequence_spec> long_decode = {{.len = 131072, .query_positions = {131071}},
                                                  {.len = 100, .query_positions = {99}}};
  run_case<bf16>({.heads = 8, .kv_heads = 2, .head_dim = 128, .block_size = 256,
                  .seqs = long_decode, .abs_tol = 1e-4,
                  .num_splits = cuda::paged_attention_splits(2, 8, 131328, 132),
                  .ordered = true, .max_query_tokens = 1, .fp8 = true},
                 seed++);
}

TEST(cuda_paged_attention_fp8, refuses_what_the_tensor_cores_do_not_serve) {
  PM_SKIP_WITHOUT_GPU();
  device_buffer<__nv_bfloat16> q(4096), out(4096);
  device_buffer<uint8_t> codes(4096);
  device_buffer<float> scales(64);
  device_buffer<int32_t> ints(16);
  auto* c = reinterpret_cast<const __nv_fp8_e4m3*>(codes.get());
  cuda::fp8_attention_params p{
      .q = q.get(), .k_cache = c, .v_cache = c, .block_tables = ints.get(),
      .token_seq = ints.get(), .token_pos = ints.get(), .out = out.get(), .tokens = 1,
      .heads = 2, .kv_heads = 1, .head_dim = 96, .q_stride = 192, .out_stride = 192,
      .block_size = 16, .max_blocks_per_seq = 1, .scale = 0.1f, .k_scales = scales.get(),
      .v_scales = scales.get()};
  EXPECT_EQ(cuda::paged_attention(p, nullptr), cudaErrorNotSupported); // head_dim 96
  p.head_dim = 64;
  p.v_scales = nullptr;
  EXPECT_EQ(cuda::paged_attention(p, nullptr), cudaErrorInvalidValue);
}

TEST(cuda_paged_attention_plan, splits_only_small_batches_over_long_contexts) {
  EXPECT_EQ(cuda::paged_attention_splits(1, 32, 60, 132), 1);      // short context
  EXPECT_EQ(cuda::paged_attention_splits(256, 32, 65536, 132), 1); // the grid is full already
  EXPECT_EQ(cuda::paged_attention_splits(1, 32, 65536, 132), 32);  // 8 blocks want 132: capped
  EXPECT_EQ(cuda::paged_attention_splits(64, 32, 4096, 132), 3);   // 512 blocks want 3 each
  EXPECT_EQ(cuda::paged_attention_splits(4, 32, 256, 132), 8);     // at least 32 keys a split
  EXPECT_EQ(cuda::paged_attention_workspace_floats(2, 4, 64, 1), 0u);
  EXPECT_EQ(cuda::paged_attention_workspace_floats(2, 4, 64, 3), 2u * 4 * 3 * 66);
}

TYPED_TEST(cuda_paged_attention, invalid_tokens_get_nan_and_nonsense_is_rejected) {
  PM_SKIP_WITHOUT_GPU();
  using T = TypeParam;
  const int64_t hd = 16;
  std::vector<T> zeros(4 * 2 * hd, from_float<T>(0.0f));
  device_buffer<T> q(zeros), kc(zeros), vc(zeros), out(zeros.size());
  device_buffer<int32_t> tables(std::vector<int32_t>{0, 1}), seq(std::vector<int32_t>{0, -1, 0}),
      pos(std::vector<int32_t>{1, 0, 2});
  out.poison();
  // One sequence of two blocks of one slot: token 0 is valid (zeros in, zeros out), token 1 has
  // no sequence and token 2 is past its block table: both must come out NaN, not read anything.
  ASSERT_EQ(cuda::paged_attention<T>(
                {.q = q.get(), .k_cache = kc.get(), .v_cache = vc.get(),
                 .block_tables = tables.get(), .token_seq = seq.get(), .token_pos = pos.get(),
                 .out = out.get(), .tokens = 3, .heads = 1, .kv_heads = 1, .head_dim = hd,
                 .q_stride = hd, .out_stride = hd, .block_size = 1, .max_blocks_per_seq = 2,
                 .scale = 0.25f},
                nullptr),
            cudaSuccess);
  std::vector<T> got = out.download();
  for (int64_t d = 0; d < hd; ++d) {
    EXPECT_EQ(to_float(got[static_cast<size_t>(d)]), 0.0f) << d;
    EXPECT_TRUE(std::isnan(to_float(got[static_cast<size_t>(hd + d)]))) << d;
    EXPECT_TRUE(std::isnan(to_float(got[static_cast<size_t>(2 * hd + d)]))) << d;
  }
  auto bad = [&](int64_t heads, int64_t kv_heads, int64_t head_dim) {
    return cuda::paged_attention<T>(
        {.q = q.get(), .k_cache = kc.get(), .v_cache = vc.get(), .block_tables = tables.get(),
         .token_seq = seq.get(), .token_pos = pos.get(), .out = out.get(), .tokens = 1,
         .heads = heads, .kv_heads = kv_heads, .head_dim = head_dim, .q_stride = 4096,
         .out_stride = 4096, .block_size = 1, .max_blocks_per_seq = 2, .scale = 1.0f},
        nullptr);
  };
  EXPECT_EQ(bad(6, 4, 16), cudaErrorInvalidValue);  // heads not a multiple of kv_heads
  EXPECT_EQ(bad(4, 2, 512), cudaErrorInvalidValue); // head_dim too large
  EXPECT_EQ(bad(4, 2, 0), cudaErrorInvalidValue);
  EXPECT_EQ(cuda::paged_attention<T>(
                {.q = q.get(), .k_cache = kc.get(), .v_cache = vc.get(),
                 .block_tables = tables.get(), .token_seq = seq.get(), .token_pos = pos.get(),
                 .out = out.get(), .tokens = 1, .heads = 1, .kv_heads = 1, .head_dim = hd,
                 .q_stride = hd, .out_stride = hd, .block_size = 1, .max_blocks_per_seq = 2,
                 .scale = 1.0f, .num_splits = 2, .workspace = nullptr},
                nullptr),
            cudaErrorInvalidValue); // a split launch without its workspace
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

} // namespace
} // namespace proofmesh::kernels
