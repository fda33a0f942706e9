// A real redis-server for one test: its own port and folder, AOF on (fsync always, so a restart
// loses nothing), a password, stopped when the test ends. Rules of the road: test-only helper;
// restart() stops it (SIGTERM, or SIGKILL with hard = true) and starts it again on the same port
// and folder, so the AOF is replayed, as an operator's restart would; stop() and start_again()
// do the two halves, with extra server flags for the second (e.g. --key-load-delay, which makes
// loading, and so LOADING replies, last).
#pragma once

#include "actors/common/random_hex.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"

#include <hiredis/hiredis.h>

#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace proofmesh::testing {

class redis_server {
public:
  // A password of its own: a test that found another test's Redis on its port would fail AUTH
  // instead of sharing it.
  explicit redis_server(std::string password = random_password())
      : password_(std::move(password)) {
    // A port taken between the pick and redis-server's bind: the server exits; pick again.
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = testing::free_port();
      if (start()) return;
    }
    std::abort(); // no redis-server would come up: the test cannot run
  }
  ~redis_server() { stop(SIGKILL); }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  int port() const { return port_; }
  const std::string& password() const { return password_; }

  void restart(bool hard = false) {
    stop(hard ? SIGKILL : SIGTERM);
    start_again();
  }
  /// Starts it after stop(), on the same port and folder; returns once it has loaded.
  void start_again(std::vector<std::string> extra = {}) {
    if (!start(std::move(extra))) std::abort(); // the same port and folder must come back
  }
  void stop(int signal) {
    if (process_) {
      process_->signal(signal);
      process_->wait_exit(std::chrono::seconds(30)); // past that, the destructor kills it
      process_.reset();
    }
  }

private:
  static std::string random_password() { return "test-" + random_hex(16); }

  // True once this server answers its own password; false if it exited (its port was taken).
  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"redis-server", "--port", std::to_string(port_), "--bind",
                                     "127.0.0.1", "--dir", dir_.path(), "--appendonly", "yes",
                                     "--appendfsync", "always", "--save", "", "--requirepass",
                                     password_, "--daemonize", "no"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<child_process>(argv, dir_.file("redis.log"));
    // Ready when it answers PING (AOF replay done).
    for (int i = 0; i < 500; ++i) {
      timeval tv{0, 100000};
      redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
      if (c != nullptr && c->err == 0) {
        auto* r = static_cast<redisReply*>(redisCommand(c, "AUTH %s", password_.c_str()));
        bool ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
        if (r) freeReplyObject(r);
        if (ok) {
          r = static_cast<redisReply*>(redisCommand(c, "PING"));
          ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
          if (r) freeReplyObject(r);
        }
        redisFree(c);
        if (ok) {
          return true;
        }
      } else if (c != nullptr) {
        redisFree(c);
      }
      if (process_->wait_exit(std::chrono::milliseconds(10))) {
        process_.reset();
        return false;
      }
    }
    return false;
  }

  temp_dir dir_;
  std::string password_;
  int port_ = 0;
  std::unique_ptr<child_process> process_;
};

} // namespace proofmesh::testing
