// proofmesh-worker: one generator, verifier or meta-verifier replica. Start as many as you like,
// on any host; each connects to its role's socket on the coordinator.
#include "actors/common/error.hpp"
#include "services/worker/worker_config.hpp"
#include "services/worker/worker_service.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void on_signal(int) { stop_requested.store(true); }

} // namespace

int main(int argc, char** argv) {
  using namespace proofmesh;
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  try {
    bool help = false;
    std::string help_text;
    worker::worker_config config = worker::parse_worker_config(argc, argv, help, help_text);
    if (help) {
      std::fputs(help_text.c_str(), stdout);
      return 0;
    }
    return worker::run_worker(config, stop_requested);
  } catch (const input_error& e) {
    std::fprintf(stderr, "proofmesh-worker: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "proofmesh-worker: fatal: %s\n", e.what());
    return 1;
  }
}
