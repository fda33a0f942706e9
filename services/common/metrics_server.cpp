#include "services/common/metrics_server.hpp"

#include "actors/common/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

namespace proofmesh::services {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct metrics_server::state {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  const metrics_registry* registry = nullptr;
  const health_status* health = nullptr;
  std::atomic<bool> stopping{false};
};

namespace {

void serve_one(tcp::socket socket, const metrics_registry& registry, const health_status* health) {
  beast::error_code ec;
  beast::flat_buffer buffer(8192);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(8192);
  http::read(socket, buffer, parser, ec);
  if (ec) {
    return;
  }
  const auto& req = parser.get();
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(false);
  if (req.method() == http::verb::get && req.target() == "/metrics") {
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = registry.render();
  } else if (req.method() == http::verb::get && req.target() == "/healthz") {
    res.result(http::status::ok);
    res.set(http::field::content_type, "application/json");
    res.body() = health != nullptr ? health->json() : R"({"status": "ok"})";
  } else {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "application/json");
    res.body() = R"({"error": {"code": "not_found", "message": "GET /metrics or /healthz"}})";
  }
  res.prepare_payload();
  http::write(socket, res, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

} // namespace

metrics_server::metrics_server(const metrics_registry& registry, int port,
                               const health_status* health)
    : state_(std::make_unique<state>()) {
  state_->registry = &registry;
  state_->health = health;
  beast::error_code ec;
  tcp::endpoint where(tcp::v4(), static_cast<unsigned short>(port));
  state_->acceptor.open(where.protocol(), ec);
  if (!ec) state_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state_->acceptor.bind(where, ec);
  if (!ec) state_->acceptor.listen(64, ec);
  if (ec) {
    throw input_error("--metrics-port " + std::to_string(port) + ": " + ec.message());
  }
  thread_ = std::thread([s = state_.get()] {
    for (;;) {
      beast::error_code accept_ec;
      tcp::socket socket(s->io);
      s->acceptor.accept(socket, accept_ec);
      if (accept_ec) {
        if (s->stopping.load()) return; // woken by the destructor
        continue;
      }
      // A slow or silent client cannot hold the endpoint: reads give up after 2 s.
      timeval tv{2, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      serve_one(std::move(socket), *s->registry, s->health);
    }
  });
}

metrics_server::~metrics_server() {
  // shutdown() on a listening socket wakes a blocking accept() on Linux (close() alone may not);
  // the loop then sees the acceptor closed and returns.
  state_->stopping.store(true);
  ::shutdown(state_->acceptor.native_handle(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  beast::error_code ec;
  state_->acceptor.close(ec);
}

} // namespace proofmesh::services
