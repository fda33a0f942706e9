// The OpenAI-compatible endpoints:
//   POST /v1/chat/completions   messages -> a chat completion (reasoning_content split off)
//   POST /v1/completions        prompt -> a text completion
//   GET  /v1/models             the role pools, as models
// Rules of the road: a request is checked (pipeline::parse_openai_request), given an id and a
// seed (the client's, or a random one), refused with 429 queue_full when the `completions`
// stream is over its bound, and XADDed; the answer then streams from its events stream through
// the event hub, as server-sent events (stream: true) or as one buffered response. A client
// that leaves early gets its request cancelled (completion:<id>:cancel, read by the
// coordinator). Unknown models are 404 model_not_found; everything else wrong is 400.
#pragma once

#include "actors/pipeline/completion_request.hpp"
#include "gateway/api_keys.hpp"
#include "gateway/event_hub.hpp"
#include "gateway/http_server.hpp"
#include "gateway/queue_depth.hpp"
#include "gateway/redis_pool.hpp"


namespace proofmesh::gateway {

struct openai_api_params {
  bool split_reasoning = true;     // --reasoning-parser deepseek_r1 (or none)
  int64_t max_queue_depth = 10000; // completions waiting or running
  pipeline::completion_limits limits;
};

class openai_api {
public:
  openai_api(const api_keys& keys, redis_pool& pool, const event_hub& hub,
             openai_api_params params);

  /// Answers the paths above; nullopt for any other path.
  std::optional<http_answer> route(const http_request& req);

private:
  http_answer complete(const http_request& req, const caller& who,
                       pipeline::completion_kind kind);

  const api_keys& keys_;
  redis_pool& pool_;
  const event_hub& hub_;
  openai_api_params params_;
  int64_t started_; // the models' "created"
  queue_depth depth_; // of the completions stream
};

} // namespace proofmesh::gateway
