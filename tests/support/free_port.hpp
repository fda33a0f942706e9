// A TCP port on the loopback interface that nothing listens on right now. Test-only. Rules of the
// road: ports come from 10000-29999, below the kernel's ephemeral range (32768 and up), so an
// outgoing connection (a Redis client, a ZeroMQ connect) can never take one between our pick
// and the server's bind, which port 0 picks were prone to; each test process starts at its own
// offset, a hash of its pid (consecutive pids land far apart), so parallel tests rarely probe
// the same ports, and each pick is probed with a real bind. A server a test starts should still
// prove it is the one listening (its own log line, its own password), not just that something
// answers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace proofmesh::testing {

inline bool port_is_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

inline int free_port() {
  constexpr int first = 10000, span = 20000;
  static std::atomic<int> next{
      static_cast<int>((static_cast<uint64_t>(::getpid()) * 2654435761u) % span)};
  for (int tries = 0; tries < span; ++tries) {
    const int port = first + next.fetch_add(1) % span;
    if (port_is_free(port)) return port;
  }
  return 0; // nothing free: the caller's bind fails loudly
}

} // namespace proofmesh::testing
