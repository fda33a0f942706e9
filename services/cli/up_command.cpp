// `proofmesh up`: the whole mesh on this machine, for a demo or a laptop. Rules of the road:
// - It starts, on loopback: redis-server (AOF on, fsync every second, a password it makes up
//   unless given, its files in LOG_DIR/redis), one coordinator, the gateway, and the requested
//   workers: N combined workers (--workers N: each serves every role from one engine, one copy
//   of the weights), and/or dedicated replicas per role; each process writes LOG_DIR/<name>.log.
//   Workers get the engine flags as given here (services/common/engine_flags).
// - It waits for Redis to answer before starting the rest, and for the gateway to be ready
//   before it says "mesh up". Secrets it makes up go to files of mode 0600: the Redis password
//   (LOG_DIR/redis.password) and the gateway's API key (LOG_DIR/api.key, tenant "local"; the
//   gateway itself only gets its hash, in LOG_DIR/api-keys.json). The password reaches Redis in
//   a config file of mode 0600 and the services in PROOFMESH_REDIS_PASSWORD, never on a command
//   line (/proc/PID/cmdline is readable by every user).
// - SIGINT or SIGTERM stops the workers (they drain), then the gateway, the coordinator, then
//   Redis, each with SIGTERM and a grace period, then SIGKILL; it exits 0 with no child left.
// - It supervises: a child that dies on its own is logged and started again with the same
//   arguments after a backoff (restart_policy.hpp); Redis replays its AOF, a worker's tasks were
//   handed back or are re-dispatched. A child that keeps dying right after its start stops the
//   whole mesh (exit 1).
#include "actors/common/error.hpp"
#include "actors/common/random_hex.hpp"
#include "actors/common/sha256.hpp"
#include "actors/transport/redis_client.hpp"
#include "services/cli/command.hpp"
#include "services/cli/gateway_client.hpp"
#include "services/cli/restart_policy.hpp"
#include "services/common/engine_flags.hpp"
#include "services/common/service_main.hpp"

#include <chrono>
#include <cstdlib>
#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <fstream>
#include <iostream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace proofmesh::cli {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct up_flags {
  std::string model;
  std::vector<std::string> role_models; // ROLE=DIR: that role's dedicated workers serve DIR
  std::map<std::string, std::string> model_of; // role -> folder, from role_models
  std::string templates;
  std::string log_dir = "proofmesh-mesh";
  services::engine_flags engine;
  int32_t workers = 0; // combined: every role from one engine
  int32_t generators = 1, verifiers = 1, meta_verifiers = 1;
  int32_t slots = 8;
  int32_t redis_port = 6379;
  int32_t base_port = 5601;
  int32_t gateway_port = 8080;
  std::string redis_password;
  std::string api_key;
};

struct child {
  std::string name;
  pid_t pid; // -1 while it waits to be started again
  std::vector<std::string> argv;
  std::string log;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point restart_at{};
  restart_policy restarts;
};

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0); // the terminal's Ctrl-C goes to `up`, which stops children in order
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  return pid;
}

bool stop_one(const child& c, std::chrono::seconds grace) {
  if (c.pid <= 0) {
    return true; // waiting for its restart: nothing runs
  }
  ::kill(c.pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(c.pid, nullptr, WNOHANG) == c.pid) return true;
    std::this_thread::sleep_for(20ms);
  }
  ::kill(c.pid, SIGKILL);
  ::waitpid(c.pid, nullptr, 0);
  return false;
}

// Created 0600 from the start: no moment when another user could read it.
void write_secret(const fs::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0 ||
      ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    if (fd >= 0) ::close(fd);
    throw input_error(path.string() + ": cannot write");
  }
  ::close(fd);
}

