// The kernel lab (STYLE.md item 9): each decode-time kernel of the 1B and 8B shapes, timed alone
// with CUDA events, against its bandwidth floor. It decides which GEMM path serves which batch
// size, and shows where a decode step's time goes. Weights rotate among enough copies (> 2x the
// 60 MB L2) that every timed call reads HBM, as a real step does.
// Usage: kernel_lab            (prints one table; run on the GPU machine)
//        kernel_lab linear     (the linear rows alone)
//        kernel_lab attention  (#13's long attention cases and the GEMM ceiling, as JSON lines
//                               for bench/engine/attention_table.py, which adds the peer)
//        kernel_lab mla        (DeepSeek-V3.2's sparse MLA alone, as JSON lines for
//                               bench/engine/mla_table.py, which adds the peer)
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/gemv.cuh"
#include "kernels/cuda/mla_attention.cuh"
#include "kernels/cuda/paged_attention.cuh"
#include "kernels/cuda/sample.cuh"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace kc = proofmesh::kernels::cuda;

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

// Median microseconds of `reps` calls of fn(i).
double time_us(const std::function<void(int)>& fn, int reps = 40) {
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  for (int i = 0; i < 3; ++i) {
    fn(i);
  }
  std::vector<float> ms;
  for (int i = 0; i < reps; ++i) {
    cudaEventRecord(a);
    fn(i);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float t = 0;
    cudaEventElapsedTime(&t, a, b);
    ms.push_back(t);
  }
  check(cudaGetLastError(), "timed call");
  std::sort(ms.begin(), ms.end());
  return 1e3 * ms[ms.size() / 2];
}

template <typename T>
T* device_fill(size_t n) {
  T* p = nullptr;
  check(cudaMalloc(&p, n * sizeof(T)), "cudaMalloc");
  check(cudaMemset(p, 0x3c, n * sizeof(T)), "cudaMemset"); // small finite bf16/float values
  return p;
}

// A copy of host indices on the device.
int32_t* device_copy(const std::vector<int32_t>& host) {
  int32_t* p = nullptr;
  check(cudaMalloc(&p, std::max<size_t>(1, host.size()) * sizeof(int32_t)), "cudaMalloc");
  check(cudaMemcpy(p, host.data(), host.size() * sizeof(int32_t), cudaMemcpyHostToDevice),
        "cudaMemcpy");
  return p;
}

struct shape {
  const char* name;
  int64_t n, k;
};

void linear_rows(const char* model, const std::vector<shape>& shapes, kc::gemm_handle& h) {
  for (const shape& s : shapes) {
    const size_t w_elems = static_cast<size_t>(s.n * s.k);
    const int copies = static_cast<int>(std::max<size_t>(2, (256u << 20) / (2 * w_elems) + 1));
    std::vector<__nv_bfloat16*> ws;
    for (int c = 0; c < copies; ++c) {
      ws.push_back(device_fill<__nv_bfloat16>(w_elems));
    }
    auto* x = device_fill<__nv_bfloat16>(static_cast<size_t>(256 * s.k));
    auto* y = device_fill<float>(static_cast<size_t>(256 * s.n));
    const cudaDataType_t out = s.n > 100000 ? CUDA_R_32F : CUDA_R_16BF;
    // Each timing is `calls` launches in a row over rotating weights, divided by calls: a decode
    // step's kernels run back to back, so one kernel's ramp can hide under the one before
    // (programmatic dependent launch, for gemv), and a lone launch between events would also
    // time the host's submission.
    constexpr int calls = 8;
    for (int64_t m : {1, 2, 4, 8, 16, 64, 256}) {
      double lt = time_us([&](int i) {
        for (int c = 0; c < calls; ++c) {
          check(kc::gemm(h, {.x = x, .w = ws[static_cast<size_t>((i * calls + c) % copies)],
                             .bias = nullptr, .y = y, .m = m, .n = s.n, .k = s.k,
                             .a_type = CUDA_R_16BF, .out_type = out}, nullptr), "gemm");
        }
      }) / calls;
      // gemv in each form it serves at this m (-1: not served).
      auto gemv_us = [&](kc::gemv_form form) {
        const kc::gemv_params g{.x = x, .w = ws[0], .bias = nullptr, .y = y, .m = m, .n = s.n,
                                .k = s.k, .out_type = out, .form = form};
        if (!kc::gemv_supports(g)) {
          return -1.0;
        }
        return time_us([&](int i) {
          for (int c = 0; c < calls; ++c) {
            kc::gemv_params gi = g;
            gi.w = ws[static_cast<size_t>((i * calls + c) % copies)];
            check(kc::gemv(gi, nullptr), "gemv");
          }
        }) / calls;
      };
      const double gv = gemv_us(kc::gemv_form::per_row);
      const double st = gemv_us(kc::gemv_form::streaming);
      const double floor_us = 1e6 * 2.0 * static_cast<double>(w_elems) / 4.3e12;
      auto share = [&](double us) { return us > 0 ? 100 * floor_us / us : 0.0; };
      std::printf("%-12s %-8s m=%-4lld cublasLt %8.1f us (%5.1f%% of HBM)   gemv %8.1f us (%5.1f%%)"
                  "   streaming %8.1f us (%5.1f%%)   floor %6.1f us\n",
                  model, s.name, static_cast<long long>(m), lt, share(lt), gv, share(gv), st,
                  share(st), floor_us);
    }
    for (auto* w : ws) {
      cudaFree(w);
    }
    cudaFree(x);
    cudaFree(y);
  }
}

