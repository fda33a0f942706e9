#include "gateway/stream_format.hpp"

namespace proofmesh::gateway {

std::string sse_head() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
         "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
}

std::string job_events_format::open() { return sse_head() + ": stream open\n\n"; }

frame job_events_format::on_event(const stream_event& e) {
  // The hub made it once; a stream event made elsewhere (a refusal) is framed here.
  return e.frame ? e.frame : std::make_shared<const std::string>(sse_frame(e.id, e.type, e.json));
}

} // namespace proofmesh::gateway
