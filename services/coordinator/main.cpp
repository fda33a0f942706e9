// proofmesh-coordinator: claims proof jobs from Redis and runs them across the role services.
// Run several for availability: they share the jobs stream's consumer group.
#include "actors/common/error.hpp"
#include "services/coordinator/coordinator_service.hpp"

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
    coordinator::coordinator_config config =
        coordinator::parse_coordinator_config(argc, argv, help, help_text);
    if (help) {
      std::fputs(help_text.c_str(), stdout);
      return 0;
    }
    return coordinator::run_coordinator(config, stop_requested);
  } catch (const input_error& e) {
    std::fprintf(stderr, "proofmesh-coordinator: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "proofmesh-coordinator: fatal: %s\n", e.what());
    return 1;
  }
}
