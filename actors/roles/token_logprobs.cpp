#include "actors/roles/token_logprobs.hpp"

#include "actors/transport/wire_codec.hpp"

#include <algorithm>

namespace proofmesh::roles {

namespace pt = proofmesh::transport;

namespace {

// A token as the wire carries it: at most an id's size.
std::string fitted(std::string token) {
  if (token.size() > pt::wire_limits{}.max_id_bytes) token.resize(pt::wire_limits{}.max_id_bytes);
  return token;
}

std::string token_text(const engine::tokenizer& tok, int32_t id) {
  return fitted(tok.token_bytes(id, false));
}

} // namespace

std::vector<pt::token_logprob> within_wire_limits(std::vector<pt::token_logprob> tokens,
                                                  int32_t alternatives) {
  const pt::wire_limits limits;
  if (tokens.size() > limits.max_logprob_tokens) tokens.resize(limits.max_logprob_tokens);
  const auto keep = static_cast<size_t>(std::max(0, alternatives));
  size_t bytes = 0; // an upper bound of each entry's encoded size: tables, offsets, strings
  for (size_t i = 0; i < tokens.size(); ++i) {
    pt::token_logprob& t = tokens[i];
    if (t.top.size() > keep) t.top.resize(keep);
    t.token = fitted(std::move(t.token));
    bytes += 40 + t.token.size();
    for (pt::top_logprob& a : t.top) {
      a.token = fitted(std::move(a.token));
      bytes += 40 + a.token.size();
    }
    if (bytes > limits.max_message_bytes / 2) {
      tokens.resize(i);
      break;
    }
  }
  return tokens;
}

int32_t engine_logprobs_for(int32_t logprobs) { return logprobs < 0 ? 0 : std::max(1, logprobs); }

std::optional<pt::token_logprob> token_logprob_of(const engine::tokenizer& tok, int32_t token,
                                                  const engine::step_logprobs& step,
                                                  int32_t alternatives,
                                                  std::span<const int32_t> stop_ids) {
  if (step.top_ids.empty() || alternatives < 0 ||
      std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end()) {
    return std::nullopt;
  }
  pt::token_logprob out{.token = token_text(tok, token), .logprob = step.token_logprob};
  const size_t n = std::min({static_cast<size_t>(alternatives), step.top_ids.size(),
                             step.top_logprobs.size()});
  for (size_t i = 0; i < n; ++i) {
    out.top.push_back({token_text(tok, step.top_ids[i]), step.top_logprobs[i]});
  }
  return out;
}

} // namespace proofmesh::roles
