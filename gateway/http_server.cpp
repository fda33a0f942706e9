#include "gateway/http_server.hpp"

#include "actors/common/error.hpp"
#include "gateway/api_error.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <atomic>
#include <deque>
#include <optional>
#include <thread>

namespace proofmesh::gateway {

using enum transport::api_code;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct http_server::state {
  http_server_params params;
  request_handler handler;
  event_hub* hub = nullptr;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::thread_pool blocking;
  std::vector<std::thread> threads;
  std::atomic<size_t> connections{0};
  services::metric* requests[3] = {}; // 2xx-3xx, 4xx, 5xx
  services::metric* open_connections = nullptr;
  services::metric* open_streams = nullptr;
  services::metric* refused = nullptr;
  services::histogram* request_seconds = nullptr;

  explicit state(const http_server_params& p)
      : params(p), blocking(static_cast<size_t>(p.blocking_threads)) {}
};

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
        hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

http_request to_request(http::request<http::string_body>&& req) {
  http_request out;
  out.method = std::string(req.method_string());
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  out.path = url_decode(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      const size_t eq = pair.find('=');
      out.query[url_decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    }
  }
  out.body = std::move(req.body());
  out.authorization = std::string(req[http::field::authorization]);
  out.last_event_id = std::string(req["Last-Event-ID"]);
  out.idempotency_key = std::string(req["Idempotency-Key"]);
  return out;
}

http_answer error_answer(transport::api_code code, const std::string& message,
                         int retry_after_s = 0) {
  http_answer a{.status = transport::api_code_status(code), .body = error_body(code, message)};
  if (retry_after_s > 0) a.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return a;
}

class session : public std::enable_shared_from_this<session>, public event_sink {
public:
  session(tcp::socket socket, std::shared_ptr<http_server::state> server)
      : stream_(std::move(socket)), server_(std::move(server)),
        keepalive_(stream_.get_executor()),
        // Headers and chunk framing only (bodies go to the message): a chunked body with endless
        // chunk extensions cannot grow it past this.
        buffer_(server_->params.max_header_bytes + 65536) {
    server_->open_connections->add(1);
  }
  ~session() override {
    server_->connections.fetch_sub(1);
    server_->open_connections->add(-1);
    if (streaming_) server_->open_streams->add(-1);
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  // Called on the hub's thread.
  void deliver(event_batch events) override {
    asio::post(stream_.get_executor(), [self = shared_from_this(), events = std::move(events)] {
      for (const stream_event& e : events) {
        if (self->ending_ || self->closed_) return;
        self->send(self->format_->on_event(e));
        if (e.last) {
          self->ending_ = true;
          self->send(self->format_->close(), /*capped=*/false); // a buffered answer is all here
          if (!self->writing_) self->close();
        }
      }
    });
  }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(server_->params.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->params.max_header_bytes));
    stream_.expires_after(server_->params.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              self->on_header(ec);
                            });
  }

  // curl and most clients send `Expect: 100-continue` with a body and wait for the go-ahead;
  // without it they stall a second. An over-long Content-Length fails here, before any body.
  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    auto read_body = [self = shared_from_this()] {
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code ec, size_t) { self->on_read(ec); });
    };
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue") &&
        !parser_->is_done()) {
      static const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(go_on),
                        [self = shared_from_this(), read_body](beast::error_code ec, size_t) {
                          if (ec) return self->close();
                          read_body();
                        });
      return;
    }
    read_body();
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return answer(error_answer(api_code_body_too_large,
                                 "the body is limited to " +
                                     std::to_string(server_->params.max_body_bytes) + " bytes"),
                    false);
    }
    if (ec == http::error::header_limit) {
      return answer(error_answer(api_code_headers_too_large, "the headers are too large"), false);
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return answer(error_answer(api_code_invalid_request, "malformed HTTP: " + ec.message()),
                    false);
    }
    if (ec) {
      return close(); // the client went, or timed out
    }
    started_ = std::chrono::steady_clock::now();
    const bool keep_alive = parser_->get().keep_alive();
    http_request req = to_request(parser_->release());
    if (req.method == "GET" && req.path == "/healthz") {
      return answer({.body = R"({"status":"ok"})"}, keep_alive);
    }
    asio::post(server_->blocking, [self = shared_from_this(), req = std::move(req), keep_alive] {
      http_answer a;
      try {
        a = self->server_->handler(req);
      } catch (const api_error& e) {
        a = error_answer(e.code(), e.what(), e.retry_after_s());
      } catch (const std::exception& e) {
        a = error_answer(api_code_internal, e.what());
      }
      asio::post(self->stream_.get_executor(), [self, a = std::move(a), keep_alive]() mutable {
        self->answer(std::move(a), keep_alive);
      });
    });
  }

  void answer(http_answer a, bool keep_alive) {
    server_->requests[a.status >= 500 ? 2 : a.status >= 400 ? 1 : 0]->add();
    if (!a.stream_key.empty()) {
      return start_stream(a);
    }
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(a.status), 11);
    res->set(http::field::content_type, a.content_type);
    for (const auto& [name, value] : a.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(a.body);
    res->prepare_payload();
    stream_.expires_after(server_->params.read_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        self->server_->request_seconds->observe(
                            std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                          self->started_)
                                .count());
                        if (ec) return self->close();
                        if (!keep_alive) return self->linger_close();
                        self->read();
                      });
  }

  // After an answer that ends the connection (a 413 among them, sent while the client may still
  // be sending its body): stop sending, drain what arrives for a moment, then close, so the
  // client reads the answer instead of a reset.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    drain_.resize(16384);
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              self->linger_close_more();
                            });
  }
  void linger_close_more() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              self->linger_close_more();
                            });
  }

  // The format's opening, then events as they come; the body ends when the connection closes.
  void start_stream(const http_answer& a) {
    streaming_ = true;
    server_->open_streams->add(1);
    format_ = a.format ? a.format : std::make_shared<job_events_format>();
    send(format_->open());
    if (!server_->hub->subscribe(a.stream_key, a.stream_after, a.stream_tenant,
                                 std::weak_ptr<event_sink>(shared_from_this()))) {
      // Full since the handler looked: end it as the format ends an error, and let the format
      // withdraw the work (nobody will read it).
      asio::post(server_->blocking, [f = format_] { f->abandoned(); });
      ending_ = true;
      send(format_->on_event({.json = R"({"type": "error", "code": "too_many_streams", )"
                                      R"("message": "too many open event streams"})",
                              .type = "error",
                              .last = true}));
      send(format_->close());
      return;
    }
    watch_for_close();
    keep_alive_tick();
  }

  // The client never sends on a stream; a read that completes means it went away.
  void watch_for_close() {
    stream_.socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this()](beast::error_code) { self->close(); });
  }

  void keep_alive_tick() {
    keepalive_.expires_after(server_->params.sse_keepalive);
    keepalive_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (std::string ping = self->format_->keepalive(); !ping.empty()) {
        self->send(std::move(ping));
      }
      self->keep_alive_tick();
    });
  }

  // `capped`: a reader too slow for the backlog cap is dropped (it resumes with Last-Event-ID);
  // the one write of a buffered answer is exempt, having been built up to its size anyway.
  void send(std::string text, bool capped = true) {
    if (closed_ || text.empty()) return;
    send(std::make_shared<const std::string>(std::move(text)), capped);
  }
  void send(frame bytes, bool capped = true) {
    if (closed_ || !bytes || bytes->empty()) return;
    backlog_ += bytes->size();
    if (capped && backlog_ > server_->params.max_stream_backlog_bytes) {
      return close(); // too slow a reader; it resumes with Last-Event-ID
    }
    out_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }

  // Everything queued goes out in one gathered write (up to 64 pieces): a burst of events is
  // one system call per connection, not one per event.
  void write_next() {
    if (out_.empty()) {
      writing_ = false;
      if (ending_) close();
      return;
    }
    writing_ = true;
    std::vector<asio::const_buffer> pieces;
    for (size_t i = 0; i < out_.size() && i < 64; ++i) pieces.push_back(asio::buffer(*out_[i]));
    stream_.expires_after(server_->params.read_timeout);
    asio::async_write(stream_, pieces,
                      [self = shared_from_this(), n = pieces.size()](beast::error_code ec,
                                                                     size_t) {
                        if (ec) return self->close();
                        self->stream_.expires_never();
                        for (size_t i = 0; i < n; ++i) {
                          self->backlog_ -= self->out_.front()->size();
                          self->out_.pop_front();
                        }
                        self->write_next();
                      });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (streaming_ && !ending_ && format_) { // the client left before the end
      asio::post(server_->blocking, [f = format_] { f->abandoned(); });
    }
    keepalive_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<http_server::state> server_;
  asio::steady_timer keepalive_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<frame> out_; // shared with every stream that writes the same event
  std::vector<char> drain_;
  std::shared_ptr<stream_format> format_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  size_t backlog_ = 0;
  bool writing_ = false;
  bool ending_ = false;
  bool streaming_ = false;
  bool closed_ = false;
};

