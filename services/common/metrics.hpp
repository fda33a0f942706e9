// Prometheus metrics of a mesh process: counters and gauges registered once at start-up, bumped
// from any thread (relaxed atomics), rendered in the text exposition format on demand. Rules of
// the road: names follow Prometheus conventions (proofmesh_<service>_<what>[_total]); a metric
// with labels is one series per label value, registered up front, so rendering allocates nothing
// new and the set of series is bounded.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace proofmesh::services {

class metric {
public:
  void add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> value_{0};
};

class metrics_registry {
public:
  /// A series; `labels` is the inside of the braces, e.g. `status="ok"`, or empty.
  metric& counter(const std::string& name, const std::string& help, const std::string& labels = "");
  metric& gauge(const std::string& name, const std::string& help, const std::string& labels = "");
  std::string render() const;

private:
  struct series {
    std::string name, help, type, labels;
    metric value;
  };
  metric& add(const std::string& name, const std::string& help, const std::string& type,
              const std::string& labels);
  mutable std::mutex mutex_;
  std::deque<series> series_; // stable addresses
};

} // namespace proofmesh::services
