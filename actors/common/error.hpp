// Errors that bad input causes (a corrupt file, a wrong flag, an unsupported config field).
// Inside one process they travel as exceptions of this type; every process edge (the CLI's main,
// an actor's handler) catches them and turns them into an exit code 2 or a typed error, so they
// never cross a process or actor boundary. The message names the problem in one line.
#pragma once

#include <stdexcept>
#include <string>

namespace proofmesh {

class input_error : public std::runtime_error {
public:
  explicit input_error(const std::string& what) : std::runtime_error(what) {}
};

} // namespace proofmesh