void sample_rows() {
  const int64_t vocab = 128256;
  for (int64_t rows : {1, 8, 64, 256}) {
    auto* logits = device_fill<float>(static_cast<size_t>(rows * vocab));
    // Varied logits: a ramp, so top-p has real work to do.
    std::vector<float> host(static_cast<size_t>(rows * vocab));
    for (size_t i = 0; i < host.size(); ++i) {
      host[i] = static_cast<float>((i * 2654435761u) % 1000) / 100.0f;
    }
    cudaMemcpy(logits, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice);
    int32_t* tokens = device_fill<int32_t>(static_cast<size_t>(rows));
    for (float t : {0.0f, 1.0f}) {
      std::vector<kc::sample_row_params> params(static_cast<size_t>(rows),
                                                {.temperature = t, .top_k = 0, .top_p = 0.95f,
                                                 .seed = 1, .stream = 0, .step = 0});
      kc::sample_row_params* dp = nullptr;
      cudaMalloc(&dp, params.size() * sizeof(params[0]));
      cudaMemcpy(dp, params.data(), params.size() * sizeof(params[0]), cudaMemcpyHostToDevice);
      // With the workspace the runner gives it, so small batches split their rows.
      auto* workspace = device_fill<uint8_t>(std::max<size_t>(1, kc::sample_workspace_bytes(rows)));
      double us = time_us([&](int) {
        check(kc::sample({.logits = logits, .params = dp, .tokens = tokens, .top_ids = nullptr,
                          .top_logprobs = nullptr, .rows = rows, .vocab = vocab,
                          .num_logprobs = 0, .workspace = workspace}, nullptr), "sample");
      });
      cudaFree(workspace);
      std::printf("sample       rows=%-4lld %-14s %8.1f us\n", static_cast<long long>(rows),
                  t > 0 ? "T=1 top-p .95" : "greedy", us);
      cudaFree(dp);
    }
    cudaFree(logits);
    cudaFree(tokens);
  }
}

