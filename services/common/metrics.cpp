#include "services/common/metrics.hpp"

#include <cstdio>
#include <set>

namespace proofmesh::services {

std::vector<double> latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
          2.5,   5,      10,    30,   60,    120,  300, 600};
}

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1) {}

void histogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<int64_t>(seconds * 1e6), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::string histogram::render(const std::string& name, const std::string& labels) const {
  std::string out;
  const std::string sep = labels.empty() ? "" : ",";
  int64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    char le[32];
    if (i < bounds_.size()) {
      std::snprintf(le, sizeof le, "%g", bounds_[i]);
    } else {
      std::snprintf(le, sizeof le, "+Inf");
    }
    out += name;
    out += "_bucket{";
    out += labels;
    out += sep;
    out += "le=\"";
    out += le;
    out += "\"} ";
    out += std::to_string(cumulative);
    out += '\n';
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(sum_micros_.load()) / 1e6);
  out += name;
  out += "_sum";
  out += braces;
  out += ' ';
  out += sum;
  out += '\n';
  out += name;
  out += "_count";
  out += braces;
  out += ' ';
  out += std::to_string(count_.load());
  out += '\n';
  return out;
}

histogram& metrics_registry::latency(const std::string& name, const std::string& help,
                                     const std::string& labels) {
  std::lock_guard lock(mutex_);
  histograms_.emplace_back(name, help, labels);
  return histograms_.back().value;
}

metric& metrics_registry::add(const std::string& name, const std::string& help,
                              const std::string& type, const std::string& labels) {
  std::lock_guard lock(mutex_);
  series_.emplace_back();
  series& s = series_.back();
  s.name = name;
  s.help = help;
  s.type = type;
  s.labels = labels;
  return s.value;
}

metric& metrics_registry::counter(const std::string& name, const std::string& help,
                                  const std::string& labels) {
  return add(name, help, "counter", labels);
}

metric& metrics_registry::gauge(const std::string& name, const std::string& help,
                                const std::string& labels) {
  return add(name, help, "gauge", labels);
}

std::string metrics_registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  std::set<std::string> described;
  // HELP and TYPE once per name, before its first series. Appended piece by piece: GCC 12
  // reports a false -Wrestrict on chains of operator+.
  auto describe = [&](const std::string& name, const std::string& help, const std::string& type) {
    if (!described.insert(name).second) return;
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  };
  for (const series& s : series_) {
    describe(s.name, s.help, s.type);
    out += s.name;
    if (!s.labels.empty()) {
      out += '{';
      out += s.labels;
      out += '}';
    }
    out += ' ';
    out += std::to_string(s.value.value());
    out += '\n';
  }
  for (const histogram_series& h : histograms_) {
    describe(h.name, h.help, "histogram");
    out += h.value.render(h.name, h.labels);
  }
  return out;
}

} // namespace proofmesh::services
