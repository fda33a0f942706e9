// A scratch directory for one test, removed with everything in it when the test ends.
// Rules of the road: test-only helper; each instance gets a fresh mkdtemp directory, so tests can
// run in parallel under ctest without sharing files.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace proofmesh::testing {

class temp_dir {
public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "proofmesh_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// The folder itself, or `child` inside it.
  std::string str(const std::string& child = "") const { return child.empty() ? path_ : file(child); }

  /// Writes raw bytes to `name` and returns its path.
  std::string write(const std::string& name, const std::vector<std::byte>& bytes) const {
    std::ofstream out(file(name), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return file(name);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream out(file(name), std::ios::binary);
    out << text;
    return file(name);
  }

private:
  std::string path_;
};

} // namespace proofmesh::testing
