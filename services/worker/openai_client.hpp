// One HTTP POST to an OpenAI-compatible server, over http or https, bounded in time and
// cancellable from another thread (a cancelled task must not hold a slot for the length of a
// 128K-token answer). Rules of the road:
// - https is TLS through OpenSSL with the server's certificate always verified: against the
//   system's store, or `ca_file` (a private CA); the name checked is the URL's host, which SNI
//   also sends. Nothing turns verification off.
// - Resolving and connecting (and the TLS handshake) have 10 s together; the whole exchange has
//   `timeout`; the answer body is capped at 64 MiB.
// - A transport failure (refused, reset, timed out, a certificate that does not verify,
//   cancelled) comes back as `failure`, saying which step and why, never as a throw.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <string>

namespace proofmesh::worker {

struct openai_endpoint {
  std::string host;
  std::string port = "80";
  bool tls = false;                        // https
  std::string ca_file;                     // https: PEM of the CA to trust; empty: the system's
  std::string api_key;                     // sent as a Bearer token when set
  std::chrono::seconds timeout{3600};      // a whole request, answer included
};

/// http[s]://host[:port][/v1][/]: the server's base; input_error otherwise.
openai_endpoint parse_openai_url(const std::string& url);

struct http_outcome {
  int status = 0;      // 0: no answer (see failure)
  std::string body;
  std::chrono::seconds retry_after{0}; // the Retry-After header, when sent
  std::string failure; // why there is no answer
};

class http_call {
public:
  http_outcome post(const openai_endpoint& to, const std::string& path, const std::string& body);
  /// Ends a post() in flight on another thread (it returns failure "cancelled"); thread-safe.
  void cancel();

private:
  boost::asio::io_context io_;
  std::atomic<bool> cancelled_{false};
};

} // namespace proofmesh::worker
