// proofmesh-coordinator: claims proof jobs from Redis and runs them across the role services.
// Run several for availability: they share the jobs stream's consumer group.
#include "services/common/service_main.hpp"
#include "services/coordinator/coordinator_service.hpp"

int main(int argc, char** argv) {
  using namespace proofmesh;
  return services::service_main("proofmesh-coordinator", argc, argv,
                                coordinator::parse_coordinator_config,
                                coordinator::run_coordinator);
}
