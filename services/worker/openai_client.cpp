#include "services/worker/openai_client.hpp"

#include "actors/common/error.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace proofmesh::worker {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

} // namespace

openai_endpoint parse_openai_url(const std::string& url) {
  if (url.rfind("https://", 0) == 0) {
    throw input_error("--url: https is not spoken here; put a TLS-terminating proxy in front");
  }
  if (url.rfind("http://", 0) != 0) throw input_error("--url must look like http://host[:port]");
  std::string rest = url.substr(7);
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    const std::string path = rest.substr(slash);
    if (path != "/" && path != "/v1" && path != "/v1/") {
      throw input_error("--url takes the server's base (http://host:port or .../v1), not " + path);
    }
    rest = rest.substr(0, slash);
  }
  openai_endpoint to;
  if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    to.port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (to.port.empty() || to.port.size() > 5 ||
        to.port.find_first_not_of("0123456789") != std::string::npos) {
      throw input_error("--url: bad port \"" + to.port + "\"");
    }
  }
  if (rest.empty()) throw input_error("--url has no host");
  to.host = rest;
  return to;
}

void http_call::cancel() {
  cancelled_ = true;
  io_.stop();
}

http_outcome http_call::post(const openai_endpoint& to, const std::string& path,
                             const std::string& body) {
  http_outcome out;
  io_.restart();
  if (cancelled_) return {.failure = "cancelled"};
  beast::tcp_stream stream(io_);
  tcp::resolver resolver(io_);
  beast::flat_buffer buffer;
  http::request<http::string_body> req(http::verb::post, path, 11);
  req.set(http::field::host, to.port == "80" ? to.host : to.host + ":" + to.port);
  req.set(http::field::user_agent, "proofmesh-worker");
  req.set(http::field::content_type, "application/json");
  if (!to.api_key.empty()) req.set(http::field::authorization, "Bearer " + to.api_key);
  req.body() = body;
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(size_t{64} << 20);
  auto fail = [&](const char* step, beast::error_code ec) {
    if (out.failure.empty()) out.failure = std::string(step) + ": " + ec.message();
  };
  resolver.async_resolve(to.host, to.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
    if (ec) return fail("resolve", ec);
    stream.expires_after(std::chrono::seconds(10));
    stream.async_connect(r, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return fail("connect", ec);
      stream.expires_after(to.timeout);
      http::async_write(stream, req, [&](beast::error_code ec, size_t) {
        if (ec) return fail("send", ec);
        http::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
          if (ec) return fail("receive", ec);
          out.status = static_cast<int>(parser.get().result_int());
          out.body = std::move(parser.get().body());
          const auto retry = parser.get().find(http::field::retry_after);
          if (retry != parser.get().end()) {
            const std::string v(retry->value());
            if (!v.empty() && v.size() < 6 && v.find_first_not_of("0123456789") == std::string::npos) {
              out.retry_after = std::chrono::seconds(std::stoi(v));
            }
          }
        });
      });
    });
  });
  io_.run();
  if (cancelled_) return {.failure = "cancelled"};
  return out;
}

} // namespace proofmesh::worker