// The flags, checked; combined workers replace the dedicated ones unless those were asked for.
void check(up_flags& f, bool generators_given, bool verifiers_given, bool metas_given) {
  if (f.workers > 0) {
    if (!generators_given) f.generators = 0;
    if (!verifiers_given) f.verifiers = 0;
    if (!metas_given) f.meta_verifiers = 0;
  }
  for (int32_t n : {f.workers, f.generators, f.verifiers, f.meta_verifiers}) {
    if (n < 0 || n > 64) throw input_error("worker and replica counts must be in [0, 64]");
  }
  if (f.slots < 1 || f.slots > 4096) throw input_error("--slots must be in [1, 4096]");
  if (f.workers > 0 && f.slots < 3) {
    throw input_error("--slots must be at least 3 with --workers: one per role");
  }
  f.engine.resolve(); // a bad engine flag fails here, not in every worker's log
  if (f.redis_port < 1 || f.redis_port > 65535 || f.base_port < 1 || f.base_port > 65533 ||
      f.gateway_port < 1 || f.gateway_port > 65535) {
    throw input_error("--redis-port, --base-port and --gateway-port must be valid TCP ports");
  }
  if (!fs::is_directory(f.model)) throw input_error("--model " + f.model + ": not a folder");
  for (const std::string& rm : f.role_models) {
    const size_t eq = rm.find('=');
    const std::string role = rm.substr(0, eq);
    if (eq == std::string::npos ||
        (role != "generator" && role != "verifier" && role != "meta_verifier")) {
      throw input_error("--role-model wants ROLE=DIR (generator, verifier or meta_verifier): " +
                        rm);
    }
    if (!fs::is_directory(rm.substr(eq + 1))) {
      throw input_error("--role-model " + rm + ": not a folder");
    }
    f.model_of[role] = rm.substr(eq + 1);
  }
}

// The mesh as `up` runs it: its children in start order, started, supervised, stopped in
// reverse. Its life is
//   start();     // secrets, Redis (waited for), coordinator, gateway (waited for), workers
//   supervise(); // until Ctrl-C, restarting a child that dies, stopping on repeated deaths
//   stop();      // in reverse order, each with a grace period
class local_mesh {
public:
  explicit local_mesh(const up_flags& f)
      : f_(f), logs_(fs::absolute(f.log_dir)),
        bin_(fs::read_symlink("/proc/self/exe").parent_path()),
        password_(f.redis_password.empty() ? random_hex(32) : f.redis_password),
        api_key_(f.api_key.empty() ? random_hex(32) : f.api_key) {
    for (int r = 0; r < 3; ++r) {
      endpoints_[r] = "tcp://127.0.0.1:" + std::to_string(f.base_port + r);
    }
  }

  void start() {
    write_secrets();
    std::signal(SIGTERM, services::on_stop_signal);
    std::signal(SIGINT, services::on_stop_signal);
    start_redis();
    start_services();
    start_workers();
    std::cout << "mesh up: gateway http://127.0.0.1:" << f_.gateway_port << " (API key in "
              << (logs_ / "api.key").string() << "), redis 127.0.0.1:" << f_.redis_port
              << " (password in " << (logs_ / "redis.password").string() << "), coordinator, "
              << f_.workers << " combined worker(s), " << f_.generators << " generator(s), "
              << f_.verifiers << " verifier(s), " << f_.meta_verifiers
              << " meta-verifier(s); logs in " << logs_.string() << "; Ctrl-C stops it"
              << std::endl;
  }

  /// Until Ctrl-C; 1 if a child kept dying right after its start, else 0.
  int supervise() {
    while (!services::stop_flag().load()) {
      const auto now = std::chrono::steady_clock::now();
      for (child& c : children_) {
        if (!look_after(c, now)) return 1;
      }
      std::this_thread::sleep_for(100ms);
    }
    return 0;
  }

  void stop() {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
      stop_one(*it, it->name == "redis" ? 10s : 30s);
    }
    children_.clear();
  }

