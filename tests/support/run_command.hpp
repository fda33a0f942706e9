// Runs a shell command for a test and captures its exit code, stdout and stderr.
#pragma once

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace proofmesh::testing {

struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline command_result run_command(const std::string& command, const std::string& err_file) {
  command_result r;
  FILE* pipe = popen((command + " 2>" + err_file).c_str(), "r");
  if (!pipe) {
    return r;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    r.out.append(buf.data(), n);
  }
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  return r;
}

} // namespace proofmesh::testing
