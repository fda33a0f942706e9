// The role service's loop: one worker_link per role served on one side, one engine actor (one
// copy of the weights) on the other, the role logic (render, parse) in between. Each turn reads
// the sockets (tasks, cancels; heartbeats go out when due), submits new tasks to the engine, and
// drains the engine's events; a finished completion becomes the task's typed result, and its slot
// becomes credit again for whichever role the shared budget gives it to. Rules of the road:
// - The credit advertised over all roles never exceeds the slots free, so the engine never holds
//   more than `slots`; every role's tasks batch together in the engine's steps.
// - After stop() (SIGTERM) no credit is granted; a task that still arrives is handed back at
//   once (status failed, "draining"), so the coordinator re-dispatches it; in-flight tasks get up
//   to `drain` to finish, then run() returns.
// - A task the engine refuses (too long for the model, say) comes back failed with the reason;
//   nothing a coordinator sends can stop the loop.
#pragma once

#include "services/worker/worker_config.hpp"

#include <atomic>

namespace proofmesh::worker {

/// Runs until stop_flag is set and the drain is over; returns the process exit code.
int run_worker(const worker_config& config, const std::atomic<bool>& stop_flag);

} // namespace proofmesh::worker
