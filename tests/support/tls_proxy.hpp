// A TLS front for a plain TCP server, for tests: it accepts TLS on 127.0.0.1 with a certificate
// and key the test made, and pipes each connection's bytes to and from 127.0.0.1:target in the
// clear, as a TLS-terminating proxy in front of a hosted API would. Rules of the road: test-only
// helper; one thread runs every connection; make_test_certificate() writes a self-signed PEM
// pair with the openssl command (CN and subjectAltName DNS as given).
#pragma once

#include "tests/support/free_port.hpp"
#include "tests/support/run_command.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <array>
#include <memory>
#include <string>
#include <thread>

namespace proofmesh::testing {

/// Writes `dir/name.crt` and `dir/name.key`, self-signed for the DNS name `host`; true if made.
inline bool make_test_certificate(const std::string& dir, const std::string& name,
                                  const std::string& host) {
  const std::string base = dir + "/" + name;
  return run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout " + base +
                         ".key -out " + base + ".crt -subj /CN=" + host +
                         " -addext subjectAltName=DNS:" + host,
                     base + ".log")
             .exit_code == 0;
}

class tls_proxy {
public:
  tls_proxy(const std::string& cert_file, const std::string& key_file, int target_port)
      : tls_(boost::asio::ssl::context::tls_server), target_(target_port) {
    tls_.use_certificate_chain_file(cert_file);
    tls_.use_private_key_file(key_file, boost::asio::ssl::context::pem);
    const boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~tls_proxy() {
    io_.stop();
    thread_.join();
  }
  tls_proxy(const tls_proxy&) = delete;
  tls_proxy& operator=(const tls_proxy&) = delete;

  int port() const { return acceptor_.local_endpoint().port(); }

private:
  using tcp = boost::asio::ip::tcp;
  using tls_socket = boost::asio::ssl::stream<tcp::socket>;

  // One client: its TLS side, the target's plain side, a copy loop each way.
  struct pipe : std::enable_shared_from_this<pipe> {
    pipe(tcp::socket s, boost::asio::ssl::context& tls) : client(std::move(s), tls),
                                                          server(client.get_executor()) {}
    tls_socket client;
    tcp::socket server;
    std::array<char, 16384> up{}, down{};

    void close() {
      boost::system::error_code ec;
      client.lowest_layer().close(ec);
      server.close(ec);
    }
    // Whatever `from` sends goes to `to`, through `buffer`, until either side closes.
    template <class From, class To>
    static void pump(std::shared_ptr<pipe> self, From& from, To& to, std::array<char, 16384>& buf) {
      from.async_read_some(boost::asio::buffer(buf), [self, &from, &to, &buf](auto ec, size_t n) {
        if (ec) return self->close();
        boost::asio::async_write(to, boost::asio::buffer(buf, n), [self, &from, &to, &buf](auto ec,
                                                                                       size_t) {
          if (ec) return self->close();
          pump(self, from, to, buf);
        });
      });
    }
    void start() {
      pump(shared_from_this(), client, server, up);
      pump(shared_from_this(), server, client, down);
    }
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      auto p = std::make_shared<pipe>(std::move(s), tls_);
      p->client.async_handshake(boost::asio::ssl::stream_base::server, [this, p](auto ec) {
        if (ec) return p->close(); // the client refused our certificate: that is the test
        const tcp::endpoint target(boost::asio::ip::make_address("127.0.0.1"),
                                   static_cast<unsigned short>(target_));
        p->server.async_connect(target, [p](auto ec) {
          if (ec) return p->close();
          p->start();
        });
      });
      accept();
    });
  }

  boost::asio::io_context io_;
  boost::asio::ssl::context tls_;
  tcp::acceptor acceptor_{io_};
  int target_;
  std::thread thread_;
};

} // namespace proofmesh::testing
