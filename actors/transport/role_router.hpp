// The coordinator's end of one role: a ZeroMQ ROUTER socket that workers of that role connect
// their DEALER to, and the credit_dispatcher that decides who gets which task. Rules of the road:
// - One turn of poll(): read every pending message (each verified by the wire codec; a bad one
//   is counted in drops() and dropped), expire silent workers (their tasks are queued again),
//   then send what the credits allow. The caller owns the loop (a CAF actor, or a test).
// - The socket caps message size (ZMQ_MAXMSGSIZE) before anything is allocated; a peer that
//   sends more is disconnected by ZeroMQ.
// - A worker's identity is its DEALER routing id, which worker_link makes unique per process
//   (worker id # incarnation): a restarted worker is a new one, and the old identity's tasks
//   are re-dispatched when it times out. A send to a worker that is gone counts as its
//   silence: the task waits in flight until the heartbeat timeout re-dispatches it.
#pragma once

#include "actors/transport/credit_dispatcher.hpp"
#include "actors/transport/wire_codec.hpp"

#include <zmq.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace proofmesh::transport {

struct role_router_params {
  std::string endpoint;                // e.g. tcp://*:5601, or tcp://127.0.0.1:* for any port
  role served = role::role_generator;
  credit_dispatcher_config dispatch;
  wire_limits limits;
};

struct routed_result {
  worker_id worker; // who ran it
  task_result_msg result;
};

struct router_events {
  std::vector<routed_result> results;   // first results of tasks in flight (count them)
  std::vector<progress_msg> progress;
  std::vector<worker_id> expired;       // workers dropped for silence this turn
};

class role_router {
public:
  role_router(zmq::context_t& context, const role_router_params& params);

  /// The bound endpoint, with the port ZeroMQ chose for a wildcard.
  const std::string& endpoint() const { return endpoint_; }

  /// Queues a task for this role; false when the queue is full.
  bool submit(task_msg task);
  /// Stops a task: dropped from the queue, or a cancel sent to the worker running it.
  void cancel(const std::string& task_id);

  /// Waits up to `timeout` for messages, then runs one turn.
  router_events poll(std::chrono::milliseconds timeout);
  /// Sends what the credits allow now, without reading: tasks submitted after a turn go out
  /// at once instead of at the next one.
  void flush();

  const wire_drops& drops() const { return drops_; }
  /// The socket, for waiting on several routers at once (wait_any_readable).
  zmq::socket_t& socket() { return socket_; }
  const credit_dispatcher& dispatcher() const { return dispatcher_; }

private:
  void receive_one(router_events& events);
  void send(const worker_id& w, const wire_message& m);

  role_router_params params_;
  zmq::socket_t socket_;
  std::string endpoint_;
  credit_dispatcher dispatcher_;
  wire_drops drops_;
};

} // namespace proofmesh::transport
