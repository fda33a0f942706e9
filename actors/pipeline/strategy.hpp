// The search's parameters, and the named presets a job starts from (../shared/dsm2/PIPELINE.md).
// Rules of the road:
// - A job names a strategy (default "reference") and may override any parameter in `params`;
//   parse_strategy checks every override's type and range, and refuses unknown names, so a
//   misspelt field is an error rather than a silent default.
// - The presets:
//   reference    main.py's defaults: 128 proofs, 4 verifications each, meta-verification on,
//                refinements from the top 32, one proof per refinement, 32 refinements, 20 rounds;
//   release      run.sh: as reference, but 64 verifications and no meta-verification, 16 rounds;
//   paper-heavy  section 3.3.3: 64 proofs × 64 verifications, top 64, one proof with 8 of its
//                analyses (lowest scores first) per refinement, 64 refinements, the first round
//                plus 16 iterations;
//   self-refine  section 3.3.2: 32 threads of up to 8 iterations, a thread ends at self-score 1,
//                then Best@32 by 32 verifications of each thread's last proof;
//   quick        4 proofs × 2 verifications, 2 rounds, 4096 tokens: demos and tests.
// - Sampling is the reference's: temperature 1.0, top_p 0.95, 128K tokens for a proof and 64K
//   for a verification or meta-verification (the quick preset: 4096 each).
#pragma once

#include "actors/transport/wire_messages.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace proofmesh::pipeline {

enum class search_mode : uint8_t {
  search_mode_pool = 0,        // rounds over a per-problem proof pool (the reference's main.py)
  search_mode_self_refine = 1, // independent threads refined by their own self-evaluation
};

struct search_params {
  std::string strategy = "reference";
  search_mode mode = search_mode::search_mode_pool;
  int32_t num_proofs = 128;                 // first-round proofs; threads in self-refine
  int32_t verifications_per_proof = 4;      // ratings asked for each parsed proof
  int32_t meta_verifications_per_rating = 1;// 0: meta-verification off
  float meta_threshold = 0.75f;             // ratings scoring at most this are meta-verified
  bool meta_counts = false;   // drop ratings a majority of meta-verifications judge invalid
  float meta_valid_from = 0.5f;             // a meta-verification scoring below this: invalid
  int32_t best_proofs = 32;                 // n_best_proofs_to_sample
  int32_t proofs_per_refinement = 1;        // n_proofs_to_refine (k)
  int32_t refinements = 32;                 // n_agg_trials: prompts per refinement round
  int32_t max_rounds = 20;                  // rounds (self-refine: iterations per thread)
  int32_t ratings_per_score = 4;            // in a refinement prompt, per distinct score
  int32_t ratings_per_proof = 8;            // in a refinement prompt, per proof (a true cap)
  double solved_above = 0.99999;            // a proof whose mean score is above this solves it
  int32_t max_attempts = 3;                 // per task, counting the first; then dead-lettered
  int32_t empty_round_retries = 3;          // rounds that pooled nothing, not counted as rounds
  int32_t verify_max_tokens = 65536;        // verification and meta-verification
  transport::sampling_spec sampling = {.temperature = 1.0f, .top_p = 0.95f,
                                       .max_tokens = 131072}; // generation
  /// Samples per refinement prompt: num_proofs / refinements, at least 1.
  int32_t samples_per_refinement() const;
};

struct strategy_limits {
  int32_t max_proofs = 1024;
  int32_t max_verifications = 256;
  int32_t max_meta = 64;
  int32_t max_rounds = 64;
  int32_t max_refinements = 1024;
  int32_t max_tokens = 1 << 20;
};

/// The preset named `name` (input_error listing the names if there is none).
search_params strategy_preset(const std::string& name);

/// The preset, with `overrides` (a JSON object of parameter names) applied and checked.
search_params parse_strategy(const std::string& name, const nlohmann::json& overrides,
                             const strategy_limits& limits = {});

/// The parameters as JSON, by the names `params` takes (parse_strategy reads it back: the tests
/// check the two tables agree).
nlohmann::json strategy_json(const search_params& p);

} // namespace proofmesh::pipeline