void attention_rows() {
  const int64_t heads = 32, kv_heads = 8, block = 16;
  for (int64_t hd : {64, 128}) {
    for (int64_t bs : {1, 64}) {
      for (int64_t ctx : {256, 4096, 32768}) {
        const int64_t blocks_per_seq = ctx / block;
        const int64_t num_blocks = bs * blocks_per_seq;
        if (num_blocks * block * kv_heads * hd * 2 > (int64_t{16} << 30)) {
          continue;
        }
        auto* kcache = device_fill<__nv_bfloat16>(static_cast<size_t>(num_blocks * block * kv_heads * hd));
        auto* vcache = device_fill<__nv_bfloat16>(static_cast<size_t>(num_blocks * block * kv_heads * hd));
        auto* q = device_fill<__nv_bfloat16>(static_cast<size_t>(bs * heads * hd));
        auto* out = device_fill<__nv_bfloat16>(static_cast<size_t>(bs * heads * hd));
        std::vector<int32_t> tables(static_cast<size_t>(num_blocks)), seq(static_cast<size_t>(bs)),
            pos(static_cast<size_t>(bs));
        for (size_t i = 0; i < tables.size(); ++i) tables[i] = static_cast<int32_t>(i);
        for (int64_t b = 0; b < bs; ++b) {
          seq[static_cast<size_t>(b)] = static_cast<int32_t>(b);
          pos[static_cast<size_t>(b)] = static_cast<int32_t>(ctx - 1);
        }
        int32_t* dt = device_copy(tables);
        int32_t* ds = device_copy(seq);
        int32_t* dpos = device_copy(pos);
        const int splits = kc::paged_attention_splits(bs, heads, ctx, 132);
        auto* ws = device_fill<float>(std::max<size_t>(1, kc::paged_attention_workspace_floats(bs, heads, hd, splits)));
        for (int s : {1, splits}) {
          double us = time_us([&](int) {
            check(kc::paged_attention<__nv_bfloat16>(
                      {.q = q, .k_cache = kcache, .v_cache = vcache, .block_tables = dt,
                       .token_seq = ds, .token_pos = dpos, .out = out, .tokens = bs,
                       .heads = heads, .kv_heads = kv_heads, .head_dim = hd, .q_stride = heads * hd,
                       .out_stride = heads * hd, .block_size = block,
                       .max_blocks_per_seq = blocks_per_seq, .scale = 0.1f, .num_splits = s,
                       .workspace = ws},
                      nullptr), "attention");
          });
          const double bytes = 2.0 * 2.0 * static_cast<double>(bs * ctx * kv_heads * hd);
          std::printf("attention    hd=%-3lld bs=%-3lld ctx=%-6lld splits=%-2d %8.1f us (%5.1f%% of HBM)\n",
                      static_cast<long long>(hd), static_cast<long long>(bs),
                      static_cast<long long>(ctx), s, us, 100 * bytes / 4.3e12 * 1e6 / us);
          if (splits == 1) break;
        }
        cudaFree(kcache); cudaFree(vcache); cudaFree(q); cudaFree(out); cudaFree(dt);
        cudaFree(ds); cudaFree(dpos); cudaFree(ws);
      }
    }
  }
}

// The square bf16 GEMM rate through cuBLASLt, measured now: the compute ceiling of the cases.
double gemm_ceiling_tflops() {
  kc::gemm_handle h{};
  check(kc::gemm_handle_create(h), "gemm handle");
  const int64_t n = 8192;
  auto* a = device_fill<__nv_bfloat16>(static_cast<size_t>(n * n));
  auto* b = device_fill<__nv_bfloat16>(static_cast<size_t>(n * n));
  auto* c = device_fill<__nv_bfloat16>(static_cast<size_t>(n * n));
  const double us = time_us([&](int) {
    check(kc::gemm(h, {.x = a, .w = b, .bias = nullptr, .y = c, .m = n, .n = n, .k = n,
                       .a_type = CUDA_R_16BF, .out_type = CUDA_R_16BF}, nullptr), "gemm");
  }, 10);
  cudaFree(a); cudaFree(b); cudaFree(c);
  kc::gemm_handle_destroy(h);
  return 2.0 * n * n * n / us / 1e6;
}

// One sequence's device index arrays for the long cases: `seqs` sequences of `ctx` keys each,
// with `queries` query tokens at the end of each (in order), and contiguous block tables.
struct long_case {
  int64_t seqs, ctx, queries;
};

