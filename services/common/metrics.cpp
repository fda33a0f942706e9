#include "services/common/metrics.hpp"

#include <set>

namespace proofmesh::services {

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
  for (const series& s : series_) {
    // Appended piece by piece: GCC 12 reports a false -Wrestrict on chains of operator+.
    if (described.insert(s.name).second) {
      for (const std::string* piece : {&s.name, &s.help}) {
        out += piece == &s.name ? "# HELP " : " ";
        out += *piece;
      }
      out += "\n# TYPE ";
      out += s.name;
      out += ' ';
      out += s.type;
      out += '\n';
    }
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
  return out;
}

} // namespace proofmesh::services
