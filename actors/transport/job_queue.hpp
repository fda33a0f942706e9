// The `jobs` stream and its consumer group: how jobs reach coordinators, and how a dead
// coordinator's jobs reach a live one. Rules of the road:
// - A job is one stream entry with two fields: `v` (the job format's version) and `job` (its
//   JSON body). Producers (the gateway, `proofmesh submit --queue`, a data pipeline) XADD it.
// - Coordinators read with XREADGROUP as named consumers; an entry stays pending until XACK,
//   which the coordinator sends only once the job's outcome is in Redis.
// - reclaim() takes over entries pending longer than min_idle on any consumer (XAUTOCLAIM): a
//   coordinator that died mid-job is idle forever, so its jobs move to whoever reclaims.
// - Entries whose fields are missing or malformed are returned with `valid == false`, for the
//   caller to dead-letter; nothing here parses the job body.
// - A read whose connection breaks is retried; entries the lost reply carried stay pending on
//   this consumer, and come back through reclaim() once idle past min_idle.
#pragma once

#include "actors/transport/redis_client.hpp"
#include "actors/transport/redis_keys.hpp"

#include <chrono>
#include <span>
#include <string>
#include <vector>

namespace proofmesh::transport {

inline constexpr const char* job_format_version = "1";

struct job_queue_params {
  std::string stream = redis_keys::jobs;
  std::string group = "coordinators";
  std::string consumer;                       // unique per coordinator process
  std::chrono::milliseconds min_idle{60000};  // pending this long: its coordinator is presumed dead
  int64_t max_batch = 16;
  size_t max_job_bytes = size_t{64} << 20;
};

struct job_entry {
  std::string id;   // the stream entry id
  std::string body; // the job JSON
  bool valid = false;
  std::string why;  // when not valid
};

class job_queue {
public:
  /// Creates the stream and the group if they do not exist yet. Every call below does so again
  /// if Redis lost them (restarted empty: no AOF, or a lost volume) and then retries once, so a
  /// coordinator or a gateway outlives that instead of failing on NOGROUP.
  job_queue(redis_client& redis, const job_queue_params& params);

  /// Appends a job; returns its entry id.
  std::string add(const std::string& body);
  /// New entries for this consumer, waiting up to `block` for one (0: not at all). Redis
  /// times blocked reads out on its own clock (10 ticks a second by default), so a short block
  /// can last 100 ms: a caller with other work waiting reads without blocking.
  std::vector<job_entry> read(std::chrono::milliseconds block);
  /// read() over several queues at once (one XREADGROUP): they must share the client, group
  /// and consumer. Entries come back per queue, in the order given.
  static std::vector<std::vector<job_entry>> read_all(std::span<job_queue* const> queues,
                                                      std::chrono::milliseconds block);
  /// Entries pending on any consumer for longer than min_idle, now this consumer's.
  std::vector<job_entry> reclaim();
  void ack(const std::string& id);
  /// Resets the idle time of entries this consumer still works on (XCLAIM … JUSTID), so that no
  /// other consumer reclaims a job or completion that is merely long.
  void keep(const std::vector<std::string>& ids);

  /// Entries in the stream that no coordinator has read yet, plus pending ones.
  int64_t depth();
  int64_t num_pending();

private:
  std::vector<job_entry> entries(const redis_reply& list) const;
  void create_group();
  /// `args`, again after create_group() if Redis answered that the stream or group is gone.
  redis_reply command(const std::vector<std::string>& args, const char* what);

  redis_client& redis_;
  job_queue_params params_;
};

} // namespace proofmesh::transport
