// Server-sent events for any number of job streams, read by one thread over one Redis
// connection. Rules of the road:
// - A subscriber names a stream key and the last entry id it has seen ("0": from the start; a
//   client's Last-Event-ID resumes after it). The hub XREADs every subscribed stream in one
//   blocking call, so a thousand open streams cost one connection and one round trip, not a
//   thousand. A new subscriber must not wait for that call to time out: a waker thread ends it
//   at once with CLIENT UNBLOCK from a second connection, and the next call includes the new
//   stream.
// - Entries go to each subscriber in order, exactly once, as (id, event JSON), from where it
//   asked to start, whenever it joins: a subscriber that arrives during a read from a later
//   position is served by the next read, never from the middle of this one. An event of type
//   completed, cancelled or error is the stream's last: the subscriber is dropped after it.
// - A subscriber is held weakly: a closed HTTP connection releases its subscription on the next
//   turn. Subscriptions are capped in all and per tenant (subscribe() says false past either),
//   so one tenant cannot hold every slot.
// - One XREAD's reply is bounded: the entries asked per stream shrink as streams grow in number,
//   so a thousand backlogged streams never exceed the client's reply cap.
// - Redis trouble is retried every half second; subscribers simply wait.
// - When the last subscriptions end, the memory their connections and bursts took goes back to
//   the system (malloc_trim, 2 s later), so a gateway's size follows its streams down as well
//   as up.
#pragma once

#include "actors/transport/redis_client.hpp"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace proofmesh::gateway {

struct stream_event {
  std::string id;   // the Redis stream entry id: the SSE id
  std::string json; // the event
  std::string type; // its "type" ("message" if it has none): read once here, not per subscriber
  bool last = false;
  // Its server-sent-events frame ("id:", "event:", "data:"), made once for every subscriber:
  // a thousand streams of one job write the same bytes, without a copy each.
  std::shared_ptr<const std::string> frame;
};

/// The server-sent-events frame of an entry: id (the Redis entry id, for Last-Event-ID), event
/// (the event's type), data (its JSON).
std::string sse_frame(const std::string& id, const std::string& type, const std::string& json);

/// A run of one read's events for one subscriber: the read's events are shared by every
/// subscriber of the stream (a thousand streams on one job copy nothing), each seeing its range.
struct event_batch {
  std::shared_ptr<const std::vector<stream_event>> events;
  size_t first = 0;
  size_t last = 0; // one past
  auto begin() const { return events->begin() + static_cast<std::ptrdiff_t>(first); }
  auto end() const { return events->begin() + static_cast<std::ptrdiff_t>(last); }
  size_t size() const { return last - first; }
};

class event_sink {
public:
  virtual ~event_sink() = default;
  /// Called on the hub's thread; must not block (post to the connection's executor).
  virtual void deliver(event_batch events) = 0;
};

struct event_hub_params {
  transport::redis_client_params redis;
  size_t max_subscriptions = 4096;
  size_t max_per_tenant = 512;
  int64_t block_ms = 1000;
};

class event_hub {
public:
  explicit event_hub(const event_hub_params& params);
  ~event_hub();
  event_hub(const event_hub&) = delete;
  event_hub& operator=(const event_hub&) = delete;

  /// `after_id` must be a canonical stream id ("ms-seq" or "0"); false past a cap.
  bool subscribe(const std::string& key, const std::string& after_id, const std::string& tenant,
                 std::weak_ptr<event_sink> sink);
  /// Whether a subscription for `tenant` would be taken now.
  bool has_room(const std::string& tenant) const;
  size_t num_subscriptions() const;

private:
  struct subscription {
    std::string key;
    std::string after;
    std::string tenant;
    std::weak_ptr<event_sink> sink;
  };
  bool room_locked(const std::string& tenant) const;
  void loop();
  void turn(transport::redis_client& redis);
  void wake_loop();

  event_hub_params params_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<subscription> subs_;
  std::map<std::string, size_t> per_tenant_;
  bool stopping_ = false;
  bool trim_due_ = false; // subscriptions ended since the last malloc_trim
  bool added_ = false;         // a subscription arrived since the current XREAD began
  int64_t reader_id_ = -1;     // the reading connection's CLIENT ID, once known
  uint64_t turns_ = 0;         // snapshots taken by the reader
  std::condition_variable added_cv_;
  std::thread thread_;
  std::thread waker_;
};

} // namespace proofmesh::gateway
