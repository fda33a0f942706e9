// Reads a whole file for a test (golden data, fixtures).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace proofmesh::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace proofmesh::testing
