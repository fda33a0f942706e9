#include "actors/engine/serving/engine_errc.hpp"

#include <caf/atom.hpp>

namespace proofmesh::engine {

std::string to_string(engine_errc code) {
  switch (code) {
  case engine_errc::engine_errc_invalid_request:
    return "invalid_request";
  case engine_errc::engine_errc_overloaded:
    return "overloaded";
  case engine_errc::engine_errc_runner_failed:
    return "runner_failed";
  }
  return "unknown";
}

std::optional<engine_errc> engine_errc_of(const caf::error& err) {
  // CAF 0.17 keeps the category that CAF_ERROR_CODE_ENUM registered in error_factory.
  if (!err || err.category() != caf::detail::error_factory<engine_errc>::category) {
    return std::nullopt;
  }
  return static_cast<engine_errc>(err.code());
}

} // namespace proofmesh::engine
