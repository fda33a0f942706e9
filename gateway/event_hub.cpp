#include "gateway/event_hub.hpp"

#include "actors/common/bounded_json.hpp"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

#include <malloc.h>

namespace proofmesh::gateway {

namespace pt = proofmesh::transport;

namespace {

// Stream ids "ms-seq" compare as number pairs; anything unparsable sorts first.
std::pair<uint64_t, uint64_t> id_order(const std::string& id) {
  uint64_t ms = 0, seq = 0;
  const size_t dash = id.find('-');
  std::from_chars(id.data(), id.data() + std::min(dash, id.size()), ms);
  if (dash != std::string::npos) std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  return {ms, seq};
}

// An entry's event, its type read once for every subscriber.
stream_event event_of(const std::string& id, const std::string& json) {
  const nlohmann::json e = parse_bounded_json(json);
  std::string type = "message";
  if (e.is_object() && e.contains("type") && e["type"].is_string()) type = e["type"];
  const bool last = type == "completed" || type == "cancelled" || type == "error";
  auto frame = std::make_shared<const std::string>(sse_frame(id, type, json));
  return {.id = id, .json = json, .type = std::move(type), .last = last, .frame = std::move(frame)};
}

} // namespace

std::string sse_frame(const std::string& id, const std::string& type, const std::string& json) {
  std::string out;
  out.reserve(id.size() + type.size() + json.size() + 24);
  out.append("id: ").append(id).append("\nevent: ").append(type).append("\ndata: ");
  out.append(json).append("\n\n");
  return out;
}

event_hub::event_hub(const event_hub_params& params)
    : params_(params), thread_([this] { loop(); }), waker_([this] { wake_loop(); }) {}

event_hub::~event_hub() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  added_cv_.notify_all();
  waker_.join();
  thread_.join(); // its XREAD ends within block_ms
}

void event_hub::wake_loop() {
  pt::redis_client redis({.host = params_.redis.host, .port = params_.redis.port,
                          .password = params_.redis.password, .max_attempts = 2});
  std::unique_lock lock(mutex_);
  for (;;) {
    added_cv_.wait(lock, [this] { return stopping_ || (added_ && reader_id_ >= 0); });
    if (stopping_) return;
    added_ = false;
    const std::string id = std::to_string(reader_id_);
    const uint64_t turn = turns_;
    lock.unlock();
    // The reader may be between its snapshot and its XREAD, not blocked yet: UNBLOCK then says 0,
    // so try again briefly, until it is blocked or a new turn has picked the subscriber up.
    for (int attempt = 0; attempt < 50; ++attempt) {
      try {
        if (redis.command({"CLIENT", "UNBLOCK", id}).integer == 1) break;
      } catch (const std::exception&) {
        break; // Redis away: the reader's own timeout picks the subscriber up
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::lock_guard check(mutex_);
      if (turns_ != turn || stopping_) break;
    }
    lock.lock();
  }
}

bool event_hub::room_locked(const std::string& tenant) const {
  auto it = per_tenant_.find(tenant);
  return subs_.size() < params_.max_subscriptions &&
         (it == per_tenant_.end() || it->second < params_.max_per_tenant);
}

bool event_hub::has_room(const std::string& tenant) const {
  std::lock_guard lock(mutex_);
  return room_locked(tenant);
}

bool event_hub::subscribe(const std::string& key, const std::string& after_id,
                          const std::string& tenant, std::weak_ptr<event_sink> sink) {
  {
    std::lock_guard lock(mutex_);
    if (!room_locked(tenant)) return false;
    subs_.push_back({key, after_id, tenant, std::move(sink)});
    ++per_tenant_[tenant];
    added_ = true;
  }
  wake_.notify_all();
  added_cv_.notify_all();
  return true;
}

size_t event_hub::num_subscriptions() const {
  std::lock_guard lock(mutex_);
  return subs_.size();
}

void event_hub::loop() {
  pt::redis_client redis(params_.redis);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      const auto work = [this] { return stopping_ || !subs_.empty(); };
      // Streams ended and none since for 2 s: what their connections and bursts held goes back
      // to the system (glibc keeps freed memory for good otherwise). Not at once, since their
      // connections are still writing their last events then.
      while (trim_due_ && !work()) {
        if (wake_.wait_for(lock, std::chrono::seconds(2), work)) break;
        trim_due_ = false;
        ::malloc_trim(0);
      }
      wake_.wait(lock, work);
      if (stopping_) return;
    }
    try {
      if (reader_id_ < 0) { // after a reconnect the id changes: ask again
        const int64_t id = redis.command({"CLIENT", "ID"}).integer;
        std::lock_guard lock(mutex_);
        reader_id_ = id;
      }
      const int64_t reconnects = redis.num_reconnects();
      turn(redis);
      if (redis.num_reconnects() != reconnects) {
        std::lock_guard lock(mutex_);
        reader_id_ = -1;
      }
    } catch (const std::exception&) {
      {
        std::lock_guard lock(mutex_);
        reader_id_ = -1;
      }
      std::unique_lock lock(mutex_); // Redis away: wait, then try again
      wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
    }
  }
}

