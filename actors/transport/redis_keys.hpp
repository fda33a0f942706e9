// Every Redis key of the mesh, spelled once: the gateway, the coordinator and the CLI read and
// write them through these names only.
#pragma once

#include <string>
#include <string_view>

namespace proofmesh::transport::redis_keys {

inline constexpr const char* jobs = "jobs";                         // stream: submitted jobs
inline constexpr const char* jobs_dead = "jobs:dead";               // stream: malformed jobs
inline constexpr const char* completions = "completions";           // stream: OpenAI requests
inline constexpr const char* completions_dead = "completions:dead"; // stream: malformed ones
inline constexpr const char* jobs_cancel = "jobs:cancel"; // set: jobs whose cancel is pending

/// Hash: a job's tenant, status, queue entry, spec, cancel request.
inline std::string job(std::string_view id) { return "job:" + std::string(id); }
/// Hash: task id -> the task's recorded result (the job's ledger).
inline std::string job_ledger(std::string_view id) { return job(id) + ":ledger"; }
/// Stream: the job's progress events, for SSE.
inline std::string job_events(std::string_view id) { return job(id) + ":events"; }
/// Hash: the ids of the events written to job_events (each fact's event goes out once).
inline std::string job_event_ids(std::string_view id) { return job(id) + ":event_ids"; }
/// Hash: one problem's proof pool.
inline std::string job_pool(std::string_view id, std::string_view problem) {
  return job(id) + ":pool:" + std::string(problem);
}
/// String: the job's final result JSON.
inline std::string job_result(std::string_view id) { return job(id) + ":result"; }
/// Sorted set: a tenant's jobs by creation time.
inline std::string tenant_jobs(std::string_view tenant) {
  return "tenant:" + std::string(tenant) + ":jobs";
}
/// Stream: an OpenAI completion's events.
inline std::string completion_events(std::string_view id) {
  return "completion:" + std::string(id) + ":events";
}
/// String: set when the completion's client has gone.
inline std::string completion_cancel(std::string_view id) {
  return "completion:" + std::string(id) + ":cancel";
}

} // namespace proofmesh::transport::redis_keys
