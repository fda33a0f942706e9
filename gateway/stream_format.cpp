#include "gateway/stream_format.hpp"

#include "actors/common/bounded_json.hpp"

namespace proofmesh::gateway {

std::string sse_head() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
         "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
}

std::string job_events_format::open() { return sse_head() + ": stream open\n\n"; }

std::string job_events_format::on_event(const stream_event& e) {
  // The event type doubles as the SSE event name, for EventSource listeners.
  const nlohmann::json j = parse_bounded_json(e.json);
  std::string type = "message";
  if (j.is_object() && j.contains("type") && j["type"].is_string()) type = j["type"];
  return "id: " + e.id + "\nevent: " + type + "\ndata: " + e.json + "\n\n";
}

} // namespace proofmesh::gateway
