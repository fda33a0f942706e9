// The operations endpoint of a mesh process: GET /metrics (Prometheus text) and GET /healthz,
// served by one background thread on Boost.Beast. Rules of the road: it binds 0.0.0.0 on the
// given port (0: off); requests are read with a size cap and a timeout; anything else answers a
// JSON 404 with a stable code. It never touches the service's own loop.
#pragma once

#include "services/common/health_status.hpp"
#include "services/common/metrics.hpp"

#include <atomic>
#include <memory>
#include <thread>

namespace proofmesh::services {

class metrics_server {
public:
  /// Starts serving `registry` on `port`; throws input_error when the port cannot be bound.
  /// /healthz answers `health` (must outlive the server), or plain ok without one.
  metrics_server(const metrics_registry& registry, int port,
                 const health_status* health = nullptr);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

private:
  struct state;
  std::unique_ptr<state> state_;
  std::thread thread_;
};

} // namespace proofmesh::services
