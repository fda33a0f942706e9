// Waits for a socket to be readable, up to a timeout. A signal (SIGTERM, say) that interrupts
// the wait is a wait like any other: the caller's loop then sees its stop flag. Other ZeroMQ
// errors throw, as cppzmq does.
#pragma once

#include <zmq.hpp>

#include <cerrno>
#include <chrono>
#include <span>
#include <vector>

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

/// Waits until any of `sockets` (or the file descriptor `fd`, if not -1) is readable, up to a
/// timeout; EINTR as above.
inline void wait_any_readable(std::span<zmq::socket_t* const> sockets,
                              std::chrono::milliseconds timeout, int fd = -1) {
  std::vector<zmq::pollitem_t> items;
  for (zmq::socket_t* s : sockets) items.push_back({static_cast<void*>(*s), 0, ZMQ_POLLIN, 0});
  if (fd >= 0) items.push_back({nullptr, fd, ZMQ_POLLIN, 0});
  try {
    zmq::poll(items.data(), items.size(), timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) {
      throw;
    }
  }
}

} // namespace proofmesh::transport
