// Waits for a socket to be readable, up to a timeout. A signal (SIGTERM, say) that interrupts
// the wait is a wait like any other: the caller's loop then sees its stop flag. Other ZeroMQ
// errors throw, as cppzmq does.
#pragma once

#include <zmq.hpp>

#include <cerrno>
#include <chrono>

namespace proofmesh::transport {

inline void wait_readable(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{static_cast<void*>(socket), 0, ZMQ_POLLIN, 0};
  try {
    zmq::poll(&item, 1, timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) {
      throw;
    }
  }
}

} // namespace proofmesh::transport
