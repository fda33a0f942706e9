// What every mesh process's main() does, once: SIGTERM and SIGINT set a stop flag the service
// loop watches; a bad configuration (input_error) prints one line and exits 2; anything else
// that escapes prints one line and exits 1. Rules of the road: parse runs before anything opens
// a socket or loads a model, so a wrong flag costs nothing.
#pragma once

#include "actors/common/error.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <unistd.h>

namespace proofmesh::services {

inline std::atomic<bool>& stop_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

extern "C" inline void on_stop_signal(int) { stop_flag().store(true); }

/// `<prefix>-<host>-<pid>`: a name unique to this process, for logs and routing ids.
inline std::string instance_id(const std::string& prefix) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return prefix + "-" + host + "-" + std::to_string(getpid());
}

/// Parses argv into `app`'s options. Returns false when --help was asked for (its text is in
/// `help_text`); a bad flag or value throws input_error.
inline bool parse_flags(CLI::App& app, int argc, char** argv, std::string& help_text) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    help_text = app.help();
    return false;
  } catch (const CLI::ParseError& e) {
    throw input_error(e.what());
  }
  return true;
}

/// parse(argc, argv, help, help_text) -> config; run(config, stop_flag) -> exit code.
template <typename Parse, typename Run>
int service_main(const char* name, int argc, char** argv, Parse parse, Run run) {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  try {
    bool help = false;
    std::string help_text;
    auto config = parse(argc, argv, help, help_text);
    if (help) {
      std::fputs(help_text.c_str(), stdout);
      return 0;
    }
    return run(config, stop_flag());
  } catch (const input_error& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: fatal: %s\n", name, e.what());
    return 1;
  }
}

} // namespace proofmesh::services
