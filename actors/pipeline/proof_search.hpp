// One problem's search as a state machine the coordinator drives: tasks out, results in. The
// bookkeeping every strategy shares lives here; the two ways to search are its subclasses
// (pool_search: rounds over a proof pool; self_refine_search: independent refinement threads).
// Rules of the road:
// - Streaming, no barriers: a proof's verifications go out the moment it is parsed, a rating's
//   meta-verifications the moment the rating is; a round ends when its own work is done, and
//   problems never wait for each other.
// - Task ids are deterministic (task_key), so a task sent twice has one id; on_result() applies
//   each task's result once, and a duplicate changes nothing.
// - A failed task (the worker could not run it) comes back in `retry` with attempt + 1, for the
//   caller to send after a backoff; after max_attempts it is dead-lettered with its last error,
//   and the search goes on without it. A task a worker handed back unrun (it was shutting down)
//   goes out again without spending an attempt, up to 16 times. An output truncated at the
//   length limit, or one that
//   does not parse, is counted and dropped, as the reference drops it.
// - Decisions that results alone do not determine come back in `facts` (search_fact: a dead
//   letter, an early stop), for the caller to record with the results; replayed through
//   on_fact(), they make the same decision.
// - The state is a pure function of the results applied, in any order: a resumed coordinator
//   replays its ledger (hash order) and lands where the run it replaces was. A result for a task
//   not issued yet waits until the task is issued. Random draws are seeded per job, problem and
//   round. While `replaying`, a stop that the arrival order decides (one proof passing every
//   check mid-round) waits for resume(), which then sees every recorded result.
#pragma once

#include "actors/pipeline/proof_pool.hpp"
#include "actors/pipeline/search_fact.hpp"
#include "actors/pipeline/strategy.hpp"
#include "actors/transport/wire_messages.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace proofmesh::pipeline {

enum class problem_status : uint8_t {
  problem_status_running = 0,
  problem_status_solved = 1,   // a proof's mean score passed solved_above
  problem_status_unsolved = 2, // rounds used up; the best proof stands
  problem_status_failed = 3,   // not one proof pooled, retries used up
};
const char* problem_status_name(problem_status s);

struct search_counts {
  int64_t proofs = 0;          // parsed proofs
  int64_t ratings = 0;         // parsed ratings
  int64_t meta_ratings = 0;    // parsed meta-verifications
  int64_t meta_agreed = 0;     // of those, judging the rating valid
  int64_t ratings_dropped = 0; // ratings a majority of meta-verifications judged invalid
  int64_t truncated = 0;       // outputs that hit the length limit
  int64_t unparseable = 0;     // outputs the reference's parser drops
  int64_t dead_lettered = 0;   // tasks that failed max_attempts times
  int64_t rounds = 0;          // rounds closed (empty retries included)
};

/// What one call changed: tasks to send now, failed tasks to send again after a backoff,
/// tasks no longer wanted (to cancel), proof ids newly pooled, facts to record.
struct search_step {
  std::vector<transport::task_msg> send;
  std::vector<transport::task_msg> retry;
  std::vector<std::string> withdraw;
  std::vector<int32_t> pooled;
  std::vector<search_fact> facts;
  void append(search_step other);
};

struct search_setup {
  std::string job_id;
  std::string problem_id;
  std::string question; // stripped here, as the reference strips it
  search_params params;
  bool replaying = false;
};

class proof_search {
public:
  static std::unique_ptr<proof_search> make(search_setup setup);
  virtual ~proof_search() = default;

  search_step start();
  search_step on_result(const transport::task_result_msg& result);
  /// A recorded fact, replayed (a live search makes its own and never needs this).
  search_step on_fact(const search_fact& fact);
  /// A replay is over: apply what it deferred.
  search_step resume();

