// The role service's loop: one worker_link per role served on one side, one engine actor (one
// copy of the weights) on the other, the role logic (render, parse) in between. A turn is
//   admit();           // read the sockets (tasks, cancels; heartbeats go out when due) and
//                      // submit the new tasks to the engine together, then take its answers
//   collect_engine();  // what the engine said: a finished completion becomes the task's typed
//                      // result, and its slot credit again for whichever role the budget picks
//   stream_progress(); // raw completions' text out, at most every 20 ms per task
// Rules of the road:
// - The credit advertised over all roles never exceeds the slots free, so the engine never holds
//   more than `slots`; every role's tasks batch together in the engine's steps.
// - After SIGTERM no credit is granted; a task that still arrives is handed back at once
//   (status handed_back), so the coordinator re-dispatches it; in-flight tasks get up to `drain`
//   to finish, then run_worker() returns.
// - A task the engine refuses (too long for the model, say) comes back failed with the reason;
//   nothing a coordinator sends can stop the loop.
#pragma once

#include "services/worker/worker_config.hpp"

#include <atomic>

namespace proofmesh::worker {

/// Runs until stop_flag is set and the drain is over; returns the process exit code.
int run_worker(const worker_config& config, const std::atomic<bool>& stop_flag);

} // namespace proofmesh::worker