void event_hub::turn(pt::redis_client& redis) {
  // One XREAD per turn, from each key's oldest position any subscriber still needs.
  std::map<std::string, std::string> from;
  {
    std::lock_guard lock(mutex_);
    const size_t before = subs_.size();
    std::erase_if(subs_, [this](const subscription& s) {
      if (!s.sink.expired()) return false;
      if (--per_tenant_[s.tenant] == 0) per_tenant_.erase(s.tenant);
      return true;
    });
    if (subs_.size() < before) trim_due_ = true;
    added_ = false; // this call includes every subscription made so far
    ++turns_;
    for (const subscription& s : subs_) {
      auto [it, fresh] = from.emplace(s.key, s.after);
      if (!fresh && id_order(s.after) < id_order(it->second)) it->second = s.after;
    }
  }
  if (from.empty()) return;
  // About 8 reply elements per entry: keep a whole reply near 200,000 of them, far under the
  // client's cap, however many streams are backlogged.
  const size_t count = std::clamp<size_t>(25000 / from.size(), 1, 256);
  std::vector<std::string> args = {"XREAD", "COUNT", std::to_string(count), "BLOCK",
                                   std::to_string(params_.block_ms), "STREAMS"};
  for (const auto& [key, id] : from) args.push_back(key);
  for (const auto& [key, id] : from) args.push_back(id);
  pt::redis_reply r = redis.command(args);
  if (r.is_error()) throw pt::redis_unavailable(r.str);
  // By key, in stream order; each list is shared by the key's subscribers, read-only.
  std::map<std::string, std::shared_ptr<std::vector<stream_event>>> fresh;
  for (const pt::redis_reply& stream : r.elements) {
    if (stream.elements.size() != 2) continue;
    auto out = std::make_shared<std::vector<stream_event>>();
    for (const pt::redis_reply& entry : stream.elements[1].elements) {
      if (entry.elements.size() != 2) continue;
      const auto& fields = entry.elements[1].elements;
      for (size_t f = 0; f + 1 < fields.size(); f += 2) {
        if (fields[f].str == "event") {
          out->push_back(event_of(entry.elements[0].str, fields[f + 1].str));
        }
      }
    }
    if (!out->empty()) fresh.emplace(stream.elements[0].str, std::move(out));
  }
  if (fresh.empty()) return;
  std::vector<std::pair<std::shared_ptr<event_sink>, event_batch>> sends;
  {
    std::lock_guard lock(mutex_);
    for (subscription& s : subs_) {
      auto it = fresh.find(s.key);
      if (it == fresh.end()) continue;
      // The read covers what follows from[key] only. A subscription that joined during the XREAD
      // from an earlier position would jump its gap: it waits for the next turn, which reads
      // from its own position.
      if (id_order(s.after) < id_order(from.at(s.key))) continue;
      const std::vector<stream_event>& events = *it->second;
      // Its range: after its position (ids ascend), up to and including a last event.
      const auto after = id_order(s.after);
      size_t first = static_cast<size_t>(
          std::partition_point(events.begin(), events.end(),
                               [&](const stream_event& e) { return id_order(e.id) <= after; }) -
          events.begin());
      size_t last = first;
      while (last < events.size() && !events[last++].last) {
      }
      if (last == first) continue;
      const bool ended = events[last - 1].last;
      s.after = events[last - 1].id;
      if (auto sink = s.sink.lock()) {
        sends.emplace_back(std::move(sink), event_batch{it->second, first, last});
      }
      if (ended) s.sink.reset(); // dropped on the next turn
    }
  }
  for (auto& [sink, batch] : sends) sink->deliver(std::move(batch)); // outside the lock
}

} // namespace proofmesh::gateway