void long_attention_rows() {
  const int64_t heads = 32, kv_heads = 8, hd = 128, block = 16;
  std::printf("{\"case\": \"gemm_ceiling\", \"tflops\": %.1f}\n", gemm_ceiling_tflops());
  for (long_case lc : {long_case{1, 4096, 4096}, long_case{1, 16384, 16384},
                       long_case{16, 32768, 1}, long_case{64, 4096, 1}}) {
    const int64_t blocks_per_seq = lc.ctx / block;
    const int64_t num_blocks = lc.seqs * blocks_per_seq;
    const int64_t tokens = lc.seqs * lc.queries;
    const size_t cache_n = static_cast<size_t>(num_blocks * block * kv_heads * hd);
    auto* kcache = device_fill<__nv_bfloat16>(cache_n);
    auto* vcache = device_fill<__nv_bfloat16>(cache_n);
    auto* q = device_fill<__nv_bfloat16>(static_cast<size_t>(tokens * heads * hd));
    auto* out = device_fill<__nv_bfloat16>(static_cast<size_t>(tokens * heads * hd));
    std::vector<int32_t> tables(static_cast<size_t>(num_blocks)), seq, pos;
    for (size_t i = 0; i < tables.size(); ++i) tables[i] = static_cast<int32_t>(i);
    for (int64_t s = 0; s < lc.seqs; ++s) {
      for (int64_t t = lc.ctx - lc.queries; t < lc.ctx; ++t) {
        seq.push_back(static_cast<int32_t>(s));
        pos.push_back(static_cast<int32_t>(t));
      }
    }
    int32_t* dt = device_copy(tables);
    int32_t* ds = device_copy(seq);
    int32_t* dpos = device_copy(pos);
    const bool decode = lc.queries == 1;
    const int splits = decode ? kc::paged_attention_splits(tokens, heads, lc.ctx, 132) : 1;
    auto* ws = device_fill<float>(std::max<size_t>(
        1, kc::paged_attention_workspace_floats(tokens, heads, hd, splits)));
    // One launch over either cache: bf16 values, or e4m3 codes with their scales.
    auto params_over = [&]<typename C>(const C* k, const C* v, const float* k_scales,
                                       const float* v_scales) {
      return kc::paged_attention_params<__nv_bfloat16, C>{
          .q = q, .k_cache = k, .v_cache = v, .block_tables = dt, .token_seq = ds,
          .token_pos = dpos, .out = out, .tokens = tokens, .heads = heads, .kv_heads = kv_heads,
          .head_dim = hd, .q_stride = heads * hd, .out_stride = heads * hd, .block_size = block,
          .max_blocks_per_seq = blocks_per_seq, .scale = 0.088f, .num_splits = splits,
          .workspace = ws, .max_query_tokens = static_cast<int32_t>(lc.queries),
          .k_scales = k_scales, .v_scales = v_scales};
    };
    // The FP8 cache of the same shape: codes 0x3c (1.5) and small finite scales.
    auto* kcodes = device_fill<__nv_fp8_e4m3>(cache_n);
    auto* vcodes = device_fill<__nv_fp8_e4m3>(cache_n);
    const size_t scales_n = static_cast<size_t>(num_blocks * block * kv_heads);
    auto* kscales = device_fill<float>(scales_n);
    auto* vscales = device_fill<float>(scales_n);
    const auto params = params_over(static_cast<const __nv_bfloat16*>(kcache),
                                    static_cast<const __nv_bfloat16*>(vcache), nullptr, nullptr);
    const auto fp8 = params_over(static_cast<const __nv_fp8_e4m3*>(kcodes),
                                 static_cast<const __nv_fp8_e4m3*>(vcodes), kscales, vscales);
    // Causal FLOPs: each of the queries sees its prefix; QK^T and PV, 2 FLOPs per MAC.
    double macs = 0;
    for (int64_t t = lc.ctx - lc.queries; t < lc.ctx; ++t) {
      macs += 2.0 * static_cast<double>(t + 1) * hd * heads;
    }
    for (const bool quantised : {false, true}) {
      const double us = time_us([&](int) {
        check(quantised ? kc::paged_attention(fp8, nullptr) : kc::paged_attention(params, nullptr),
              "attention");
      }, decode ? 40 : 10);
      // K and V read once each: bf16 values, or e4m3 codes and a float scale per head.
      const double bytes = quantised ? 2.0 * (static_cast<double>(cache_n) + 4.0 * scales_n)
                                     : 2.0 * 2.0 * static_cast<double>(cache_n);
      std::printf("{\"case\": \"%s\", \"kv\": \"%s\", \"bs\": %lld, \"ctx\": %lld, "
                  "\"us\": %.1f, \"tflops\": %.1f, \"hbm_pct\": %.1f, \"splits\": %d}\n",
                  decode ? "decode_attention" : "prefill_attention", quantised ? "fp8" : "bf16",
                  static_cast<long long>(lc.seqs), static_cast<long long>(lc.ctx), us,
                  2.0 * macs * static_cast<double>(lc.seqs) / us / 1e6,
                  100 * bytes / 4.3e12 * 1e6 / us, splits);
    }
    cudaFree(kcodes); cudaFree(vcodes); cudaFree(kscales); cudaFree(vscales);
    cudaFree(kcache); cudaFree(vcache); cudaFree(q); cudaFree(out); cudaFree(dt);
    cudaFree(ds); cudaFree(dpos); cudaFree(ws);
  }
}

