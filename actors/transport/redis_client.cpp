#include "actors/transport/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <thread>

namespace proofmesh::transport {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  return {.tv_sec = static_cast<time_t>(ms.count() / 1000),
          .tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// Converts hiredis' tree, counting elements against the cap.
bool convert(const redisReply* r, redis_reply& out, size_t& budget) {
  if (budget == 0) {
    return false;
  }
  --budget;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.kind = redis_kind::redis_kind_string;
      out.str.assign(r->str, r->len);
      return true;
    case REDIS_REPLY_STATUS:
      out.kind = redis_kind::redis_kind_status;
      out.str.assign(r->str, r->len);
      return true;
    case REDIS_REPLY_ERROR:
      out.kind = redis_kind::redis_kind_error;
      out.str.assign(r->str, r->len);
      return true;
    case REDIS_REPLY_INTEGER:
      out.kind = redis_kind::redis_kind_integer;
      out.integer = r->integer;
      return true;
    case REDIS_REPLY_ARRAY:
      out.kind = redis_kind::redis_kind_array;
      out.elements.resize(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        if (!convert(r->element[i], out.elements[i], budget)) {
          return false;
        }
      }
      return true;
    default:
      out.kind = redis_kind::redis_kind_nil;
      return true;
  }
}

} // namespace

redis_client::redis_client(const redis_client_params& params) : params_(params) {}

redis_client::~redis_client() { disconnect(); }

void redis_client::disconnect() {
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
}

void redis_client::connect() {
  disconnect();
  timeval tv = to_timeval(params_.connect_timeout);
  context_ = redisConnectWithTimeout(params_.host.c_str(), params_.port, tv);
  if (context_ == nullptr || context_->err != 0) {
    std::string why = context_ == nullptr ? "out of memory" : context_->errstr;
    disconnect();
    throw redis_unavailable("redis " + params_.host + ":" + std::to_string(params_.port) + ": " +
                            why);
  }
  tv = to_timeval(params_.command_timeout);
  redisSetTimeout(context_, tv);
  if (!params_.password.empty()) {
    const char* argv[] = {"AUTH", params_.password.c_str()};
    const size_t lens[] = {4, params_.password.size()};
    auto* r = static_cast<redisReply*>(redisCommandArgv(context_, 2, argv, lens));
    const bool ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
    std::string why = r == nullptr ? context_->errstr : std::string(r->str ? r->str : "", r->len);
    if (r != nullptr) {
      freeReplyObject(r);
    }
    if (!ok) {
      disconnect();
      throw redis_unavailable("redis AUTH failed: " + why);
    }
  }
}

redis_reply redis_client::command(const std::vector<std::string>& args, redis_retry retry) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto backoff = params_.backoff_initial;
  std::string last_error = "not connected";
  for (int attempt = 0; attempt < params_.max_attempts; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, params_.backoff_max);
    }
    try {
      if (context_ == nullptr) {
        connect();
        reconnects_ += connected_once_ ? 1 : 0;
        connected_once_ = true;
      }
    } catch (const redis_unavailable& e) {
      last_error = e.what();
      continue;
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(
        context_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (r == nullptr) {
      // The connection broke: the command may or may not have run.
      last_error = context_->errstr;
      disconnect();
      if (retry == redis_retry::redis_retry_never) {
        throw redis_unavailable("redis connection lost during " + args.front() + ": " +
                                last_error);
      }
      continue;
    }
    redis_reply out;
    size_t budget = params_.max_reply_elements;
    const bool fits = convert(r, out, budget);
    freeReplyObject(r);
    if (!fits) {
      throw redis_unavailable("redis reply to " + args.front() + " exceeds " +
                              std::to_string(params_.max_reply_elements) + " elements");
    }
    if (out.is_error() && (out.str.rfind("LOADING", 0) == 0 || out.str.rfind("BUSY ", 0) == 0)) {
      // A restarted server still reading its AOF, or one running a slow script, refuses every
      // command without running it: wait like for a lost connection, whatever the retry policy.
      // (BUSYGROUP, an answer about a consumer group, is not this.)
      last_error = out.str;
      continue;
    }
    return out;
  }
  throw redis_unavailable("redis unreachable after " + std::to_string(params_.max_attempts) +
                          " attempts: " + last_error);
}

} // namespace proofmesh::transport
