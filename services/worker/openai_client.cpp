#include "services/worker/openai_client.hpp"

#include "actors/common/error.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <functional>

namespace proofmesh::worker {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

} // namespace

openai_endpoint parse_openai_url(const std::string& url) {
  openai_endpoint to;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    to.tls = true;
    to.port = "443";
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    throw input_error("--url must look like http://host[:port] or https://host[:port]");
  }
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    const std::string path = rest.substr(slash);
    if (path != "/" && path != "/v1" && path != "/v1/") {
      throw input_error("--url takes the server's base (http://host:port or .../v1), not " + path);
    }
    rest = rest.substr(0, slash);
  }
  if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    to.port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (to.port.empty() || to.port.size() > 5 ||
        to.port.find_first_not_of("0123456789") != std::string::npos) {
      throw input_error("--url: bad port \"" + to.port + "\"");
    }
  }
  if (rest.empty() || rest.size() > 253) throw input_error("--url has no host (or one too long)");
  to.host = rest;
  return to;
}

void http_call::cancel() {
  cancelled_ = true;
  io_.stop();
}

namespace {

// Why a TLS handshake failed, in words: OpenSSL's verify result when it was the certificate.
std::string handshake_failure(SSL* ssl, const openai_endpoint& to, beast::error_code ec) {
  std::string why = "TLS handshake with " + to.host + ": " + ec.message();
  const long verdict = SSL_get_verify_result(ssl);
  if (verdict != X509_V_OK) {
    why += " (" + std::string(X509_verify_cert_error_string(verdict)) + ")";
  }
  return why;
}

// The request, then its answer, on a connected stream (plain or TLS).
template <class Stream>
void exchange(Stream& stream, http::request<http::string_body>& req,
              http::response_parser<http::string_body>& parser, beast::flat_buffer& buffer,
              http_outcome& out, const std::function<void(const char*, beast::error_code)>& fail) {
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
}

// Verification always on: the system's store, or the given CA. Empty, or why it cannot be.
std::string trust(asio::ssl::context& tls, const openai_endpoint& to) {
  beast::error_code ec;
  if (to.ca_file.empty()) {
    tls.set_default_verify_paths(ec);
  } else {
    tls.load_verify_file(to.ca_file, ec);
  }
  if (ec) return "TLS: the CA certificates could not be loaded: " + ec.message();
  tls.set_verify_mode(asio::ssl::verify_peer);
  return {};
}

// OpenSSL checks the name itself (so a mismatch is reported as "hostname mismatch"): a DNS name
// against the certificate's names, an address against its IP entries; SNI for names.
void check_name(SSL* ssl, const std::string& host) {
  beast::error_code not_ip;
  asio::ip::make_address(host, not_ip);
  if (not_ip) {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  }
}

} // namespace

http_outcome http_call::post(const openai_endpoint& to, const std::string& path,
                             const std::string& body) {
  http_outcome out;
  io_.restart();
  if (cancelled_) return {.failure = "cancelled"};
  const bool default_port = to.port == (to.tls ? "443" : "80");
  http::request<http::string_body> req(http::verb::post, path, 11);
  req.set(http::field::host, default_port ? to.host : to.host + ":" + to.port);
  req.set(http::field::user_agent, "proofmesh-worker");
  req.set(http::field::content_type, "application/json");
  if (!to.api_key.empty()) req.set(http::field::authorization, "Bearer " + to.api_key);
  req.body() = body;
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(size_t{64} << 20);
  beast::flat_buffer buffer;
  const std::function<void(const char*, beast::error_code)> fail = [&](const char* step,
                                                                        beast::error_code ec) {
    if (out.failure.empty()) out.failure = std::string(step) + ": " + ec.message();
  };
  asio::ssl::context tls(asio::ssl::context::tls_client);
  if (to.tls) {
    if (std::string why = trust(tls, to); !why.empty()) return {.failure = why};
  }
  beast::ssl_stream<beast::tcp_stream> stream(io_, tls);
  beast::tcp_stream& tcp_layer = beast::get_lowest_layer(stream);
  if (to.tls) check_name(stream.native_handle(), to.host);
  // Resolving and connecting share one deadline: a resolver that hangs (DNS) is cancelled too.
  tcp::resolver resolver(io_);
  asio::steady_timer connect_deadline(io_, std::chrono::seconds(10));
  connect_deadline.async_wait([&](beast::error_code ec) {
    if (!ec) resolver.cancel();
  });
  resolver.async_resolve(to.host, to.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
    if (ec) {
      connect_deadline.cancel();
      return fail(ec == asio::error::operation_aborted ? "resolve (timed out)" : "resolve", ec);
    }
    tcp_layer.expires_at(connect_deadline.expiry());
    tcp_layer.async_connect(r, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) {
        connect_deadline.cancel();
        return fail("connect", ec);
      }
      if (!to.tls) {
        connect_deadline.cancel();
        tcp_layer.expires_after(to.timeout);
        return exchange(tcp_layer, req, parser, buffer, out, fail);
      }
      stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code ec) {
        connect_deadline.cancel();
        if (ec) {
          if (out.failure.empty()) out.failure = handshake_failure(stream.native_handle(), to, ec);
          return;
        }
        tcp_layer.expires_after(to.timeout);
        exchange(stream, req, parser, buffer, out, fail);
      });
    });
  });
  io_.run();
  if (cancelled_) return {.failure = "cancelled"};
  return out;
}

} // namespace proofmesh::worker