// DeepSeek-V3.2's MLA step alone (absorb GEMM, sparse attention over the indexer's 2,048 keys,
// expand GEMM) at the real widths: 128 heads, nope 128, rope 64, v 128, latent 512, blocks of 64.
// Decode: bs tokens, one per sequence at the end of a ctx-long context, each with its own key
// list (distinct positions spread over the context). Prefill: one prompt of ctx tokens, token t
// attending min(t + 1, 2048) of its positions. Ceilings: the bytes a call must move (kv_b once,
// each token's selected cache rows, q and out) at 4.3 TB/s, and its FLOPs at the GEMM rate.
void mla_rows() {
  const int64_t heads = 128, nope = 128, rope = 64, v = 128, latent = 512, width = 576;
  const int64_t block = 64, topk = 2048;
  const double tflops = gemm_ceiling_tflops();
  std::printf("{\"case\": \"gemm_ceiling\", \"tflops\": %.1f}\n", tflops);
  kc::gemm_handle h{};
  check(kc::gemm_handle_create(h), "gemm handle");
  auto* kv_b = device_fill<__nv_bfloat16>(static_cast<size_t>(heads * (nope + v) * latent));
  struct mla_case {
    const char* name;
    int64_t seqs, ctx, queries;
  };
  for (mla_case mc : {mla_case{"decode", 1, 32768, 1}, mla_case{"decode", 16, 32768, 1},
                      mla_case{"decode", 64, 32768, 1}, mla_case{"decode", 128, 8192, 1},
                      mla_case{"prefill", 1, 4096, 4096}}) {
    const int64_t blocks_per_seq = mc.ctx / block, tokens = mc.seqs * mc.queries;
    auto* cache = device_fill<__nv_bfloat16>(
        static_cast<size_t>(mc.seqs * blocks_per_seq * block * width));
    auto* q = device_fill<__nv_bfloat16>(static_cast<size_t>(tokens * heads * (nope + rope)));
    auto* out = device_fill<__nv_bfloat16>(static_cast<size_t>(tokens * heads * v));
    std::vector<int32_t> tables(static_cast<size_t>(mc.seqs * blocks_per_seq)), seq, pos, sel;
    for (size_t i = 0; i < tables.size(); ++i) tables[i] = static_cast<int32_t>(i);
    double keys = 0;
    for (int64_t s = 0; s < mc.seqs; ++s) {
      for (int64_t t = mc.ctx - mc.queries; t < mc.ctx; ++t) {
        seq.push_back(static_cast<int32_t>(s));
        pos.push_back(static_cast<int32_t>(t));
        const int64_t seen = std::min<int64_t>(t + 1, topk);
        for (int64_t i = 0; i < topk; ++i) { // spread over the prefix, distinct, -1 padded
          sel.push_back(i < seen ? static_cast<int32_t>(i * (t + 1) / seen) : -1);
        }
        keys += static_cast<double>(seen);
      }
    }
    int32_t* dt = device_copy(tables);
    int32_t* ds = device_copy(seq);
    int32_t* dp = device_copy(pos);
    int32_t* dsel = device_copy(sel);
    kc::mla_attention_params<__nv_bfloat16> p{
        .q = q, .kv_b = kv_b, .cache = cache, .block_tables = dt, .token_seq = ds,
        .token_pos = dp, .selected = dsel, .out = out, .workspace = nullptr, .tokens = tokens,
        .heads = heads, .nope = nope, .rope = rope, .v = v, .latent = latent,
        .q_stride = heads * (nope + rope), .out_stride = heads * v, .block_size = block,
        .max_blocks_per_seq = blocks_per_seq, .topk = topk, .scale = 0.0417f};
    auto* ws = device_fill<float>(std::max<size_t>(1, kc::mla_attention_workspace_floats(p)));
    p.workspace = ws;
    const double us = time_us([&](int) {
      check(kc::mla_attention<__nv_bfloat16>(h, p, nullptr), "mla");
    }, mc.queries == 1 ? 40 : 10);
    // The two GEMMs alone, as mla_attention calls them (the attention is the rest).
    auto* q_lat = device_fill<__nv_bfloat16>(static_cast<size_t>(tokens * heads * latent));
    const double absorb_us = time_us([&](int) {
      check(kc::gemm(h, {.x = q, .w = kv_b, .bias = nullptr, .y = q_lat, .m = tokens,
                         .n = latent, .k = nope, .a_type = CUDA_R_16BF, .out_type = CUDA_R_16BF,
                         .x_ld = heads * (nope + rope), .y_ld = heads * latent, .w_kn = true,
                         .batch = heads, .x_batch = nope + rope, .w_batch = (nope + v) * latent,
                         .y_batch = latent}, nullptr), "absorb");
    }, mc.queries == 1 ? 40 : 10);
    const double expand_us = time_us([&](int) {
      check(kc::gemm(h, {.x = q_lat, .w = kv_b + nope * latent, .bias = nullptr, .y = out,
                         .m = tokens, .n = v, .k = latent, .a_type = CUDA_R_16BF,
                         .out_type = CUDA_R_16BF, .x_ld = heads * latent, .y_ld = heads * v,
                         .batch = heads, .x_batch = latent, .w_batch = (nope + v) * latent,
                         .y_batch = v}, nullptr), "expand");
    }, mc.queries == 1 ? 40 : 10);
    cudaFree(q_lat);
    const double per_token = static_cast<double>(heads) * 2.0 * (2.0 * nope * latent +
                                                                  v * latent);
    const double flops = per_token * static_cast<double>(tokens) +
                         keys * static_cast<double>(heads) * 2.0 * (width + latent);
    const double bytes = 2.0 * static_cast<double>(heads * (nope + v) * latent) +
                         keys * width * 2.0 +
                         2.0 * static_cast<double>(tokens * heads * (nope + rope + v));
    const double floor_us = std::max(bytes / 4.3e12, flops / (tflops * 1e12)) * 1e6;
    std::printf("{\"case\": \"mla_%s\", \"bs\": %lld, \"ctx\": %lld, \"tokens\": %lld, "
                "\"us\": %.1f, \"tflops\": %.1f, \"hbm_pct\": %.1f, \"floor_us\": %.1f, "
                "\"of_roofline_pct\": %.1f, \"absorb_us\": %.1f, \"expand_us\": %.1f}\n",
                mc.name, static_cast<long long>(mc.seqs), static_cast<long long>(mc.ctx),
                static_cast<long long>(tokens), us, flops / us / 1e6,
                100 * bytes / 4.3e12 * 1e6 / us, floor_us, 100 * floor_us / us, absorb_us,
                expand_us);
    std::fflush(stdout);
    cudaFree(cache); cudaFree(q); cudaFree(out); cudaFree(dt); cudaFree(ds); cudaFree(dp);
    cudaFree(dsel); cudaFree(ws);
  }
  cudaFree(kv_b);
  kc::gemm_handle_destroy(h);
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "attention") {
    long_attention_rows();
    return 0;
  }
  if (argc > 1 && std::string(argv[1]) == "mla") {
    mla_rows();
    return 0;
  }
  kc::gemm_handle h{};
  check(kc::gemm_handle_create(h), "gemm handle");
  linear_rows("llama-3.2-1b", {{"qkv", 3072, 2048}, {"o", 2048, 2048}, {"gate_up", 16384, 2048},
                               {"down", 2048, 8192}, {"logits", 128256, 2048}}, h);
  linear_rows("llama-3-8b", {{"qkv", 6144, 4096}, {"o", 4096, 4096}, {"gate_up", 28672, 4096},
                             {"down", 4096, 14336}, {"logits", 128256, 4096}}, h);
  if (argc == 1) {
    sample_rows();
    attention_rows();
  }
  kc::gemm_handle_destroy(h);
  return 0;
}
