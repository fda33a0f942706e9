// Where ../shared (the reference data beside the repository) is: PM_SHARED_DIR in the
// environment, else the folder next to the source tree this test was built from. Tests read it
// in place (it is never copied into the project); a test that needs it and cannot find it skips
// with the reason, as GPU tests do without a GPU.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace proofmesh::testing {

inline std::string shared_path(const std::string& relative = "") {
  std::string root = std::getenv("PM_SHARED_DIR") ? std::getenv("PM_SHARED_DIR") : PM_SHARED_DIR;
  return relative.empty() ? root : root + "/" + relative;
}

inline bool shared_available() { return std::filesystem::is_directory(shared_path("dsm2")); }

} // namespace proofmesh::testing

#define PM_SKIP_WITHOUT_SHARED()                                                               \
  do {                                                                                         \
    if (!::proofmesh::testing::shared_available()) {                                           \
      GTEST_SKIP() << "needs the reference data at " << ::proofmesh::testing::shared_path()    \
                   << " (set PM_SHARED_DIR)";                                                  \
    }                                                                                          \
  } while (0)
