// proofmesh-worker: one generator, verifier or meta-verifier replica. Start as many as you like,
// on any host; each connects to its role's socket on the coordinator.
#include "services/common/service_main.hpp"
#include "services/worker/worker_config.hpp"
#include "services/worker/openai_worker.hpp"
#include "services/worker/worker_service.hpp"

int main(int argc, char** argv) {
  using namespace proofmesh;
  return services::service_main("proofmesh-worker", argc, argv, worker::parse_worker_config,
                                [](const worker::worker_config& c, const std::atomic<bool>& stop) {
                                  return c.backend == "openai" ? worker::run_openai_worker(c, stop)
                                                               : worker::run_worker(c, stop);
                                });
}
