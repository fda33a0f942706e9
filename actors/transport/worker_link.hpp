// A worker's end of its role's socket: a ZeroMQ DEALER connected to the coordinator's ROUTER.
// Rules of the road: the worker grants credit for the slots it frees, reports results and
// progress, and poll() sends a heartbeat whenever the interval has passed, so the coordinator
// hears from it even while every slot is busy. Received tasks and cancels are verified by the
// wire codec; bad ones are counted in drops() and dropped.
// The socket's routing identity is the worker id plus '#' and a random incarnation, so a worker
// restarted under the same id (systemd does that) is a new worker to the coordinator: the old
// incarnation's tasks time out and go elsewhere instead of waiting forever on a process that
// forgot them. worker_name() strips the incarnation back off.
#pragma once

#include "actors/transport/wire_codec.hpp"

#include <zmq.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace proofmesh::transport {

/// The worker id inside a routing identity (what precedes '#').
inline std::string worker_name(const std::string& identity) {
  return identity.substr(0, identity.find('#'));
}

struct worker_link_params {
  std::string endpoint;   // the coordinator's role socket, e.g. tcp://coordinator:5601
  std::string worker_id;  // unique per process, stable across reconnects
  role served = role::role_generator;
  std::chrono::milliseconds heartbeat_interval{1000};
  uint32_t capacity = 0; // the worker's slots for this role, told in every heartbeat: an idle
                         // worker's credit is reset to it (set_capacity changes it)
  wire_limits limits;
};

struct worker_inbox {
  std::vector<task_msg> tasks;
  std::vector<std::string> cancels;
};

class worker_link {
public:
  worker_link(zmq::context_t& context, const worker_link_params& params);

  void grant(uint32_t slots);
  void send_result(const task_result_msg& result);
  void send_progress(const progress_msg& progress);

  /// Waits up to `timeout` for messages; sends a heartbeat if one is due.
  worker_inbox poll(std::chrono::milliseconds timeout);

  const wire_drops& drops() const { return drops_; }
  uint32_t in_flight() const { return in_flight_; }
  /// The identity the coordinator sees: worker_id#incarnation.
  const std::string& identity() const { return identity_; }
  void set_in_flight(uint32_t n) { in_flight_ = n; }
  /// What the next heartbeats advertise (a worker whose roles share their slots moves them).
  void set_capacity(uint32_t slots) { params_.capacity = slots; }

private:
  void send(const wire_message& m);

  worker_link_params params_;
  std::string identity_;
  zmq::socket_t socket_;
  wire_drops drops_;
  std::chrono::steady_clock::time_point last_heartbeat_{};
  uint32_t in_flight_ = 0;
};

} // namespace proofmesh::transport
