// bench/mesh/sse_bench: many SSE streams on one job, through a real gateway and a real Redis.
// A producer writes a job's progress events into Redis as a coordinator does (at a steady rate,
// each stamped with its write time), N clients follow the job's stream over HTTP, and one
// client reads the same stream straight from Redis (XREAD BLOCK: the floor any gateway sits on,
// the peer of this run). Prints, for both, the delivery latency (write to receipt) at p50, p99
// and max, how long after the last event every stream had it, and the gateway's RSS idle, at its
// peak, and after the streams closed. Nothing is asserted; the target is p99 within 1 s and RSS
// back within 20% of idle.
// Usage: sse_bench BUILD_DIR [STREAMS=1000] [EVENTS=6000] [EVENTS_PER_S=200] [ROUNDS=1]
// (rounds: the same gateway, a new job each, to tell memory kept for reuse from a leak).
// SSE_BENCH_GATEWAY_LOG=FILE keeps the gateway's stderr; SSE_BENCH_HOLD=1 holds the gateway 60 s
// after each round, its pid printed, for a debugger (gdb -p PID -ex 'call malloc_stats()').
#include "actors/transport/redis_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/redis_server.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace proofmesh;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             steady::now().time_since_epoch())
      .count();
}

int64_t rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// Latencies in 100 µs bins up to 120 s: p50, p99 and max without keeping millions of values.
class latency_histogram {
public:
  void add(int64_t us) {
    const size_t bin = static_cast<size_t>(std::clamp<int64_t>(us / 100, 0, bins_.size() - 1));
    ++bins_[bin];
    ++count_;
    max_ = std::max(max_, us);
  }
  double quantile_ms(double q) const {
    const auto want = static_cast<int64_t>(q * static_cast<double>(count_));
    int64_t seen = 0;
    for (size_t i = 0; i < bins_.size(); ++i) {
      seen += bins_[i];
      if (seen > want) return static_cast<double>(i + 1) / 10.0;
    }
    return static_cast<double>(max_) / 1000.0;
  }
  double max_ms() const { return static_cast<double>(max_) / 1000.0; }
  int64_t count() const { return count_; }

private:
  std::vector<int64_t> bins_ = std::vector<int64_t>(1200000);
  int64_t count_ = 0;
  int64_t max_ = 0;
};

// The stamp of an event's data line: {"type": ..., "t_us": N}.
int64_t stamp_of(std::string_view data) {
  const size_t at = data.find("\"t_us\":");
  if (at == std::string_view::npos) return -1;
  return std::strtoll(data.data() + at + 7, nullptr, 10);
}

struct stream_client {
  int fd = -1;
  std::string pending; // bytes after the last complete line
  int64_t events = 0; // the producer's events received
  bool done = false;
  int64_t done_us = 0;
};

// Reads what a stream's socket has, handling each complete "data: " line.
void read_stream(stream_client& c, latency_histogram& lat) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n <= 0) {
      if (n == 0 && !c.done) c.done = true, c.done_us = now_us(); // closed by the gateway
      return;
    }
    c.pending.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = c.pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line(c.pending.data() + start, nl - start);
      if (line.rfind("data: ", 0) != 0) continue;
      const int64_t t = stamp_of(line);
      const int64_t at = now_us();
      if (t <= 0) continue; // the gateway's own events (queued), not the producer's
      lat.add(at - t);
      ++c.events;
      if (line.find("\"completed\"") != std::string_view::npos) c.done = true, c.done_us = at;
    }
    c.pending.erase(0, start);
  }
}