  bool done() const { return status_ != problem_status::problem_status_running; }
  problem_status status() const { return status_; }
  const std::string& status_reason() const { return reason_; }
  const proof_pool& pool() const { return pool_; }
  const search_counts& counts() const { return counts_; }
  const std::vector<dead_letter>& dead_letters() const { return dead_; }
  const std::map<std::string, transport::task_msg>& open_tasks() const { return open_; }
  /// The round running now (1-based; in self-refine, the furthest iteration).
  int32_t round() const { return round_; }
  const search_params& params() const { return setup_.params; }
  /// Until resume(): rebuilding state from recorded results, nothing to send yet.
  bool replaying() const { return replaying_; }

protected:
  explicit proof_search(search_setup setup);

  // A parsed proof under verification, keyed by (round, slot).
  struct candidate {
    int32_t round = 0;
    int32_t slot = 0;
    transport::generate_output proof;
    std::vector<int32_t> deps;
    std::map<int32_t, pool_rating> ratings; // by verification index
    std::map<int32_t, std::map<int32_t, meta_judgement>> metas; // by verification, then index
    int32_t unresolved = 0;                 // its verify and meta tasks not yet resolved
  };
  using candidate_key = std::pair<int32_t, int32_t>;

  virtual search_step begin() = 0;
  /// A generation of (round, slot) parsed; `proof` holds it. The subclass may verify it.
  virtual search_step on_proof(int32_t round, int32_t slot, const transport::generate_output& g) = 0;
  /// A generation of (round, slot) lost (dropped, truncated or dead-lettered).
  virtual search_step on_lost_proof(int32_t round, int32_t slot) = 0;
  /// Every verification (and meta-verification) of the candidate is resolved.
  virtual search_step on_verified(const candidate_key& key) = 0;
  virtual search_step on_resume() { return {}; }
  /// A recorded early stop of `round` (replayed): pool exactly `slots` when they are verified.
  virtual search_step on_stop_mark(int32_t round, std::set<int32_t> slots) = 0;

  /// The id of a task of this problem.
  std::string task_id(int32_t round, task_kind kind, int32_t slot, int32_t rating = 0,
                      int32_t judgement = 0) const;
  transport::task_msg generation(int32_t round, int32_t slot, std::string context) const;
  /// The sampling of a task of `kind` (generate, verify or meta).
  transport::sampling_spec sampling(task_kind kind, int32_t round, int32_t slot, int32_t j,
                                    int32_t q) const;
  /// Opens the candidate and its verification tasks.
  search_step verify(int32_t round, int32_t slot, transport::generate_output g,
                     std::vector<int32_t> deps);
  /// Tasks become open (or resolve at once from an early result).
  search_step issue(std::vector<transport::task_msg> tasks);
  /// The round's tasks still open are withdrawn (a round closed before its end).
  search_step withdraw_round(int32_t round);
  /// Everything still open is withdrawn; the problem ends with `status`.
  search_step finish(problem_status status, std::string reason);
  /// The candidate as a pool entry: ratings judged invalid set apart when meta_counts.
  round_proof pooled_form(const candidate& c) const;
  /// Whether rating j of the candidate counts (not judged invalid by a majority, meta_counts).
  bool rating_counts(const candidate& c, int32_t j) const;

  search_setup setup_;
  proof_pool pool_;
  std::map<candidate_key, candidate> candidates_;
  search_counts counts_;
  int32_t round_ = 1;
  bool replaying_ = false;

private:
  search_step on_output(const transport::task_msg& task, const transport::task_result_msg& r);
  search_step lost(const transport::task_msg& task);
  search_step dead_letter_of(const transport::task_msg& task, const std::string& reason,
                             bool record);
  /// The key of one of this problem's task ids; null for anything else.
  std::optional<task_key> key_of(const std::string& task_id) const;
  search_step resolve_in_candidate(const candidate_key& key);
  size_t max_early() const;

  uint64_t seed_ = 0;   // the sampling seed of every task of this problem
  std::map<std::string, transport::task_msg> open_;
  std::set<std::string> resolved_;
  std::map<std::string, transport::task_result_msg> early_;
  std::map<std::string, std::string> early_dead_; // replayed dead letters of tasks not issued yet
  std::vector<dead_letter> dead_;
  std::map<std::string, int32_t> handed_back_; // tasks workers gave back unrun, how often
  problem_status status_ = problem_status::problem_status_running;
  std::string reason_;
};

} // namespace proofmesh::pipeline
