#include "actors/pipeline/task_key.hpp"

#include <array>
#include <charconv>
#include <vector>

namespace proofmesh::pipeline {

namespace {

// How many indices each kind carries, in task_kind order.
constexpr std::array<size_t, 4> index_count = {1, 2, 3, 0};

bool parse_number(std::string_view s, int32_t& out) {
  if (s.empty() || s.size() > 9) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

std::vector<std::string_view> split(std::string_view id) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t slash = id.find('/', start);
    parts.push_back(id.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos || parts.size() > 8) return parts;
    start = slash + 1;
  }
}

} // namespace

const char* task_kind_name(task_kind k) {
  switch (k) {
    case task_kind::task_kind_generate: return "gen";
    case task_kind::task_kind_verify: return "verify";
    case task_kind::task_kind_meta: return "meta";
    case task_kind::task_kind_stop: return "stop";
  }
  return "unknown";
}

std::string task_key::round_prefix() const {
  return job + '/' + problem + "/r" + std::to_string(round) + '/';
}

std::string task_key::to_string() const {
  std::string id = round_prefix() + task_kind_name(kind);
  const int32_t idx[3] = {slot, rating, judgement};
  for (size_t i = 0; i < index_count[static_cast<size_t>(kind)]; ++i) {
    id += '/';
    id += std::to_string(idx[i]);
  }
  return id;
}

std::optional<task_key> task_key::parse(std::string_view id) {
  const std::vector<std::string_view> parts = split(id);
  if (parts.size() < 4 || parts[0].empty() || parts[1].empty()) return std::nullopt;
  task_key k{.job = std::string(parts[0]), .problem = std::string(parts[1])};
  if (parts[2].size() < 2 || parts[2][0] != 'r' || !parse_number(parts[2].substr(1), k.round)) {
    return std::nullopt;
  }
  bool known = false;
  for (task_kind kind : {task_kind::task_kind_generate, task_kind::task_kind_verify,
                         task_kind::task_kind_meta, task_kind::task_kind_stop}) {
    if (parts[3] == task_kind_name(kind)) k.kind = kind, known = true;
  }
  if (!known) return std::nullopt;
  const size_t want = index_count[static_cast<size_t>(k.kind)];
  const size_t have = parts.size() - 4;
  const bool legacy_stop = k.kind == task_kind::task_kind_stop && have == 1 && parts[4] == "0";
  if (have != want && !legacy_stop) return std::nullopt;
  int32_t* idx[3] = {&k.slot, &k.rating, &k.judgement};
  for (size_t i = 0; i < want; ++i) {
    if (!parse_number(parts[4 + i], *idx[i])) return std::nullopt;
  }
  return k;
}

std::string_view job_of(std::string_view task_id) {
  const size_t slash = task_id.find('/');
  return slash == std::string_view::npos ? std::string_view() : task_id.substr(0, slash);
}

} // namespace proofmesh::pipeline
