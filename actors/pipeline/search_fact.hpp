// The decisions of a search that its results alone do not fix, each its own type. The
// coordinator records them in the ledger beside the results, and a replay applies them, so a
// resumed search decides what the original did. Rules of the road: a fact is written before
// anything that follows from it; each has one ledger field (fact_field), so it is written once.
#pragma once

#include "actors/pipeline/task_key.hpp"

#include <set>
#include <string>
#include <variant>

namespace proofmesh::pipeline {

/// A task that failed max_attempts times (or was handed back too often): the search goes on
/// without it. Its ledger field is the task's id, so it and a late result cannot both count.
struct dead_letter {
  std::string task_id;
  std::string reason; // the last attempt's error
  bool operator==(const dead_letter&) const = default;
};

/// A round cut short when a proof passed every check: exactly `slots` were pooled. Mid-round,
/// which proofs were verified by then depends on arrival order, which a replay does not keep.
struct early_stop {
  int32_t round = 1;
  std::set<int32_t> slots;
  bool operator==(const early_stop&) const = default;
};

using search_fact = std::variant<dead_letter, early_stop>;

/// The ledger field a fact of (job, problem) is kept under.
inline std::string fact_field(const std::string& job, const std::string& problem,
                              const search_fact& fact) {
  if (const auto* d = std::get_if<dead_letter>(&fact)) return d->task_id;
  return task_key{.job = job, .problem = problem, .round = std::get<early_stop>(fact).round,
                  .kind = task_kind::task_kind_stop}
      .to_string();
}

} // namespace proofmesh::pipeline
