#include "actors/engine/serving/engine_types.hpp"

namespace proofmesh::engine {

caf::actor_system_config& add_engine_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::proofmesh_engine>();
  // add_error_category<T> does not compile in CAF 0.17.6 (its renderer lambda has the wrong
  // signature), so the renderer is spelled out.
  cfg.add_error_category(
      caf::detail::error_factory<engine_errc>::category,
      [](uint8_t code, caf::atom_value category, const caf::message& context) {
        std::string text = caf::to_string(category) + ": " +
                           to_string(static_cast<engine_errc>(code));
        return context.empty() ? text : text + " " + caf::to_string(context);
      });
  return cfg;
}

} // namespace proofmesh::engine
