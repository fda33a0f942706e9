// A minimal HTTP/1.1 client over a plain socket, for tests of our HTTP endpoints: one request per
// connection (Connection: close), the raw reply parsed into status, headers and body; and a
// reader of server-sent events that collects them until the server closes the stream or a
// deadline passes. Deliberately independent of the server code it tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace proofmesh::testing {

struct http_reply {
  int status = 0; // 0: nothing answered
  std::map<std::string, std::string> headers; // names lower-cased
  std::string body;
};

using http_headers = std::vector<std::pair<std::string, std::string>>;

inline int http_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline void http_send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return; // the server closed early (it may have answered already: read it)
    sent += static_cast<size_t>(n);
  }
}

// Reads until EOF or `limit` passes.
// Whether `raw` holds a whole reply with a Content-Length (a stream has none: it runs to close).
inline bool http_complete(const std::string& raw) {
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = raw.substr(0, end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t at = head.find("\r\ncontent-length:");
  if (at == std::string::npos) return false;
  const size_t length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
  return raw.size() >= end + 4 + length;
}

inline std::string http_read_all(int fd, std::chrono::milliseconds limit) {
  std::string raw;
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
    if (http_complete(raw)) break; // a server that keeps the connection (chromedriver does)
  }
  return raw;
}

inline http_reply http_parse(const std::string& raw) {
  http_reply out;
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || raw.size() < 12) return out;
  out.status = std::stoi(raw.substr(9, 3));
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return out;
  size_t line = raw.find("\r\n") + 2;
  while (line < end) {
    const size_t next = raw.find("\r\n", line);
    const std::string h = raw.substr(line, next - line);
    if (size_t colon = h.find(':'); colon != std::string::npos) {
      std::string name = h.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      out.headers[name] = h.substr(h.find_first_not_of(' ', colon + 1));
    }
    line = next + 2;
  }
  out.body = raw.substr(end + 4);
  return out;
}

inline http_reply http_call(int port, const std::string& method, const std::string& path,
                            const std::string& body = "", const http_headers& headers = {},
                            std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const int fd = http_connect(port);
  if (fd < 0) return {};
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST") {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
  }
  req += "\r\n";
  http_send_all(fd, req + body);
  std::string raw = http_read_all(fd, limit);
  ::close(fd);
  return http_parse(raw);
}

inline http_reply http_get(int port, const std::string& path) { return http_call(port, "GET", path); }

struct sse_event {
  std::string id, event, data;
};

/// GETs an event stream and collects its events until the server ends it or `limit` passes.
inline std::vector<sse_event> sse_collect(int port, const std::string& path,
                                          const http_headers& headers,
                                          std::chrono::milliseconds limit, int* status = nullptr) {
  http_reply r = http_call(port, "GET", path, "", headers, limit);
  if (status != nullptr) *status = r.status;
  std::vector<sse_event> out;
  sse_event e;
  size_t pos = 0;
  while (pos < r.body.size()) {
    size_t nl = r.body.find('\n', pos);
    if (nl == std::string::npos) break;
    const std::string line = r.body.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) {
      if (!e.data.empty() || !e.event.empty()) out.push_back(e);
      e = {};
    } else if (line.rfind("id: ", 0) == 0) {
      e.id = line.substr(4);
    } else if (line.rfind("event: ", 0) == 0) {
      e.event = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      e.data += line.substr(6);
    }
  }
  return out;
}

} // namespace proofmesh::testing