private:
  void write_secrets() {
    fs::create_directories(logs_ / "redis");
    write_secret(logs_ / "redis.password", password_ + "\n");
    write_secret(logs_ / "redis.conf", "requirepass " + password_ + "\n");
    ::setenv("PROOFMESH_REDIS_PASSWORD", password_.c_str(), 1); // the children inherit it
    write_secret(logs_ / "api.key", api_key_ + "\n");
    write_secret(logs_ / "api-keys.json", R"({"keys": [{"tenant": "local", "sha256": ")" +
                                              sha256_hex(api_key_) + "\"}]}\n");
  }

  void start_child(const std::string& name, std::vector<std::string> argv) {
    const std::string log = (logs_ / (name + ".log")).string();
    const pid_t pid = spawn(argv, log);
    children_.push_back({.name = name, .pid = pid, .argv = std::move(argv), .log = log});
  }

  // Started, then waited for until it answers.
  void start_redis() {
    start_child("redis", {"redis-server", (logs_ / "redis.conf").string(), "--port",
                          std::to_string(f_.redis_port), "--bind", "127.0.0.1", "--dir",
                          (logs_ / "redis").string(), "--appendonly", "yes", "--appendfsync",
                          "everysec", "--save", ""});
    try {
      transport::redis_client probe({.port = f_.redis_port, .password = password_,
                                     .max_attempts = 40, .backoff_initial = 50ms,
                                     .backoff_max = 250ms});
      probe.command({"PING"});
    } catch (const transport::redis_unavailable& e) {
      stop();
      throw input_error(std::string("redis-server did not start: ") + e.what() + " (see " +
                        (logs_ / "redis.log").string() + ")");
    }
  }

  // The coordinator, then the gateway, waited for until it is ready (listening, and talking to
  // Redis).
  void start_services() {
    const std::string redis_port = std::to_string(f_.redis_port);
    start_child("coordinator",
                {(bin_ / "proofmesh-coordinator").string(), "--redis-port", redis_port,
                 "--generator-endpoint", endpoints_[0], "--verifier-endpoint", endpoints_[1],
                 "--meta-verifier-endpoint", endpoints_[2], "--consumer", "coordinator-0"});
    start_child("gateway", {(bin_ / "proofmesh-gateway").string(), "--host", "127.0.0.1",
                            "--port", std::to_string(f_.gateway_port), "--redis-port",
                            redis_port, "--api-keys", (logs_ / "api-keys.json").string()});
    const gateway_target gateway = {.port = std::to_string(f_.gateway_port)};
    for (int i = 0;; ++i) {
      try {
        gateway_call(gateway, "GET", "/readyz");
        return;
      } catch (const std::exception& e) {
        const bool exited = ::waitpid(children_.back().pid, nullptr, WNOHANG) != 0;
        if (exited) children_.pop_back(); // reaped: nothing left to stop
        if (exited || i == 100) {
          stop();
          throw input_error(std::string("the gateway did not start: ") + e.what() + " (see " +
                            (logs_ / "gateway.log").string() + ")");
        }
        std::this_thread::sleep_for(100ms);
      }
    }
  }

  void start_workers() {
    for (int32_t i = 0; i < f_.workers; ++i) {
      start_worker("worker-" + std::to_string(i), "generator,verifier,meta_verifier",
                   endpoints_[0] + "," + endpoints_[1] + "," + endpoints_[2]);
    }
    const char* roles[3] = {"generator", "verifier", "meta_verifier"};
    const int32_t counts[3] = {f_.generators, f_.verifiers, f_.meta_verifiers};
    for (int r = 0; r < 3; ++r) {
      for (int32_t i = 0; i < counts[r]; ++i) {
        start_worker(std::string(roles[r]) + "-" + std::to_string(i), roles[r], endpoints_[r]);
      }
    }
  }

  void start_worker(const std::string& name, const std::string& roles,
                    const std::string& coordinators) {
    auto own = f_.model_of.find(roles); // a combined worker's roles never name one role
    const std::string& model = own == f_.model_of.end() ? f_.model : own->second;
    std::vector<std::string> argv = {(bin_ / "proofmesh-worker").string(), "--roles", roles,
                                     "--coordinator", coordinators, "--model", model,
                                     "--slots", std::to_string(f_.slots), "--worker-id", name};
    for (std::string& a : f_.engine.to_args()) argv.push_back(std::move(a));
    if (!f_.templates.empty()) {
      argv.push_back("--templates");
      argv.push_back(f_.templates);
    }
    start_child(name, std::move(argv));
  }

  // One child, one look: started again when its backoff is over, or its death noticed and its
  // restart planned. False when it died too often right after its start: the mesh stops.
  bool look_after(child& c, std::chrono::steady_clock::time_point now) {
    if (c.pid <= 0) {
      if (now >= c.restart_at) {
        c.pid = spawn(c.argv, c.log);
        c.started = now;
        std::cerr << "proofmesh up: started " << c.name << " again\n";
      }
      return true;
    }
    int status = 0;
    if (::waitpid(c.pid, &status, WNOHANG) != c.pid) return true;
    c.pid = -1;
    const auto wait = c.restarts.on_death(now - c.started);
    if (!wait) {
      std::cerr << "proofmesh up: " << c.name << " " << describe_exit(status) << ", "
                << restart_policy::max_quick_deaths
                << " times in a row within a minute of its start (see its log); stopping the "
                   "mesh\n";
      return false;
    }
    std::cerr << "proofmesh up: " << c.name << " " << describe_exit(status)
              << " (see its log); restarting it in " << wait->count() << " ms\n";
    c.restart_at = now + *wait;
    return true;
  }

  const up_flags& f_;
  const fs::path logs_;
  const fs::path bin_;
  const std::string password_;
  const std::string api_key_;
  std::string endpoints_[3];
  std::vector<child> children_;
};

} // namespace

