// Where test data lives. GPU test binaries are built here and run on another machine from the
// repository root, so a path relative to the working directory wins over the build-time
// PM_SOURCE_DIR; PM_SOURCE_DIR in the environment overrides both.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace proofmesh::testing {

inline std::string source_path(const std::string& relative) {
  if (const char* env = std::getenv("PM_SOURCE_DIR")) {
    return std::string(env) + "/" + relative;
  }
  if (std::filesystem::exists(relative)) {
    return relative;
  }
  return std::string(PM_SOURCE_DIR) + "/" + relative;
}

} // namespace proofmesh::testing
