// What the engine actor reports for metrics: its queue, its work so far, and its runner's
// counters. Rules of the road: plain counters, cheap to take between steps; a runner that spans
// several devices (tensor parallel) reports one runner_stats for all of them, so nothing here
// names a device.
#pragma once

#include "actors/engine/model/model_runner.hpp"

#include <cstdint>

namespace proofmesh::engine {

struct engine_stats {
  int64_t num_requests = 0;         // held now: waiting, running, or cancelled this step
  int64_t num_running = 0;          // in the scheduler's running set
  int64_t num_waiting = 0;          // queued for admission
  int64_t num_steps = 0;            // engine steps taken since start
  int64_t num_generated_tokens = 0; // tokens sampled since start, over all requests
  int64_t num_preemptions = 0;      // sequences preempted by recompute since start
  int64_t num_step_failures = 0;    // steps whose runner threw
  runner_stats runner;              // the runner's own counters
};

} // namespace proofmesh::engine