command_fn add_up_command(CLI::App& app) {
  auto f = std::make_shared<up_flags>();
  app.add_option("--model", f->model, "model folder the workers serve")->required();
  app.add_option("--role-model", f->role_models,
                 "ROLE=DIR: that role's own workers serve DIR instead of --model (repeatable)");
  app.add_option("--templates", f->templates, "prompt templates file (default: ours)");
  app.add_option("--log-dir", f->log_dir, "logs and Redis files (default ./proofmesh-mesh)");
  services::add_engine_flags(app, f->engine);
  app.add_option(
      "--workers", f->workers,
      "combined workers, each serving every role from one engine (0..64); with it, the "
      "per-role counts default to 0");
  auto* g = app.add_option("--generators", f->generators, "generator replicas (0..64)");
  auto* v = app.add_option("--verifiers", f->verifiers, "verifier replicas (0..64)");
  auto* m = app.add_option("--meta-verifiers", f->meta_verifiers, "meta-verifier replicas (0..64)");
  app.add_option("--slots", f->slots, "tasks per worker, all its roles together (1..4096)");
  app.add_option("--redis-port", f->redis_port, "Redis port on 127.0.0.1");
  app.add_option("--base-port", f->base_port, "role sockets at base, base+1, base+2");
  app.add_option("--redis-password", f->redis_password,
                 "or PROOFMESH_REDIS_PASSWORD; default: a random one")
      ->envname("PROOFMESH_REDIS_PASSWORD");
  app.add_option("--gateway-port", f->gateway_port, "the REST gateway's port on 127.0.0.1");
  app.add_option("--api-key", f->api_key, "the gateway's API key (default: a random one)");
  return [f, g, v, m] {
    check(*f, g->count() > 0, v->count() > 0, m->count() > 0);
    local_mesh mesh(*f);
    mesh.start();
    const int code = mesh.supervise();
    mesh.stop();
    std::cout << "mesh down" << std::endl;
    return code;
  };
}

} // namespace proofmesh::cli