int open_stream(int port, const std::string& job) {
  const int fd = testing::http_connect(port);
  if (fd < 0) return -1;
  testing::http_send_all(fd, "GET /v1/jobs/" + job + "/events HTTP/1.1\r\nHost: localhost\r\n"
                             "Accept: text/event-stream\r\n\r\n");
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sse_bench BUILD_DIR [STREAMS] [EVENTS] [EVENTS_PER_S]\n");
    return 2;
  }
  const std::string build = argv[1];
  const int streams = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int events = argc > 3 ? std::atoi(argv[3]) : 6000;
  const int rate = argc > 4 ? std::atoi(argv[4]) : 200;
  const int rounds = argc > 5 ? std::atoi(argv[5]) : 1; // the same gateway, a new job each
  if (streams < 1 || streams > 8000 || events < 1 || events > 1000000 || rate < 1 ||
      rounds < 1 || rounds > 100) {
    std::fprintf(stderr, "sse_bench: streams 1..8000, events 1..1e6, rate >= 1, rounds 1..100\n");
    return 2;
  }
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max; // the gateway inherits it
  ::setrlimit(RLIMIT_NOFILE, &files);

  testing::redis_server redis;
  ::setenv("PROOFMESH_REDIS_PASSWORD", redis.password().c_str(), 1);
  const int port = testing::free_port();
  const std::string limit = std::to_string(streams + 64);
  testing::child_process gateway(
      {build + "/proofmesh-gateway", "--port", std::to_string(port), "--redis-port",
       std::to_string(redis.port()), "--allow-anonymous", "--max-streams", limit,
       "--max-streams-per-tenant", limit},
      std::getenv("SSE_BENCH_GATEWAY_LOG") ? std::getenv("SSE_BENCH_GATEWAY_LOG") : "/dev/null");
  for (int i = 0; i < 200 && testing::http_get(port, "/healthz").status != 200; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  auto new_job = [&]() -> std::string {
    const testing::http_reply made = testing::http_call(
        port, "POST", "/v1/jobs", R"({"problems": [{"question": "Prove that 2 is even."}]})");
    if (made.status != 202) {
      std::fprintf(stderr, "sse_bench: the job was not accepted (%d %s)\n", made.status,
                   made.body.c_str());
      std::exit(1);
    }
    return nlohmann::json::parse(made.body)["id"];
  };
  // Idle, but warm: one stream opened and closed first, so the idle figure holds what any
  // gateway that has served a stream holds (its threads' stacks, its Redis connections).
  const int64_t cold_kb = rss_kb(gateway.pid());
  const int warm = open_stream(port, new_job());
  std::this_thread::sleep_for(500ms);
  ::close(warm);
  std::this_thread::sleep_for(2s);
  const int64_t idle_kb = rss_kb(gateway.pid());
  std::fprintf(stderr, "gateway RSS: %.1f MB cold, %.1f MB idle after one stream\n",
               static_cast<double>(cold_kb) / 1024, static_cast<double>(idle_kb) / 1024);

  for (int round = 1; round <= rounds; ++round) {
  const std::string job = new_job();
  const std::string key = "job:" + job + ":events";
  // The streams, all open and subscribed before the first event.
  const int ep = ::epoll_create1(0);
  std::vector<stream_client> clients(static_cast<size_t>(streams));
  for (size_t i = 0; i < clients.size(); ++i) {
    clients[i].fd = open_stream(port, job);
    if (clients[i].fd < 0) {
      std::fprintf(stderr, "sse_bench: stream %zu could not connect\n", i);
      return 1;
    }
    epoll_event ev{.events = EPOLLIN, .data = {.u64 = i}};
    ::epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &ev);
  }
  transport::redis_client admin({.port = redis.port(), .password = redis.password()});
  std::this_thread::sleep_for(2s);

  // The peer: the same stream straight from Redis, one reader.
  latency_histogram direct;
  std::thread peer([&] {
    transport::redis_client r({.port = redis.port(), .password = redis.password()});
    std::string after = "0";
    for (bool done = false; !done;) {
      transport::redis_reply got = r.command({"XREAD", "BLOCK", "1000", "STREAMS", key, after});
      for (const auto& stream : got.elements) {
        for (const auto& entry : stream.elements.at(1).elements) {
          const std::string& data = entry.elements.at(1).elements.at(1).str;
          direct.add(now_us() - stamp_of(data));
          done |= data.find("\"completed\"") != std::string::npos;
          after = entry.elements.at(0).str;
        }
      }
    }
  });
  // The producer: the job's events at a steady rate, each stamped, then `completed`.
  std::atomic<int64_t> last_written_us = 0;
  std::atomic<int64_t> peak_kb = idle_kb;
  std::atomic<bool> sampling = true;
  std::thread producer([&] {
    transport::redis_client r({.port = redis.port(), .password = redis.password()});
    const auto start = steady::now();
    for (int i = 0; i <= events; ++i) {
      std::this_thread::sleep_until(start + std::chrono::microseconds(1000000LL * i / rate));
      const bool last = i == events;
      const std::string json =
          nlohmann::json{{"type", last ? "completed" : "result"},
                         {"task", job + "/p0/r1/verify/" + std::to_string(i) + "/0"},
                         {"status", "ok"}, {"done", i}, {"open", events - i},
                         {"t_us", now_us()}}
              .dump();
      r.command({"XADD", key, "*", "event", json});
      last_written_us = now_us();
    }
  });
  std::thread sampler([&] {
    while (sampling) {
      peak_kb = std::max(peak_kb.load(), rss_kb(gateway.pid()));
      std::this_thread::sleep_for(100ms);
    }
  });

  latency_histogram lat;
  size_t finished = 0;
  int64_t all_done_us = 0;
  const auto deadline = steady::now() + std::chrono::seconds(events / rate + 120);
  std::vector<epoll_event> ready(256);
  while (finished < clients.size() && steady::now() < deadline) {
    const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    for (int i = 0; i < n; ++i) {
      stream_client& c = clients[ready[static_cast<size_t>(i)].data.u64];
      const bool was_done = c.done;
      read_stream(c, lat);
      if (c.done && !was_done) {
        ++finished;
        all_done_us = std::max(all_done_us, c.done_us);
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      }
    }
  }
  producer.join();
  peer.join();
  sampling = false;
  sampler.join();
  int64_t complete_streams = 0;
  for (stream_client& c : clients) {
    complete_streams += c.events == events + 1 ? 1 : 0;
    ::close(c.fd);
  }
  std::this_thread::sleep_for(5s); // the hub gives memory back 2 s after the last stream
  const int64_t after_kb = rss_kb(gateway.pid());
  if (std::getenv("SSE_BENCH_HOLD")) { // for a debugger: the gateway as the streams left it
    std::fprintf(stderr, "gateway pid %d; holding 60 s\n", static_cast<int>(gateway.pid()));
    std::this_thread::sleep_for(60s);
  }

  const double tail_s = static_cast<double>(all_done_us - last_written_us.load()) / 1e6;
  std::printf("{\"bench\": \"sse\", \"round\": %d, \"streams\": %d, \"events\": %d, "
              "\"events_per_s\": %d, "
              "\"streams_complete\": %lld, \"p50_ms\": %.1f, \"p99_ms\": %.1f, \"max_ms\": %.1f, "
              "\"peer_p50_ms\": %.1f, \"peer_p99_ms\": %.1f, \"last_event_to_all_s\": %.2f, "
              "\"rss_idle_mb\": %.1f, \"rss_peak_mb\": %.1f, \"rss_after_mb\": %.1f}\n",
              round, streams, events, rate, static_cast<long long>(complete_streams),
              lat.quantile_ms(0.5), lat.quantile_ms(0.99), lat.max_ms(), direct.quantile_ms(0.5),
              direct.quantile_ms(0.99), tail_s, static_cast<double>(idle_kb) / 1024,
              static_cast<double>(peak_kb.load()) / 1024, static_cast<double>(after_kb) / 1024);
  std::printf("| streams | events delivered | p50 | p99 | max | Redis direct p50 / p99 (peer) | "
              "p99 / target 1 s | last event to every stream | RSS idle / peak / after |\n");
  std::printf("| %d | %lld of %lld | %.1f ms | %.1f ms | %.1f ms | %.1f / %.1f ms | %.2fx | %.2f s "
              "| %.0f / %.0f / %.0f MB (after: %+.0f%% of idle) |\n",
              streams, static_cast<long long>(lat.count()),
              static_cast<long long>(static_cast<int64_t>(streams) * (events + 1)),
              lat.quantile_ms(0.5), lat.quantile_ms(0.99), lat.max_ms(), direct.quantile_ms(0.5),
              direct.quantile_ms(0.99), lat.quantile_ms(0.99) / 1000.0, tail_s,
              static_cast<double>(idle_kb) / 1024, static_cast<double>(peak_kb.load()) / 1024,
              static_cast<double>(after_kb) / 1024,
              100.0 * static_cast<double>(after_kb - idle_kb) / static_cast<double>(idle_kb));
  ::close(ep);
  }
  return 0;
}
