#include "services/cli/gateway_client.hpp"

#include "actors/common/error.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <thread>

namespace proofmesh::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// "code: message" of a JSON error body, or the raw body when it is not one.
std::string describe(int status, const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    return "gateway answered " + std::to_string(status) + " " +
           j["error"].value("code", "?") + ": " + j["error"].value("message", "");
  }
  return "gateway answered " + std::to_string(status) + ": " + body.substr(0, 200);
}

beast::tcp_stream connect(asio::io_context& io, const gateway_target& to) {
  beast::tcp_stream stream(io);
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto where = resolver.resolve(to.host, to.port, ec);
  if (!ec) {
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(where, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot reach the gateway at " + to.host + ":" + to.port + " (" +
                             ec.message() + ")");
  }
  return stream;
}

http::request<http::string_body> make_request(const gateway_target& to, http::verb verb,
                                              const std::string& target, std::string body) {
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, to.host);
  req.set(http::field::user_agent, "proofmesh-cli");
  if (!to.api_key.empty()) req.set(http::field::authorization, "Bearer " + to.api_key);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  return req;
}

} // namespace

gateway_target parse_gateway_url(const std::string& url, const std::string& api_key) {
  if (url.rfind("https://", 0) == 0) {
    throw input_error("--gateway: https is not spoken here; put TLS in front of the gateway");
  }
  if (url.rfind("http://", 0) != 0) {
    throw input_error("--gateway must look like http://host[:port]");
  }
  std::string rest = url.substr(7);
  if (size_t slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  gateway_target to{.api_key = api_key};
  if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    to.port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (to.port.empty() || to.port.size() > 5 ||
        to.port.find_first_not_of("0123456789") != std::string::npos) {
      throw input_error("--gateway: bad port \"" + to.port + "\"");
    }
  }
  if (!rest.empty()) to.host = rest;
  return to;
}

gateway_reply gateway_call(const gateway_target& to, const std::string& method,
                           const std::string& target, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  asio::io_context io;
  beast::tcp_stream stream = connect(io, to);
  beast::error_code ec;
  auto req = make_request(to, http::string_to_verb(method), target, body);
  for (const auto& [name, value] : headers) req.set(name, value);
  stream.expires_after(std::chrono::seconds(60));
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(size_t{256} << 20);
  if (!ec) http::read(stream, buffer, parser, ec);
  if (ec) throw std::runtime_error("the gateway did not answer: " + ec.message());
  const int status = static_cast<int>(parser.get().result_int());
  gateway_reply out{status, parser.get().body()};
  if (status >= 500) throw std::runtime_error(describe(status, out.body));
  if (status >= 400) throw input_error(describe(status, out.body));
  return out;
}

std::string follow_events(const gateway_target& to, const std::string& target,
                          const std::function<void(const std::string&, const std::string&)>&
                              on_event) {
  std::string last_id;
  int failures = 0;
  for (;;) {
    try {
      asio::io_context io;
      beast::tcp_stream stream = connect(io, to);
      auto req = make_request(to, http::verb::get, target, "");
      if (!last_id.empty()) req.set("Last-Event-ID", last_id);
      stream.expires_after(std::chrono::seconds(30));
      http::write(stream, req);
      beast::flat_buffer buffer;
      http::response_parser<http::buffer_body> parser;
      parser.body_limit(boost::none);
      http::read_header(stream, buffer, parser);
      const int status = static_cast<int>(parser.get().result_int());
      if (status != 200) { // an error body: read it whole for its code
        std::string body;
        char chunk[4096];
        while (!parser.is_done()) {
          parser.get().body().data = chunk;
          parser.get().body().size = sizeof chunk;
          beast::error_code ec;
          http::read(stream, buffer, parser, ec);
          body.append(chunk, sizeof chunk - parser.get().body().size);
          if (ec && ec != http::error::need_buffer) break;
        }
        if (status >= 500) throw std::runtime_error(describe(status, body));
        throw input_error(describe(status, body));
      }
      // Events: blocks of "field: value" lines ended by a blank line. The server writes a
      // comment every 15 s, so 60 s of silence means a dead connection.
      std::string pending, id, type, data;
      char chunk[8192];
      for (;;) {
        parser.get().body().data = chunk;
        parser.get().body().size = sizeof chunk;
        beast::error_code ec;
        stream.expires_after(std::chrono::seconds(60));
        http::read(stream, buffer, parser, ec);
        pending.append(chunk, sizeof chunk - parser.get().body().size);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          const std::string line = pending.substr(0, nl);
          pending.erase(0, nl + 1);
          if (line.empty()) {
            if (!data.empty()) {
              failures = 0;
              if (!id.empty()) last_id = id;
              on_event(type, data);
              if (type == "completed" || type == "cancelled") return type;
            }
            id.clear();
            type.clear();
            data.clear();
          } else if (line.rfind("id: ", 0) == 0) {
            id = line.substr(4);
          } else if (line.rfind("event: ", 0) == 0) {
            type = line.substr(7);
          } else if (line.rfind("data: ", 0) == 0) {
            data += line.substr(6);
          }
        }
        if (ec && ec != http::error::need_buffer) break; // dropped: reconnect below
        if (parser.is_done()) break;
      }
      if (++failures >= 10) throw std::runtime_error("the event stream keeps ending early");
    } catch (const input_error&) {
      throw;
    } catch (const std::exception& e) {
      if (++failures >= 10) {
        throw std::runtime_error(std::string("lost the event stream: ") + e.what());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * (failures + 1)));
  }
}

} // namespace proofmesh::cli
