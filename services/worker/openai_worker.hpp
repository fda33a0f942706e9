// The role service with an external OpenAI-compatible server as its model (--backend openai):
// vLLM or SGLang serving a model our own runtime cannot hold, or another proofmesh gateway. The
// coordinator sees an ordinary worker. Rules of the road:
// - `slots` requests at most are in flight (the credit advertised), each on its own thread
//   with its own bounded, cancellable HTTP call; the loop thread owns the socket.
// - A transport failure, a timeout, 408, 409, 429 or 5xx is retried up to max_retries times,
//   after 0.5 s doubling to at most 30 s, or the server's Retry-After. Other answers are final:
//   a 4xx fails the task with the server's words (the coordinator decides whether to try again).
// - The answer's text is rebuilt as the reference rebuilds it (actors/roles/openai_exchange.hpp)
//   and parsed by the role's rules, exactly as our own engine's output is.
// - SIGTERM: no new credit; tasks that arrive go back at once; in-flight ones get `drain`, then
//   are cancelled and handed back.
#pragma once

#include "services/worker/worker_config.hpp"

#include <atomic>

namespace proofmesh::worker {

int run_openai_worker(const worker_config& config, const std::atomic<bool>& stop_flag);

} // namespace proofmesh::worker
