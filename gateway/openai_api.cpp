#include "gateway/openai_api.hpp"

#include "actors/common/bounded_json.hpp"
#include "actors/common/error.hpp"
#include "actors/common/random_hex.hpp"
#include "actors/common/unix_time.hpp"
#include "gateway/api_error.hpp"
#include "gateway/openai_format.hpp"
#include "actors/transport/redis_keys.hpp"

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::gateway {

using enum transport::api_code;

namespace {

using nlohmann::json;
namespace pt = proofmesh::transport;
namespace pp = proofmesh::pipeline;

} // namespace

openai_api::openai_api(const api_keys& keys, redis_pool& pool, const event_hub& hub,
                       openai_api_params params)
    : keys_(keys), pool_(pool), hub_(hub), params_(params), started_(unix_ms() / 1000) {}

std::optional<http_answer> openai_api::route(const http_request& req) {
  const std::string& p = req.path;
  if (p != "/v1/chat/completions" && p != "/v1/completions" && p != "/v1/models") {
    return std::nullopt;
  }
  const caller& who = keys_.authenticate(req.authorization, scope_completions);
  if (p == "/v1/models") {
    if (req.method != "GET") throw api_error(api_code_method_not_allowed, p + " takes GET");
    json data = json::array();
    for (const std::string& m : pp::served_models()) {
      data.push_back({{"id", m}, {"object", "model"}, {"created", started_},
                      {"owned_by", "proofmesh"}});
    }
    return http_answer{.body = json{{"object", "list"}, {"data", data}}.dump()};
  }
  if (req.method != "POST") throw api_error(api_code_method_not_allowed, p + " takes POST");
  return complete(req, who,
                  p == "/v1/chat/completions" ? pp::completion_kind::completion_kind_chat
                                              : pp::completion_kind::completion_kind_text);
}

http_answer openai_api::complete(const http_request& req, const caller& who,
                                 pp::completion_kind kind) {
  const json body = parse_bounded_json(req.body);
  if (body.is_discarded()) {
    throw api_error(api_code_invalid_json,
                    "the body is not valid JSON (or not valid UTF-8, or nested deeper than 64)");
  }
  pp::completion_request r;
  try {
    r = pp::parse_openai_request(body, kind, params_.limits);
  } catch (const input_error& e) {
    const std::string what = e.what();
    if (what.rfind("model_not_found: ", 0) == 0) {
      throw api_error(api_code_model_not_found, what.substr(17));
    }
    throw api_error(api_code_invalid_request, what);
  }
  r.id = (kind == pp::completion_kind::completion_kind_chat ? "chatcmpl-" : "cmpl-") +
         random_hex(32);
  if (!body.contains("seed") || body["seed"].is_null()) {
    r.seed = random_u64();
  }
  r.created = unix_ms() / 1000;
  if (!hub_.has_room(who.tenant)) {
    throw api_error(api_code_too_many_streams,
                    "too many open answers (for this tenant, or in all); try again later", 5);
  }
  {
    redis_pool::lease c = pool_.acquire();
    if (depth_.get(c->completion_queue()) >= params_.max_queue_depth) {
      throw api_error(api_code_queue_full, "too many completions are waiting; try again later", 1);
    }
    pt::redis_reply added =
        c->client.command({"XADD", keys::completions, "MAXLEN", "~", "100000", "*", "v",
                           transport::job_format_version, "job", pp::to_queue_json(r)},
                          pt::redis_retry::redis_retry_never);
    if (added.is_error()) throw pt::redis_unavailable("XADD completions: " + added.str);
    depth_.added();
  }
  redis_pool* pool = &pool_;
  const std::string id = r.id;
  auto format = std::make_shared<openai_format>(r, params_.split_reasoning, [pool, id] {
    try { // the coordinator stops the tasks of a request whose client is gone
      redis_pool::lease c = pool->acquire();
      c->client.command({"SET", keys::completion_cancel(id), "1", "EX", "3600"});
    } catch (const std::exception&) {
      // Redis away: the completion runs to its end unread.
    }
  });
  return {.stream_key = keys::completion_events(id),
          .stream_after = "0",
          .stream_tenant = who.tenant,
          .format = std::move(format)};
}

} // namespace proofmesh::gateway
