// GPU sampling: greedy and top-k logprobs against a float64 host reference; ties; determinism;
// and the sampled distribution under temperature, top-k and top-p against its exact value.
// Tolerances: logprobs are l - logsumexp(l) in float32 (expf/logf of 1e5 terms): 1e-4 absolute.
// Frequencies over n = 40000 draws have standard deviations below 0.0025; we allow 0.015.
#include "gpu_test_support.hpp"
#include "kernels/cuda/sample.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace proofmesh::kernels {
namespace {

using namespace test;

struct sample_output {
  std::vector<int32_t> tokens;
  std::vector<int32_t> top_ids;
  std::vector<float> top_logprobs;
  std::vector<float> token_logprobs; // [rows] when k > 0
};

// split: give the launcher its workspace, so rows of small batches split over several blocks.
sample_output run(const std::vector<float>& logits, int64_t vocab,
                  const std::vector<cuda::sample_row_params>& params, int32_t k,
                  bool split = false) {
  const auto rows = static_cast<int64_t>(params.size());
  device_buffer<float> dl(logits);
  device_buffer<cuda::sample_row_params> dp(params);
  device_buffer<int32_t> dt(static_cast<size_t>(rows));
  device_buffer<int32_t> di(static_cast<size_t>(std::max<int64_t>(1, rows * k)));
  device_buffer<float> dlp(static_cast<size_t>(std::max<int64_t>(1, rows * k)));
  device_buffer<float> dtl(static_cast<size_t>(rows));
  dt.poison();
  di.poison();
  device_buffer<uint8_t> workspace(std::max<size_t>(1, cuda::sample_workspace_bytes(rows)));
  workspace.poison(); // the launcher must clear what it uses
  check_cuda(cuda::sample({.logits = dl.get(), .params = dp.get(), .tokens = dt.get(),
                           .top_ids = k ? di.get() : nullptr,
                           .top_logprobs = k ? dlp.get() : nullptr,
                           .token_logprobs = k ? dtl.get() : nullptr, .rows = rows,
                           .vocab = vocab, .num_logprobs = k,
                           .workspace = split ? workspace.get() : nullptr},
                          nullptr),
             "sample");
  check_cuda(cudaDeviceSynchronize(), "sync");
  sample_output out{dt.download(), di.download(), dlp.download(), dtl.download()};
  out.top_ids.resize(static_cast<size_t>(rows * k));
  out.top_logprobs.resize(static_cast<size_t>(rows * k));
  return out;
}

cuda::sample_row_params greedy() { return {.temperature = 0, .top_k = 0, .top_p = 1, .seed = 0,
                                           .stream = 0, .step = 0}; }

TEST(cuda_sample, greedy_and_logprobs_match_host_reference) {
  PM_SKIP_WITHOUT_GPU();
  for (int64_t vocab : {7, 1000, 128256}) {
    SCOPED_TRACE("vocab " + std::to_string(vocab));
    const int rows = 5, k = 20;
    std::mt19937 rng(static_cast<uint32_t>(vocab));
    std::normal_distribution<float> dist(0.0f, 3.0f);
    std::vector<float> logits(static_cast<size_t>(rows * vocab));
    for (auto& l : logits) l = dist(rng);
    logits[3] = logits[5] = 50.0f; // a tie for the maximum in row 0: the lower id wins
    auto out = run(logits, vocab, std::vector<cuda::sample_row_params>(rows, greedy()), k);
    for (int r = 0; r < rows; ++r) {
      const float* row = logits.data() + r * vocab;
      std::vector<int32_t> ids(static_cast<size_t>(vocab));
      std::iota(ids.begin(), ids.end(), 0);
      std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
      double mx = row[ids[0]], sum = 0;
      for (int64_t i = 0; i < vocab; ++i) sum += std::exp(row[i] - mx);
      double lse = mx + std::log(sum);
      EXPECT_EQ(out.tokens[r], ids[0]) << "row " << r;
      int kk = static_cast<int>(std::min<int64_t>(k, vocab));
      for (int j = 0; j < kk; ++j) {
        EXPECT_EQ(out.top_ids[r * k + j], ids[j]) << "row " << r << " rank " << j;
        EXPECT_NEAR(out.top_logprobs[r * k + j], row[ids[j]] - lse, 1e-4) << "row " << r;
      }
    }
    EXPECT_EQ(out.tokens[0], 3);
  }
}

// A sampled token is often outside the top 1; its own logprob comes back all the same.
TEST(cuda_sample, sampled_token_logprob_is_its_own) {
  PM_SKIP_WITHOUT_GPU();
  const int rows = 16;
  const int64_t vocab = 1000;
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> logits(static_cast<size_t>(rows * vocab));
  for (auto& l : logits) l = dist(rng);
  std::vector<cuda::sample_row_params> params;
  for (int r = 0; r < rows; ++r) {
    params.push_back({.temperature = 2.0f, .top_k = 0, .top_p = 1, .seed = 5,
                      .stream = static_cast<uint64_t>(r), .step = 0});
  }
  auto out = run(logits, vocab, params, 1);
  int outside_top = 0;
  for (int r = 0; r < rows; ++r) {
    const float* row = logits.data() + r * vocab;
    double mx = *std::max_element(row, row + vocab), sum = 0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(row[i] - mx);
    const double lse = mx + std::log(sum);
    EXPECT_NEAR(out.token_logprobs[r], row[out.tokens[r]] - lse, 1e-4) << "row " << r;
    outside_top += out.tokens[r] != out.top_ids[r];
  }
  EXPECT_GT(outside_top, 0); // else this test shows nothing the top-k test does not
}

TEST(cuda_sample, equal_logits_give_lowest_ids_first) {
  PM_SKIP_WITHOUT_GPU();
  std::vector<float> logits(3000, 1.5f);
  auto out = run(logits, 3000, {greedy()}, 5);
  EXPECT_EQ(out.tokens[0], 0);
  EXPECT_EQ(out.top_ids, (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_NEAR(out.top_logprobs[0], -std::log(3000.0), 1e-4);
}

// Frequencies of n draws of one row, each draw its own (stream, step).
std::vector<double> frequencies(const std::vector<float>& row, cuda::sample_row_params base,
                                int n) {
  const auto vocab = static_cast<int64_t>(row.size());
  std::vector<float> logits;
  std::vector<cuda::sample_row_params> params;
  for (int i = 0; i < n; ++i) {
    logits.insert(logits.end(), row.begin(), row.end());
    base.stream = static_cast<uint64_t>(i % 7);
    base.step = static_cast<uint64_t>(i / 7);
    params.push_back(base);
  }
  auto out = run(logits, vocab, params, 0);
  std::vector<double> freq(row.size());
  for (int32_t t : out.tokens) freq[static_cast<size_t>(t)] += 1.0 / n;
  return freq;
}

TEST(cuda_sample, draws_follow_temperature_top_k_and_top_p) {
  PM_SKIP_WITHOUT_GPU();
  // Probabilities 0.4, 0.3, 0.2, 0.1 over 4 tokens, plus 996 tokens of negligible mass.
  std::vector<float> row(1000, -60.0f);
  const double p[4] = {0.4, 0.3, 0.2, 0.1};
  for (int i = 0; i < 4; ++i) row[static_cast<size_t>(i) * 100] = static_cast<float>(std::log(p[i]));
  const int n = 40000;
  cuda::sample_row_params base{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 17,
                               .stream = 0, .step = 0};
  auto plain = frequencies(row, base, n);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(plain[i * 100], p[i], 0.015) << i;

  auto k2 = base;
  k2.top_k = 2;
  auto fk = frequencies(row, k2, n);
  EXPECT_NEAR(fk[0], 0.4 / 0.7, 0.015);
  EXPECT_NEAR(fk[100], 0.3 / 0.7, 0.015);
  EXPECT_EQ(fk[200] + fk[300], 0.0);

  auto p75 = base;
  p75.top_p = 0.75f; // 0.4 + 0.3 < 0.75 <= 0.9: the nucleus is the top three
  auto fp = frequencies(row, p75, n);
  EXPECT_NEAR(fp[0], 0.4 / 0.9, 0.015);
  EXPECT_NEAR(fp[200], 0.2 / 0.9, 0.015);
  EXPECT_EQ(fp[300], 0.0);

  auto cold = base;
  cold.temperature = 0.5f; // probabilities squared, renormalised
  auto fc = frequencies(row, cold, n);
  const double z = 0.16 + 0.09 + 0.04 + 0.01;
  EXPECT_NEAR(fc[0], 0.16 / z, 0.015);
  EXPECT_NEAR(fc[300], 0.01 / z, 0.015);
}

TEST(cuda_sample, split_rows_draw_exactly_what_whole_rows_draw) {
  PM_SKIP_WITHOUT_GPU();
  // Rows of 128256 logits split over up to 32 blocks must give the tokens one block per row
  // gives: greedy (with a tie across slices), temperature, top-k, top-p, and both together.
  const int64_t vocab = 128256;
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> row(static_cast<size_t>(vocab));
  for (auto& l : row) l = dist(rng);
  row[70000] = row[100] = 30.0f; // a greedy tie in two different slices: id 100 wins
  std::vector<cuda::sample_row_params> kinds = {
      greedy(),
      {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 3},
      {.temperature = 0.7f, .top_k = 40, .top_p = 1.0f, .seed = 4},
      {.temperature = 1.0f, .top_k = 0, .top_p = 0.95f, .seed = 5},
      {.temperature = 1.3f, .top_k = 500, .top_p = 0.8f, .seed = 6}};
  {
    // The comparison below means something only if these rows really split.
    device_buffer<uint8_t> ws(cuda::sample_workspace_bytes(64));
    EXPECT_GT(cuda::sample_row_blocks(1, vocab, ws.get()), 1);
    EXPECT_GT(cuda::sample_row_blocks(64, vocab, ws.get()), 1);
    EXPECT_EQ(cuda::sample_row_blocks(1, vocab, nullptr), 1);
  }
  for (int rows : {1, 7, 64}) {
    std::vector<float> logits;
    std::vector<cuda::sample_row_params> params;
    for (int r = 0; r < rows; ++r) {
      logits.insert(logits.end(), row.begin(), row.end());
      cuda::sample_row_params p = kinds[static_cast<size_t>(r) % kinds.size()];
      p.step = static_cast<uint64_t>(r);
      params.push_back(p);
    }
    auto whole = run(logits, vocab, params, 0, false);
    auto split = run(logits, vocab, params, 0, true);
    EXPECT_EQ(split.tokens, whole.tokens) << rows << " rows";
    EXPECT_EQ(split.tokens[0], 100);
  }
}

TEST(cuda_sample, a_seed_reproduces_and_steps_vary) {
  PM_SKIP_WITHOUT_GPU();
  std::mt19937 rng(5);
  std::normal_distribution<float> dist;
  const int64_t vocab = 50000;
  std::vector<float> row(static_cast<size_t>(vocab));
  for (auto& l : row) l = dist(rng);
  std::vector<float> logits;
  std::vector<cuda::sample_row_params> params;
  for (int i = 0; i < 64; ++i) {
    logits.insert(logits.end(), row.begin(), row.end());
    params.push_back({.temperature = 1.0f, .top_k = 50, .top_p = 0.9f, .seed = 99,
                      .stream = 0, .step = static_cast<uint64_t>(i)});
  }
  auto a = run(logits, vocab, params, 3);
  auto b = run(logits, vocab, params, 3);
  EXPECT_EQ(a.tokens, b.tokens);
  std::vector<int32_t> distinct = a.tokens;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  EXPECT_GT(distinct.size(), 5u);
  // Every draw is inside the top 50.
  std::vector<int32_t> ids(static_cast<size_t>(vocab));
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + 50, ids.end(),
                    [&](int32_t x, int32_t y) { return row[x] > row[y]; });
  for (int32_t t : a.tokens) {
    EXPECT_NE(std::find(ids.begin(), ids.begin() + 50, t), ids.begin() + 50) << t;
  }
}

} // namespace
} // namespace proofmesh::kernels
