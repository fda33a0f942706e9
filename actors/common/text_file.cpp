#include "actors/common/text_file.hpp"

#include "actors/common/error.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace proofmesh {

std::string read_text_file(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw input_error(path + ": " + (ec ? ec.message() : "not a regular file"));
  }
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    throw input_error(path + ": cannot read (" + ec.message() + ")");
  }
  if (size > max_bytes) {
    throw input_error(path + ": " + std::to_string(size) + " bytes, above the limit of " +
                      std::to_string(max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw input_error(path + ": cannot open");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) {
    throw input_error(path + ": cannot read");
  }
  return std::move(text).str();
}

} // namespace proofmesh
