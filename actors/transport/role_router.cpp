#include "actors/transport/role_router.hpp"

#include "actors/transport/zmq_wait.hpp"

namespace proofmesh::transport {

role_router::role_router(zmq::context_t& context, const role_router_params& params)
    : params_(params), socket_(context, zmq::socket_type::router), dispatcher_(params.dispatch) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::router_mandatory, 1);
  socket_.set(zmq::sockopt::router_handover, 1);
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(params.limits.max_message_bytes));
  socket_.bind(params.endpoint);
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
}

bool role_router::submit(task_msg task) {
  if (task.task_role() != params_.served) {
    return false; // a coordinator bug, refused rather than sent to the wrong service
  }
  return dispatcher_.enqueue(std::move(task));
}

void role_router::cancel(const std::string& task_id) {
  if (std::optional<worker_id> w = dispatcher_.cancel(task_id)) {
    send(*w, cancel_msg{task_id});
  }
}

void role_router::send(const worker_id& w, const wire_message& m) {
  std::vector<uint8_t> bytes = encode(m);
  try {
    socket_.send(zmq::buffer(w), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    if (e.num() != EHOSTUNREACH) {
      throw;
    }
    // The worker is gone: its heartbeat timeout will re-dispatch what it held.
  }
}

void role_router::receive_one(router_events& events) {
  zmq::message_t identity, body;
  if (!socket_.recv(identity, zmq::recv_flags::dontwait)) {
    return;
  }
  // A DEALER sends exactly one frame after the identity the ROUTER prepends.
  if (!identity.more() || !socket_.recv(body, zmq::recv_flags::none) || body.more()) {
    while (socket_.get(zmq::sockopt::rcvmore)) {
      zmq::message_t rest;
      (void)socket_.recv(rest, zmq::recv_flags::none);
    }
    drops_.add(wire_errc::wire_errc_malformed);
    return;
  }
  const worker_id w = identity.to_string();
  const auto now = std::chrono::steady_clock::now();
  decode_result r = decode(
      std::span(static_cast<const uint8_t*>(body.data()), body.size()), params_.limits);
  if (!r.message) {
    drops_.add(r.error);
    return;
  }
  if (const auto* credit = std::get_if<credit_msg>(&*r.message)) {
    if (!dispatcher_.grant(w, credit->slots, now)) {
      drops_.add(wire_errc::wire_errc_bad_value); // over the worker limit
    }
  } else if (const auto* result = std::get_if<task_result_msg>(&*r.message)) {
    if (dispatcher_.complete(w, result->task_id, now)) {
      events.results.push_back({w, std::move(*result)});
    }
  } else if (const auto* heartbeat = std::get_if<heartbeat_msg>(&*r.message)) {
    if (heartbeat->worker_role != params_.served) {
      drops_.add(wire_errc::wire_errc_bad_value); // a worker of another role on this socket
    } else if (!dispatcher_.heartbeat(w, heartbeat->capacity, heartbeat->in_flight, now)) {
      drops_.add(wire_errc::wire_errc_bad_value); // over the worker limit
    }
  } else if (auto* progress = std::get_if<progress_msg>(&*r.message)) {
    dispatcher_.touch(w, now);
    // A worker dropped for silence may still be running the task that was sent elsewhere: only
    // the worker that has it now speaks for it.
    if (dispatcher_.runs(w, progress->task_id)) events.progress.push_back(std::move(*progress));
  } else {
    drops_.add(wire_errc::wire_errc_bad_value); // tasks and cancels flow the other way
  }
}

router_events role_router::poll(std::chrono::milliseconds timeout) {
  router_events events;
  wait_readable(socket_, timeout);
  // Bounded per turn, so a flood cannot starve dispatch and expiry.
  for (int i = 0; i < 4096 && (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN); ++i) {
    receive_one(events);
  }
  events.expired = dispatcher_.expire(std::chrono::steady_clock::now());
  // A task that lost too many workers comes back as a failure: its owner retries or gives up.
  for (task_msg& t : dispatcher_.take_abandoned()) {
    events.results.push_back(
        {.worker = "", .result = {.task_id = t.task_id, .status = task_status::task_status_failed,
                                  .error = "lost with every worker that took it"}});
  }
  flush();
  return events;
}

void role_router::flush() {
  for (assignment& a : dispatcher_.assign()) {
    send(a.worker, std::move(a.task));
  }
}

} // namespace proofmesh::transport