void accept_next(const std::shared_ptr<http_server::state>& s) {
  s->acceptor.async_accept(asio::make_strand(s->io), [s](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !s->acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors (EMFILE) and the like: retrying at once would spin a thread; pause.
      auto pause = std::make_shared<asio::steady_timer>(s->io, std::chrono::milliseconds(50));
      pause->async_wait([s, pause](beast::error_code) { accept_next(s); });
      return;
    }
    {
      if (s->connections.fetch_add(1) >= s->params.max_connections) {
        s->connections.fetch_sub(1);
        s->refused->add();
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        // Answers are written as header then body, and events one by one: without NODELAY,
        // Nagle's algorithm holds each small write for the client's delayed ACK.
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<session>(std::move(socket), s)->start();
      }
    }
    accept_next(s);
  });
}

} // namespace

namespace {

// Asio keeps each socket's reactor state in a pool it never shrinks, made one at a time as
// connections arrive: made during a burst, each lands between the connections' own allocations
// and pins a page of them long after they closed. Made first, together, they fill a few pages
// of their own, and the burst's memory goes back to the system (Boost 1.81 added
// reactor.preallocated_io_objects for this; Debian's 1.74 has not). Opening sockets and closing
// them does it: their states go to the pool's free list, which later sockets take from.
void preallocate_socket_states(asio::io_context& io, size_t n) {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) { // never more than half the descriptors we may
    n = std::min<size_t>(n, files.rlim_cur / 2); // have: other threads open theirs meanwhile
  }
  std::vector<tcp::socket> sockets;
  sockets.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    tcp::socket s(io);
    beast::error_code ec;
    s.open(tcp::v4(), ec);
    if (ec) break; // out of descriptors: as many as there are
    sockets.push_back(std::move(s));
  }
}

} // namespace

