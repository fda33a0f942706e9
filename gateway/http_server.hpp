// The gateway's HTTP/1.1 server: Boost.Beast, asynchronous, so thousands of idle keep-alive
// connections and open SSE streams cost a socket each, not a thread. Rules of the road:
// - I/O runs on `io_threads` threads; every connection is a strand. Handlers block (they talk to
//   Redis), so they run on a separate pool of `blocking_threads`; the answer is posted back.
// - Limits before anything is parsed: header bytes (431), body bytes (413), a read timeout per
//   request, and a cap on open connections (past it, new ones are closed at once).
// - An answer with a stream key is fed by the event_hub and written by its stream_format
//   (server-sent events, or one buffered response): a keep-alive every sse_keepalive, closed
//   after the last event, or when the client goes, or when it reads too slowly to keep the
//   backlog under max_stream_backlog_bytes (a job's stream resumes with Last-Event-ID).
// - A handler's api_error becomes its JSON body and status; anything else it throws is a 500
//   with code internal; the server keeps serving either way.
// - GET /healthz is answered on the I/O thread itself: liveness must not queue behind handlers
//   stuck on an unreachable Redis.
#pragma once

#include "gateway/event_hub.hpp"
#include "gateway/stream_format.hpp"
#include "services/common/metrics.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace proofmesh::gateway {

struct http_request {
  std::string method; // "GET", "POST", ...
  std::string path;   // the target without its query
  std::map<std::string, std::string> query; // decoded; a repeated name keeps its last value
  std::string body;
  std::string authorization;
  std::string last_event_id;
  std::string idempotency_key;
};

struct http_answer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string stream_key;   // non-empty: answer with the SSE stream of this key
  std::string stream_after; // the id it starts after (canonical)
  std::string stream_tenant; // whose subscription it is (the hub caps each tenant)
  std::shared_ptr<stream_format> format; // how the stream is written (default: job events)
};

using request_handler = std::function<http_answer(const http_request&)>;

struct http_server_params {
  std::string host = "0.0.0.0";
  int port = 8080; // 0: any free port (see port())
  int io_threads = 2;
  int blocking_threads = 8;
  size_t max_body_bytes = size_t{8} << 20;
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_connections = 10000;
  size_t preallocated_connections = 1024; // sockets' reactor states made at start (.cpp: why)
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds sse_keepalive{15};
  size_t max_stream_backlog_bytes = size_t{4} << 20;
};

class http_server {
public:
  /// Binds and starts serving; throws input_error when the address cannot be bound.
  http_server(const http_server_params& params, request_handler handler, event_hub& hub,
              services::metrics_registry& metrics);
  ~http_server(); // stops accepting, closes every connection, joins its threads
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  int port() const;

  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace proofmesh::gateway
