// Where a CUDA step's time goes, op by op: with PM_OP_TIMES=1 in the environment, every op of
// cuda_ops records a CUDA event before and after its launches, the runner collects the elapsed
// times after each step's synchronisation, and the totals per op print to stderr when the backend
// goes (PM_OP_TIMES=steps also prints each step's line as it is collected, to tell a slow step
// from a slow start). The machine has no profiler, and this needs none. Off (the default), a
// scope costs one branch. Timing events cannot sit inside a graph capture, so the runner runs every step eagerly
// while it is on.
#pragma once

#include <cuda_runtime.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace proofmesh::engine {

class op_timer {
public:
  /// Reads PM_OP_TIMES once.
  static bool enabled_by_environment();

  explicit op_timer(cudaStream_t stream);
  ~op_timer(); // prints the totals when enabled
  op_timer(const op_timer&) = delete;
  op_timer& operator=(const op_timer&) = delete;

  /// Records the end of op `name` when it goes out of scope.
  class scope {
  public:
    scope(op_timer* timer, const char* name);
    ~scope();
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

  private:
    op_timer* timer_;
    size_t slot_ = 0;
  };
  scope time(const char* name) { return scope(enabled_ ? this : nullptr, name); }

  /// Adds the elapsed times of the ops recorded since the last call; the stream must be idle.
  void collect();
  /// The phase the next ops belong to ("prefill", "decode"): totals print per phase.
  void set_phase(const char* phase) { phase_ = phase; }

private:
  cudaEvent_t event(size_t i);

  cudaStream_t stream_;
  bool enabled_;
  bool per_step_; // PM_OP_TIMES=steps
  long steps_ = 0;
  std::vector<cudaEvent_t> events_;                 // a pool, two per recorded op
  std::vector<std::pair<const char*, size_t>> open_; // op and its first event, this step
  size_t used_ = 0;
  const char* phase_ = "step";
  std::map<std::string, std::map<std::string, std::pair<double, long>>> totals_; // ms, calls:
                                                                                // phase, op
};

} // namespace proofmesh::engine
