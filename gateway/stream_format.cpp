#include "gateway/stream_format.hpp"

namespace proofmesh::gateway {

std::string sse_head() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
         "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
}

std::string job_events_format::open() { return sse_head() + ": stream open\n\n"; }

std::string job_events_format::on_event(const stream_event& e) {
  // The event type doubles as the SSE event name, for EventSource listeners.
  std::string out;
  out.reserve(e.id.size() + e.type.size() + e.json.size() + 24);
  out.append("id: ").append(e.id).append("\nevent: ").append(e.type).append("\ndata: ");
  out.append(e.json).append("\n\n");
  return out;
}

} // namespace proofmesh::gateway
