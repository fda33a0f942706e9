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
#include <vector>

namespace proofmesh::services {

class metric {
public:
  void add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> value_{0};
};

// A latency histogram in seconds: cumulative buckets with fixed upper bounds, a sum and a count,
// as Prometheus histograms are (p50/p99 come from histogram_quantile over the buckets).
class histogram {
public:
  explicit histogram(std::vector<double> bounds);
  void observe(double seconds);
  /// The series lines of `name` with `labels` (may be empty).
  std::string render(const std::string& name, const std::string& labels) const;

private:
  std::vector<double> bounds_;
  std::deque<std::atomic<int64_t>> buckets_; // non-cumulative counts; one more for +Inf
  std::atomic<int64_t> sum_micros_{0};
  std::atomic<int64_t> count_{0};
};

/// Bounds from 1 ms to about 10 minutes, for anything from a request to a long proof.
std::vector<double> latency_bounds();

class metrics_registry {
public:
  /// A series; `labels` is the inside of the braces, e.g. `status="ok"`, or empty.
  metric& counter(const std::string& name, const std::string& help, const std::string& labels = "");
  metric& gauge(const std::string& name, const std::string& help, const std::string& labels = "");
  histogram& latency(const std::string& name, const std::string& help,
                     const std::string& labels = "");
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
  struct histogram_series {
    histogram_series(std::string n, std::string h, std::string l)
        : name(std::move(n)), help(std::move(h)), labels(std::move(l)),
          value(latency_bounds()) {}
    std::string name, help, labels;
    histogram value;
  };
  std::deque<histogram_series> histograms_;
};

} // namespace proofmesh::services
