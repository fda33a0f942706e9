#include "actors/transport/worker_link.hpp"

#include "actors/common/random_hex.hpp"
#include "actors/transport/zmq_wait.hpp"

namespace proofmesh::transport {

namespace {

std::string incarnation() { return random_hex(8); }

} // namespace

worker_link::worker_link(zmq::context_t& context, const worker_link_params& params)
    : params_(params), identity_(params.worker_id + "#" + incarnation()),
      socket_(context, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::routing_id, identity_);
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(params.limits.max_message_bytes));
  socket_.connect(params.endpoint);
}

void worker_link::send(const wire_message& m) {
  std::vector<uint8_t> bytes = encode(m);
  socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
}

void worker_link::grant(uint32_t slots) {
  if (slots > 0) {
    send(credit_msg{slots});
  }
}

void worker_link::send_result(const task_result_msg& result) { send(result); }

void worker_link::send_progress(const progress_msg& progress) { send(progress); }

worker_inbox worker_link::poll(std::chrono::milliseconds timeout) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_heartbeat_ >= params_.heartbeat_interval) {
    send(heartbeat_msg{.worker_id = params_.worker_id,
                       .worker_role = params_.served,
                       .in_flight = in_flight_,
                       .sent_at_ms = static_cast<uint64_t>(
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count()),
                       .capacity = params_.capacity});
    last_heartbeat_ = now;
  }
  worker_inbox inbox;
  wait_readable(socket_, timeout);
  for (int i = 0; i < 4096; ++i) {
    zmq::message_t body;
    if (!socket_.recv(body, zmq::recv_flags::dontwait)) {
      break;
    }
    if (body.more()) { // the coordinator sends one frame per message
      while (socket_.get(zmq::sockopt::rcvmore)) {
        zmq::message_t rest;
        (void)socket_.recv(rest, zmq::recv_flags::none);
      }
      drops_.add(wire_errc::wire_errc_malformed);
      continue;
    }
    decode_result r = decode(
        std::span(static_cast<const uint8_t*>(body.data()), body.size()), params_.limits);
    if (!r.message) {
      drops_.add(r.error);
    } else if (auto* task = std::get_if<task_msg>(&*r.message);
               task != nullptr && task->task_role() == params_.served) {
      inbox.tasks.push_back(std::move(*task));
    } else if (auto* cancel = std::get_if<cancel_msg>(&*r.message)) {
      inbox.cancels.push_back(std::move(cancel->task_id));
    } else {
      drops_.add(wire_errc::wire_errc_bad_value); // another role's task, or a worker-side message
    }
  }
  return inbox;
}

} // namespace proofmesh::transport
