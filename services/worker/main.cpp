// proofmesh-worker: one generator, verifier or meta-verifier replica. Start as many as you like,
// on any host; each connects to its role's socket on the coordinator.
#include "services/common/service_main.hpp"
#include "services/worker/worker_config.hpp"
#include "services/worker/worker_service.hpp"

int main(int argc, char** argv) {
  using namespace proofmesh;
  return services::service_main("proofmesh-worker", argc, argv, worker::parse_worker_config,
                                worker::run_worker);
}
