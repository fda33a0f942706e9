#include "actors/pipeline/strategy.hpp"

#include "actors/common/error.hpp"

#include <cmath>
#include <functional>
#include <map>

namespace proofmesh::pipeline {

namespace {

using nlohmann::json;

search_params reference() { return {}; }

search_params release() {
  search_params p;
  p.strategy = "release";
  p.verifications_per_proof = 64;
  p.meta_verifications_per_rating = 0;
  p.max_rounds = 16;
  return p;
}

search_params paper_heavy() {
  search_params p;
  p.strategy = "paper-heavy";
  p.num_proofs = 64;
  p.verifications_per_proof = 64;
  p.meta_verifications_per_rating = 0;
  p.best_proofs = 64;
  p.refinements = 64;      // 64 / 64: one refined proof per pairing
  p.ratings_per_score = 8; // 8 analyses, lowest scores (0, then 0.5) first
  p.max_rounds = 17;       // the first round and 16 iterations
  return p;
}

search_params self_refine() {
  search_params p;
  p.strategy = "self-refine";
  p.mode = search_mode::search_mode_self_refine;
  p.num_proofs = 32;
  p.verifications_per_proof = 32;
  p.meta_verifications_per_rating = 0;
  p.max_rounds = 8;
  return p;
}

search_params quick() {
  search_params p;
  p.strategy = "quick";
  p.num_proofs = 4;
  p.verifications_per_proof = 2;
  p.best_proofs = 2;
  p.refinements = 2;
  p.max_rounds = 2;
  p.verify_max_tokens = 4096;
  p.sampling.max_tokens = 4096;
  return p;
}

const std::map<std::string, std::function<search_params()>>& presets() {
  static const std::map<std::string, std::function<search_params()>> all = {
      {"reference", reference}, {"release", release},     {"paper-heavy", paper_heavy},
      {"self-refine", self_refine}, {"quick", quick}};
  return all;
}

// One overridable parameter: how to read it from JSON into the struct, and how to write it.
struct field {
  std::function<void(search_params&, const json&, const strategy_limits&)> read;
  std::function<json(const search_params&)> write;
};

int32_t int_in(const json& v, const std::string& name, int64_t lo, int64_t hi) {
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    throw input_error("params." + name + " must be an integer in [" + std::to_string(lo) +
                      ", " + std::to_string(hi) + "]");
  }
  return static_cast<int32_t>(v.get<int64_t>());
}

double number_in(const json& v, const std::string& name, double lo, double hi) {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo ||
      v.get<double>() > hi) {
    throw input_error("params." + name + " must be a number in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
  }
  return v.get<double>();
}

// An integer parameter: its JSON name, the struct member, and its range (which may read the
// limits, `l`).
#define PM_INT_FIELD(name, member, lo, hi)                                                    \
  {                                                                                           \
    name, field {                                                                             \
      [](search_params& p, const json& v, const strategy_limits& l) {                        \
        (void)l;                                                                              \
        p.member = int_in(v, name, lo, hi);                                                   \
      },                                                                                      \
          [](const search_params& p) { return json(p.member); }                               \
    }                                                                                         \
  }

const std::map<std::string, field>& fields() {
  static const std::map<std::string, field> all = {
      PM_INT_FIELD("num_proofs", num_proofs, 1, l.max_proofs),
      PM_INT_FIELD("verifications_per_proof", verifications_per_proof, 0, l.max_verifications),
      PM_INT_FIELD("meta_verifications_per_rating", meta_verifications_per_rating, 0, l.max_meta),
      PM_INT_FIELD("best_proofs", best_proofs, 1, l.max_proofs),
      PM_INT_FIELD("proofs_per_refinement", proofs_per_refinement, 1, 8),
      PM_INT_FIELD("refinements", refinements, 1, l.max_refinements),
      PM_INT_FIELD("max_rounds", max_rounds, 1, l.max_rounds),
      PM_INT_FIELD("ratings_per_score", ratings_per_score, 1, 64),
      PM_INT_FIELD("ratings_per_proof", ratings_per_proof, 1, 64),
      PM_INT_FIELD("max_attempts", max_attempts, 1, 10),
      PM_INT_FIELD("empty_round_retries", empty_round_retries, 0, 10),
      PM_INT_FIELD("verify_max_tokens", verify_max_tokens, 1, l.max_tokens),
      PM_INT_FIELD("max_tokens", sampling.max_tokens, 1, l.max_tokens),
      {"meta_threshold",
       {[](search_params& p, const json& v, const strategy_limits&) {
          p.meta_threshold = static_cast<float>(number_in(v, "meta_threshold", 0, 1));
        },
        [](const search_params& p) { return json(p.meta_threshold); }}},
      {"meta_valid_from",
       {[](search_params& p, const json& v, const strategy_limits&) {
          p.meta_valid_from = static_cast<float>(number_in(v, "meta_valid_from", 0, 1));
        },
        [](const search_params& p) { return json(p.meta_valid_from); }}},
      {"solved_above",
       {[](search_params& p, const json& v, const strategy_limits&) {
          p.solved_above = number_in(v, "solved_above", 0, 1);
        },
        [](const search_params& p) { return json(p.solved_above); }}},
      {"temperature",
       {[](search_params& p, const json& v, const strategy_limits&) {
          p.sampling.temperature = static_cast<float>(number_in(v, "temperature", 0, 100));
        },
        [](const search_params& p) { return json(p.sampling.temperature); }}},
      {"top_p",
       {[](search_params& p, const json& v, const strategy_limits&) {
          p.sampling.top_p = static_cast<float>(number_in(v, "top_p", 0.001, 1));
        },
        [](const search_params& p) { return json(p.sampling.top_p); }}},
      {"meta_counts",
       {[](search_params& p, const json& v, const strategy_limits&) {
          if (!v.is_boolean()) throw input_error("params.meta_counts must be true or false");
          p.meta_counts = v.get<bool>();
        },
        [](const search_params& p) { return json(p.meta_counts); }}},
  };
  return all;
}

#undef PM_INT_FIELD

} // namespace

int32_t search_params::samples_per_refinement() const {
  return std::max(1, num_proofs / std::max(1, refinements));
}

search_params strategy_preset(const std::string& name) {
  auto it = presets().find(name);
  if (it == presets().end()) {
    std::string names;
    for (const auto& [n, make] : presets()) names += (names.empty() ? "" : ", ") + n;
    throw input_error("strategy must be one of " + names);
  }
  return it->second();
}

search_params parse_strategy(const std::string& name, const json& overrides,
                             const strategy_limits& limits) {
  search_params p = strategy_preset(name);
  if (!overrides.is_object()) throw input_error("params must be an object");
  for (const auto& [key, value] : overrides.items()) {
    auto it = fields().find(key);
    if (it == fields().end()) throw input_error("params: unknown field \"" + key + "\"");
    it->second.read(p, value, limits);
  }
  if (p.proofs_per_refinement > p.best_proofs) {
    throw input_error("params.proofs_per_refinement must be at most params.best_proofs");
  }
  return p;
}

json strategy_json(const search_params& p) {
  json out = {{"strategy", p.strategy}};
  for (const auto& [name, f] : fields()) out[name] = f.write(p);
  return out;
}

} // namespace proofmesh::pipeline
