// The CLI's side of the REST gateway: one request at a time over Boost.Beast, and a reader of a
// job's event stream that survives dropped connections. Rules of the road:
// - The gateway is http://HOST[:PORT] (--gateway, or PROOFMESH_GATEWAY; default
//   http://127.0.0.1:8080); the key comes from --api-key or PROOFMESH_API_KEY.
// - An answer of 4xx is the caller's mistake: input_error with the gateway's code and message
//   (exit 2). 5xx and a gateway that cannot be reached are runtime errors (exit 1).
// - follow_events() reconnects with Last-Event-ID when the stream breaks before its last event,
//   so progress is neither lost nor repeated; it gives up after 10 failed tries in a row.
#pragma once

#include <functional>
#include <string>

namespace proofmesh::cli {

struct gateway_target {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string api_key;
};

/// Parses http://host[:port][/]; https is refused by name (terminate TLS in front of us).
gateway_target parse_gateway_url(const std::string& url, const std::string& api_key);

struct gateway_reply {
  int status = 0;
  std::string body;
};

/// One request; throws as the header says for 4xx and 5xx.
gateway_reply gateway_call(const gateway_target& to, const std::string& method,
                           const std::string& target, const std::string& body = "",
                           const std::vector<std::pair<std::string, std::string>>& headers = {});

/// Calls on_event(type, json data) for every event of the stream at `target`, from the start,
/// until the last one (completed or cancelled), which it returns.
std::string follow_events(const gateway_target& to, const std::string& target,
                          const std::function<void(const std::string&, const std::string&)>&
                              on_event);

} // namespace proofmesh::cli
