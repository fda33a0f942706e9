#include "actors/pipeline/pool_record.hpp"

#include <charconv>
#include <cmath>

namespace proofmesh::pipeline {

namespace {

using nlohmann::json;

json rating_json(const pool_rating& r) {
  json quality = json::array();
  for (const meta_judgement& m : r.quality) {
    quality.push_back({{"quality", m.quality}, {"score", m.score}});
  }
  return {{"rating", r.rating}, {"quality", quality}, {"score", r.score}};
}

} // namespace

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest round-trip digits, as Python's repr; an integral value keeps its ".0".
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

json pool_record_json(const pool_proof& p) {
  json score2ratings = json::object();
  for (const auto& [score, list] : p.score2ratings) {
    json ratings = json::array();
    for (const pool_rating& r : list) ratings.push_back(rating_json(r));
    score2ratings[python_float_repr(score)] = ratings;
  }
  json out = {{"proof", p.proof},
              {"meanscore", p.meanscore},
              {"score2ratings", score2ratings},
              {"self_eval", {{"self_eval", p.self_eval}, {"self_eval_score", p.self_eval_score}}},
              {"proof_id", p.proof_id},
              {"dep_proof_ids", p.dep_proof_ids},
              {"round_idx", p.round_idx}};
  if (!p.dropped.empty()) {
    json dropped = json::array();
    for (const pool_rating& r : p.dropped) dropped.push_back(rating_json(r));
    out["dropped_ratings"] = dropped;
  }
  return out;
}

} // namespace proofmesh::pipeline
