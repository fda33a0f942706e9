// How an answer fed by the event hub is written: the bytes that open it, the bytes for each
// event, and the bytes that close it after the last event. Rules of the road:
// - A streaming format writes as events come (server-sent events); a buffered one writes
//   nothing until close(), which returns the whole HTTP response (a non-streaming OpenAI
//   answer waits for its completion this way, holding a socket but no thread).
// - The session calls these on its strand, one at a time; abandoned() runs on the blocking
//   pool, once, if the client leaves before the last event.
#pragma once

#include "gateway/event_hub.hpp"

#include <memory>
#include <string>

namespace proofmesh::gateway {

/// Bytes to write, shared: an event's frame is one string for all the streams that carry it.
using frame = std::shared_ptr<const std::string>;

class stream_format {
public:
  virtual ~stream_format() = default;
  virtual std::string open() = 0;
  /// The bytes for one event (null or empty: nothing to write now).
  virtual frame on_event(const stream_event& e) = 0;
  virtual std::string close() = 0;
  /// A comment that keeps an idle stream open; empty for a buffered answer.
  virtual std::string keepalive() = 0;
  virtual void abandoned() {}
};

/// A job's events as server-sent events: each event's frame as the hub made it (sse_frame).
class job_events_format : public stream_format {
public:
  std::string open() override;
  frame on_event(const stream_event& e) override;
  std::string close() override { return {}; }
  std::string keepalive() override { return ": keep-alive\n\n"; }
};

/// The head of a server-sent events answer (status line and headers).
std::string sse_head();

} // namespace proofmesh::gateway
