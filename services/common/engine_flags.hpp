// The one flag binder of engine_config (actors/engine/runtime/engine_config.hpp): the worker,
// `proofmesh generate` and `proofmesh up` bind the same flags, and up hands them on to its
// workers as written (to_args), so every way in builds the same engine.
#pragma once

#include "actors/engine/runtime/engine_config.hpp"

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace proofmesh::services {

struct engine_flags {
  std::string backend = "cpu"; // cpu or cuda (the worker also takes openai, before resolve)
  std::string dtype = "auto";
  std::string kv_cache_dtype = "auto";
  engine::engine_config config; // numeric fields, bound in place
  bool no_cuda_graphs = false;

  /// The backend and dtype parsed, then the whole config checked once; input_error naming the
  /// flag otherwise.
  engine::engine_config resolve() const;
  /// The flags as a child process takes them (proofmesh up -> proofmesh-worker).
  std::vector<std::string> to_args() const;
};

/// Binds --backend, --dtype, --kv-cache-dtype, --kv-memory-fraction, --kv-blocks, --block-size,
/// --max-step-tokens, --max-running, --no-cuda-graphs and --device onto `flags`. `backend_help`
/// describes --backend (the worker also takes openai).
void add_engine_flags(CLI::App& app, engine_flags& flags,
                      const std::string& backend_help = "cpu or cuda");

} // namespace proofmesh::services
