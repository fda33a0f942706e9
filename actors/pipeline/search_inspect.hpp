// How the search's plain structs (facts, counts, pooled proofs) cross a CAF mailbox: CAF 0.17
// `inspect` overloads listing every field in declaration order. Rules of the road: a field added
// to one of these structs is added here in the same change; the structs stay free of CAF.
#pragma once

#include "actors/common/std_inspect.hpp"
#include "actors/pipeline/proof_search.hpp"
#include "actors/pipeline/search_fact.hpp"

#include <caf/meta/type_name.hpp>

namespace proofmesh::pipeline {

using proofmesh::std_inspect::inspect;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter& x) {
  return f(caf::meta::type_name("dead_letter"), x.task_id, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, early_stop& x) {
  return f(caf::meta::type_name("early_stop"), x.round, x.slots);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, search_counts& x) {
  return f(caf::meta::type_name("search_counts"), x.proofs, x.ratings, x.meta_ratings,
           x.meta_agreed, x.ratings_dropped, x.truncated, x.unparseable, x.dead_lettered,
           x.rounds);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, meta_judgement& x) {
  return f(caf::meta::type_name("meta_judgement"), x.quality, x.score);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_rating& x) {
  return f(caf::meta::type_name("pool_rating"), x.rating, x.score, x.quality);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_proof& x) {
  return f(caf::meta::type_name("pool_proof"), x.proof_id, x.proof, x.meanscore, x.score2ratings,
           x.self_eval, x.self_eval_score, x.dep_proof_ids, x.round_idx, x.dropped);
}

} // namespace proofmesh::pipeline
