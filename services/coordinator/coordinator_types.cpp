#include "services/coordinator/coordinator_types.hpp"

namespace proofmesh::coordinator {

caf::actor_system_config& add_coordinator_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::proofmesh_coordinator>();
  return cfg;
}

} // namespace proofmesh::coordinator
