// A minimal HTTP/1.1 GET over a plain socket, for tests of the operations endpoints: returns the
// status code and body, or status 0 when nothing answered.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace proofmesh::testing {

struct http_reply {
  int status = 0;
  std::string body;
};

inline http_reply http_get(int port, const std::string& path) {
  http_reply out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (raw.rfind("HTTP/1.1 ", 0) == 0 && raw.size() > 12) {
    out.status = std::stoi(raw.substr(9, 3));
  }
  if (size_t body = raw.find("\r\n\r\n"); body != std::string::npos) {
    out.body = raw.substr(body + 4);
  }
  return out;
}

} // namespace proofmesh::testing
