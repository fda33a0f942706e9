// What a service's /healthz says: ok, or what it is waiting for and since when. Rules of the
// road: the service's loop sets it, the metrics server's thread reads it (so it is locked); a
// service that waits is alive and answers 200, because restarting it would not bring back what
// it waits for (Redis) and would lose the work it holds.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace proofmesh::services {

class health_status {
public:
  /// Waiting for `what` (e.g. "redis"), because of `why`; the first call of a wait sets since.
  void waiting(const std::string& what, const std::string& why) {
    std::lock_guard lock(mutex_);
    if (!wait_ || wait_->what != what) wait_ = wait{what, why, std::chrono::steady_clock::now()};
    wait_->why = why;
  }
  void ok() {
    std::lock_guard lock(mutex_);
    wait_.reset();
  }
  /// {"status": "ok"}, or {"status": "waiting", "waiting_for", "since_s", "error"}.
  std::string json() const {
    std::lock_guard lock(mutex_);
    if (!wait_) return R"({"status": "ok"})";
    const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                       wait_->since).count();
    return nlohmann::json{{"status", "waiting"}, {"waiting_for", wait_->what},
                          {"since_s", static_cast<int64_t>(since)}, {"error", wait_->why}}
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

private:
  struct wait {
    std::string what;
    std::string why;
    std::chrono::steady_clock::time_point since;
  };
  mutable std::mutex mutex_;
  std::optional<wait> wait_;
};

} // namespace proofmesh::services
