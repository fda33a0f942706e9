// A pooled proof as JSON in the reference's proof-pool schema (one line of
// <proof_pool_dirname>/<source>/<problem_idx>.jsonl): proof, meanscore, score2ratings (keys are
// Python's str() of the float score: "0.0", "0.5", "1.0"), self_eval {self_eval,
// self_eval_score}, proof_id, dep_proof_ids, round_idx; each rating {rating, quality: [{quality,
// score}], score}. Ours adds dropped_ratings (judged invalid by the meta-verifiers) only when
// there are some, so a reference reader sees its own schema.
#pragma once

#include "actors/pipeline/proof_pool.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace proofmesh::pipeline {

/// Python's repr() of a float, as json.dumps writes a dict's float keys: "1.0", "0.5", "0.25".
std::string python_float_repr(double v);

nlohmann::json pool_record_json(const pool_proof& p);

} // namespace proofmesh::pipeline
