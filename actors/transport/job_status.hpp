// A job's status as its record in Redis (job:<id>, field status) holds it: the gateway writes
// queued, the coordinator running and one of the two ends. Rules of the road: one name per
// status, one parse; a record holding anything else is not ours to interpret.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace proofmesh::transport {

enum class job_status : uint8_t {
  job_status_queued = 0,    // accepted by a gateway, not yet claimed
  job_status_running = 1,   // a coordinator has it (it may be resuming it)
  job_status_completed = 2, // every problem done; the result is stored
  job_status_cancelled = 3, // stopped on request; the result is what was done by then
};

inline const char* job_status_name(job_status s) {
  switch (s) {
    case job_status::job_status_queued: return "queued";
    case job_status::job_status_running: return "running";
    case job_status::job_status_completed: return "completed";
    case job_status::job_status_cancelled: return "cancelled";
  }
  return "unknown";
}

inline std::optional<job_status> parse_job_status(std::string_view s) {
  for (job_status v : {job_status::job_status_queued, job_status::job_status_running,
                       job_status::job_status_completed, job_status::job_status_cancelled}) {
    if (s == job_status_name(v)) return v;
  }
  return std::nullopt;
}

/// Completed or cancelled: nothing will change it again.
inline bool is_terminal(job_status s) {
  return s == job_status::job_status_completed || s == job_status::job_status_cancelled;
}

} // namespace proofmesh::transport