http_server::http_server(const http_server_params& params, request_handler handler,
                         event_hub& hub, services::metrics_registry& metrics)
    : state_(std::make_shared<state>(params)) {
  state& s = *state_;
  s.handler = std::move(handler);
  s.hub = &hub;
  const char* classes[3] = {"class=\"2xx\"", "class=\"4xx\"", "class=\"5xx\""};
  for (int i = 0; i < 3; ++i) {
    s.requests[i] = &metrics.counter("proofmesh_gateway_requests_total", "HTTP requests answered",
                                     classes[i]);
  }
  s.open_connections = &metrics.gauge("proofmesh_gateway_connections", "open connections");
  s.open_streams = &metrics.gauge("proofmesh_gateway_event_streams", "open SSE streams");
  s.refused = &metrics.counter("proofmesh_gateway_connections_refused_total",
                               "connections closed at accept (over max_connections)");
  s.request_seconds = &metrics.latency("proofmesh_gateway_request_seconds",
                                       "time from a request read to its answer written "
                                       "(streams not included)");
  beast::error_code ec;
  const auto address = asio::ip::make_address(params.host, ec);
  if (ec) throw input_error("--host " + params.host + ": " + ec.message());
  const tcp::endpoint where(address, static_cast<unsigned short>(params.port));
  s.acceptor.open(where.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(where, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw input_error(params.host + ":" + std::to_string(params.port) + ": " + ec.message());
  }
  preallocate_socket_states(s.io,
                            std::min(params.preallocated_connections, params.max_connections));
  accept_next(state_);
  for (int i = 0; i < params.io_threads; ++i) {
    s.threads.emplace_back([st = state_] { st->io.run(); });
  }
}

http_server::~http_server() {
  asio::post(state_->io, [s = state_] {
    beast::error_code ec;
    s->acceptor.close(ec);
  });
  // Stopping the io_context abandons open connections (streams end; clients resume with
  // Last-Event-ID). Their sessions hold this state, so it is freed with the process, which
  // exits right after: the server lives as long as its process.
  state_->io.stop();
  for (std::thread& t : state_->threads) t.join();
  state_->blocking.join();
}

int http_server::port() const { return state_->acceptor.local_endpoint().port(); }

} // namespace proofmesh::gateway
