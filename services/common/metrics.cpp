#include "services/common/metrics.hpp"

#include <cstdio>
#include <initializer_list>
#include <string_view>
#include <set>

namespace proofmesh::services {

namespace {

// Appends every piece: one call per exposition line, and no chain of operator+ (on which GCC 12
// reports a false -Wrestrict).
void append(std::string& out, std::initializer_list<std::string_view> pieces) {
  for (std::string_view p : pieces) out += p;
}

} // namespace

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
    append(out, {name, "_bucket{", labels, sep, "le=\"", le, "\"} ", std::to_string(cumulative),
                 "\n"});
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(sum_micros_.load()) / 1e6);
  append(out, {name, "_sum", braces, " ", sum, "\n"});
  append(out, {name, "_count", braces, " ", std::to_string(count_.load()), "\n"});
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
  // HELP and TYPE once per name, before its first series.
  auto describe = [&](const std::string& name, const std::string& help, const std::string& type) {
    if (!described.insert(name).second) return;
    append(out, {"# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n"});
  };
  for (const series& s : series_) {
    describe(s.name, s.help, s.type);
    const bool labelled = !s.labels.empty();
    append(out, {s.name, labelled ? "{" : "", s.labels, labelled ? "}" : "", " ",
                 std::to_string(s.value.value()), "\n"});
  }
  for (const histogram_series& h : histograms_) {
    describe(h.name, h.help, "histogram");
    out += h.value.render(h.name, h.labels);
  }
  return out;
}

} // namespace proofmesh::services
