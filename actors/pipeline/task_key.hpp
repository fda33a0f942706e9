// A search task's identity, typed: which job, problem and round, what kind of work, and which
// slot, rating and judgement. Its string form is the task id every message, ledger entry and
// event carries: "job/problem/rR/gen/S", ".../verify/S/J", ".../meta/S/J/Q", and ".../stop"
// for a round's early stop. Rules of the road: one to_string and one parse; the ids are
// deterministic, so a task sent twice has one id; job and problem ids never hold '/'.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace proofmesh::pipeline {

enum class task_kind : uint8_t {
  task_kind_generate = 0, // a proof: slot
  task_kind_verify = 1,   // a rating of a proof: slot, rating
  task_kind_meta = 2,     // a judgement of a rating: slot, rating, judgement
  task_kind_stop = 3,     // not a task: the key of a round's early stop in the ledger
};
/// "gen", "verify", "meta", "stop": the kind's word in a task id.
const char* task_kind_name(task_kind k);

struct task_key {
  std::string job;
  std::string problem;
  int32_t round = 1;
  task_kind kind = task_kind::task_kind_generate;
  int32_t slot = 0;      // the proof's place in its round
  int32_t rating = 0;    // verify, meta: which verification of the proof
  int32_t judgement = 0; // meta: which meta-verification of the rating

  std::string to_string() const;
  /// Null unless `id` is exactly one key's to_string (every part present, numbers >= 0); the
  /// ledgers of earlier releases wrote a stop as ".../stop/0", which also parses.
  static std::optional<task_key> parse(std::string_view id);
  /// "job/problem/rR/": every task of the round starts so.
  std::string round_prefix() const;
  bool operator==(const task_key&) const = default;
};

/// The job id of a task id ("job/..."); empty if it has no '/'.
std::string_view job_of(std::string_view task_id);

} // namespace proofmesh::pipeline
