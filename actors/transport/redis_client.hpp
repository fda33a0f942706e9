// A synchronous Redis connection through hiredis, with reconnection. Rules of the road:
// - Commands are argument vectors (redisCommandArgv): binary-safe, no format strings.
// - A broken connection (I/O error, EOF, timeout) is reconnected with exponential backoff
//   (AUTH again when a password is set). An idempotent command is then retried, up to
//   max_attempts; a non-idempotent one is not, because it may have run: the caller gets
//   redis_unavailable and decides (our writes are designed to be idempotent, so most callers
//   pass redis_retry_always).
// - Error replies come back as replies (is_error()), not exceptions: they are answers. The
//   exceptions are LOADING (a restarted server reading its data) and BUSY (a script running
//   past its time limit): the command did not run, so it is retried with the same backoff as a
//   lost connection, and past max_attempts the caller gets redis_unavailable.
// - Replies are capped (max_reply_elements, counted over the whole tree) and converted to
//   plain values before hiredis' memory is freed.
#pragma once

#include "actors/transport/redis_reply.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;

namespace proofmesh::transport {

/// Redis could not be reached within the retry budget (or a non-idempotent command's
/// connection broke).
class redis_unavailable : public std::runtime_error {
public:
  explicit redis_unavailable(const std::string& what) : std::runtime_error(what) {}
};

struct redis_client_params {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password; // empty: no AUTH
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{10000};
  int max_attempts = 8;
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};
  size_t max_reply_elements = 1 << 20;
};

enum class redis_retry : uint8_t { redis_retry_always, redis_retry_never };

class redis_client {
public:
  explicit redis_client(const redis_client_params& params);
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  redis_reply command(const std::vector<std::string>& args,
                      redis_retry retry = redis_retry::redis_retry_always);

  /// Reconnections made so far (a metric: each one is an outage seen).
  int64_t num_reconnects() const { return reconnects_; }

private:
  void connect();
  void disconnect();

  redis_client_params params_;
  redisContext* context_ = nullptr;
  int64_t reconnects_ = 0;
  bool connected_once_ = false;
};

} // namespace proofmesh::transport
