// The gateway's event hub against a real redis-server: streams that join while the hub's XREAD
// is in flight (a job's events flowing, as the harness of issue #14 had them) still get every
// event from where they asked to start, exactly once, in order.
#include "gateway/event_hub.hpp"

#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <thread>

namespace proofmesh::gateway {
namespace {

using namespace std::chrono_literals;

// Collects what the hub delivers, in delivery order.
class collector final : public event_sink {
public:
  void deliver(event_batch events) override {
    std::lock_guard lock(mutex_);
    for (const stream_event& e : events) {
      done_ = done_ || e.last;
      ids_.push_back(e.id);
    }
  }
  bool done() const {
    std::lock_guard lock(mutex_);
    return done_;
  }
  std::vector<std::string> ids() const {
    std::lock_guard lock(mutex_);
    return ids_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> ids_;
  bool done_ = false;
};

TEST(event_hub, late_joiners_get_every_event_from_where_they_asked_exactly_once) {
  testing::redis_server redis;
  const transport::redis_client_params params{.port = redis.port(), .password = redis.password()};
  event_hub hub({.redis = params, .block_ms = 200});
  transport::redis_client writer(params);
  const std::string key = "job:test:events";
  constexpr int events = 3000;
  std::vector<std::string> written;
  std::thread producer([&] {
    for (int i = 1; i <= events; ++i) {
      const std::string e = i == events ? R"({"type":"completed"})"
                                        : nlohmann::json{{"type", "round"}, {"n", i}}.dump();
      written.push_back(writer.command({"XADD", key, "*", "event", e}).str);
      if (i % 10 == 0) std::this_thread::sleep_for(1ms);
    }
  });
  // Streams join all through the run, each from the start: before the fix a third of them lost
  // a prefix, served from the middle of a read made for the streams already there.
  std::vector<std::shared_ptr<collector>> sinks;
  for (int s = 0; s < 60; ++s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    sinks.push_back(std::make_shared<collector>());
    ASSERT_TRUE(hub.subscribe(key, "0", "tenant", sinks.back()));
  }
  producer.join();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (const auto& s : sinks) {
    while (!s->done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
  }
  for (size_t s = 0; s < sinks.size(); ++s) {
    EXPECT_EQ(sinks[s]->ids(), written) << "stream " << s << " got " << sinks[s]->ids().size()
                                        << " of " << written.size() << " events";
  }
}

} // namespace
} // namespace proofmesh::gateway
