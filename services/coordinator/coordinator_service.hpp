// The coordinator: claims jobs from the `jobs` stream, runs each problem's strategy, dispatches
// its tasks to the role sockets and records every result in the job's ledger before acting on
// it. Rules of the road:
// - One I/O thread, one loop (coordinator_loop.hpp): take new work (reclaim idle entries of dead
//   coordinators, read new jobs and completions), collect the three role routers' results, and
//   dispatch: record them and hand them to the jobs' actors (job_runs.hpp) or the completions
//   (completion_runs.hpp), then send what comes back. Redis going away stops none of it.
// - A job it claims is resumed from its ledger: the recorded results are replayed into fresh
//   strategies and only the tasks still open are sent (again). Task ids are deterministic, so
//   a result from before the crash still counts, once.
// - A malformed entry is moved to the `jobs:dead` stream with its reason and acknowledged; it
//   never stops the loop. The entry of a finished job is acknowledged after its result is
//   written.
// - SIGTERM stops claiming and returns; unfinished jobs stay pending in the stream for another
//   coordinator (or this one, restarted) to reclaim.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

namespace proofmesh::coordinator {

struct coordinator_config {
  std::string redis_host = "127.0.0.1";
  int redis_port = 6379;
  std::string redis_password;
  std::string generator_endpoint = "tcp://127.0.0.1:5601";
  std::string verifier_endpoint = "tcp://127.0.0.1:5602";
  std::string meta_verifier_endpoint = "tcp://127.0.0.1:5603";
  std::string consumer;                          // default: coordinator-<host>-<pid>
  std::chrono::milliseconds min_idle{60000};     // reclaim entries idle this long
  std::chrono::milliseconds worker_timeout{10000};
  int32_t metrics_port = 0; // GET /metrics and /healthz there; 0: off
};

coordinator_config parse_coordinator_config(int argc, char** argv, bool& help,
                                            std::string& help_text);

int run_coordinator(const coordinator_config& config, const std::atomic<bool>& stop_flag);

} // namespace proofmesh::coordinator
