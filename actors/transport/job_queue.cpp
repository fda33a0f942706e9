#include "actors/transport/job_queue.hpp"

namespace proofmesh::transport {

namespace {

void require_ok(const redis_reply& r, const char* what) {
  if (r.is_error()) {
    throw redis_unavailable(std::string(what) + ": " + r.str);
  }
}

// What Redis says when the stream or its group is gone (XINFO: no such key; XREADGROUP,
// XAUTOCLAIM, XPENDING, XCLAIM: NOGROUP).
bool is_missing_group(const redis_reply& r) {
  return r.is_error() && (r.str.rfind("NOGROUP", 0) == 0 || r.str == "ERR no such key");
}

} // namespace

job_queue::job_queue(redis_client& redis, const job_queue_params& params)
    : redis_(redis), params_(params) {
  create_group();
}

void job_queue::create_group() {
  redis_reply r =
      redis_.command({"XGROUP", "CREATE", params_.stream, params_.group, "0", "MKSTREAM"});
  if (r.is_error() && r.str.rfind("BUSYGROUP", 0) != 0) {
    require_ok(r, "XGROUP CREATE");
  }
}

redis_reply job_queue::command(const std::vector<std::string>& args, const char* what) {
  redis_reply r = redis_.command(args);
  if (is_missing_group(r)) {
    create_group();
    r = redis_.command(args);
  }
  require_ok(r, what);
  return r;
}

std::string job_queue::add(const std::string& body) {
  // Not retried: a repeat would enqueue the job twice. Producers that need exactly-once submit
  // with a job id of their own and dedupe on it.
  redis_reply r = redis_.command({"XADD", params_.stream, "*", "v", job_format_version, "job", body},
                                 redis_retry::redis_retry_never);
  require_ok(r, "XADD");
  return r.str;
}

std::vector<job_entry> job_queue::entries(const redis_reply& list) const {
  std::vector<job_entry> out;
  for (const redis_reply& e : list.elements) {
    // [id, [field, value, ...]]; a deleted entry comes back with a nil field list.
    if (e.elements.size() != 2 || e.elements[0].kind != redis_kind::redis_kind_string) {
      continue;
    }
    job_entry j{.id = e.elements[0].str};
    const redis_reply& fields = e.elements[1];
    std::string version;
    bool has_body = false;
    for (size_t f = 0; f + 1 < fields.elements.size(); f += 2) {
      const std::string& name = fields.elements[f].str;
      if (name == "v") {
        version = fields.elements[f + 1].str;
      } else if (name == "job") {
        j.body = fields.elements[f + 1].str;
        has_body = true;
      }
    }
    if (!has_body) {
      j.why = "the entry has no `job` field";
    } else if (version != job_format_version) {
      j.why = "job format version \"" + version + "\" is not " + job_format_version;
    } else if (j.body.size() > params_.max_job_bytes) {
      j.why = "the job is larger than " + std::to_string(params_.max_job_bytes) + " bytes";
      j.body.clear();
    } else {
      j.valid = true;
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<job_entry> job_queue::read(std::chrono::milliseconds block) {
  std::vector<std::string> args = {"XREADGROUP", "GROUP", params_.group, params_.consumer,
                                   "COUNT", std::to_string(params_.max_batch)};
  if (block.count() > 0) { // BLOCK 0 would mean forever
    args.push_back("BLOCK");
    args.push_back(std::to_string(block.count()));
  }
  args.insert(args.end(), {"STREAMS", params_.stream, ">"});
  redis_reply r = command(args, "XREADGROUP");
  if (r.is_nil() || r.elements.empty()) {
    return {};
  }
  // [[stream, [entries...]]]
  return entries(r.elements[0].elements.at(1));
}

void job_queue::keep(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::vector<std::string> args = {"XCLAIM", params_.stream, params_.group, params_.consumer, "0"};
  args.insert(args.end(), ids.begin(), ids.end());
  args.push_back("JUSTID");
  command(args, "XCLAIM");
}

std::vector<std::vector<job_entry>> job_queue::read_all(std::span<job_queue* const> queues,
                                                        std::chrono::milliseconds block) {
  std::vector<std::vector<job_entry>> out(queues.size());
  if (queues.empty()) return out;
  const job_queue& first = *queues[0];
  std::vector<std::string> args = {"XREADGROUP", "GROUP", first.params_.group,
                                   first.params_.consumer, "COUNT",
                                   std::to_string(first.params_.max_batch)};
  if (block.count() > 0) {
    args.push_back("BLOCK");
    args.push_back(std::to_string(block.count()));
  }
  args.push_back("STREAMS");
  for (const job_queue* q : queues) args.push_back(q->params_.stream);
  for (size_t i = 0; i < queues.size(); ++i) args.push_back(">");
  redis_reply r = first.redis_.command(args);
  if (is_missing_group(r)) {
    for (job_queue* q : queues) q->create_group();
    r = first.redis_.command(args);
  }
  require_ok(r, "XREADGROUP");
  for (const redis_reply& stream : r.elements) { // [[stream, [entries...]], ...]
    if (stream.elements.size() != 2) continue;
    for (size_t i = 0; i < queues.size(); ++i) {
      if (queues[i]->params_.stream == stream.elements[0].str) {
        out[i] = queues[i]->entries(stream.elements[1]);
      }
    }
  }
  return out;
}

std::vector<job_entry> job_queue::reclaim() {
  redis_reply r = command({"XAUTOCLAIM", params_.stream, params_.group, params_.consumer,
                           std::to_string(params_.min_idle.count()), "0-0", "COUNT",
                           std::to_string(params_.max_batch)},
                          "XAUTOCLAIM");
  if (r.elements.size() < 2) {
    return {};
  }
  return entries(r.elements[1]);
}

void job_queue::ack(const std::string& id) {
  require_ok(redis_.command({"XACK", params_.stream, params_.group, id}), "XACK");
}

int64_t job_queue::num_pending() {
  redis_reply r = command({"XPENDING", params_.stream, params_.group}, "XPENDING");
  return r.elements.empty() ? 0 : r.elements[0].integer;
}

int64_t job_queue::depth() {
  redis_reply r = command({"XINFO", "GROUPS", params_.stream}, "XINFO GROUPS");
  for (const redis_reply& g : r.elements) {
    std::string name;
    int64_t pending = 0, lag = 0;
    for (size_t f = 0; f + 1 < g.elements.size(); f += 2) {
      const std::string& key = g.elements[f].str;
      if (key == "name") name = g.elements[f + 1].str;
      if (key == "pending") pending = g.elements[f + 1].integer;
      if (key == "lag") lag = g.elements[f + 1].integer;
    }
    if (name == params_.group) {
      return pending + lag;
    }
  }
  return 0;
}

} // namespace proofmesh::transport
