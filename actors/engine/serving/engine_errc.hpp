// The typed errors of the engine actor (STYLE.md item 5, third tier): what a submit can be refused
// for, and what a listener is told when the runner fails. Rules of the road: codes only grow (the
// gateway maps them to stable JSON codes); 0 is CAF's "no error", so the first code is 1; the
// human detail travels as the error's context string, never as a new code.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace proofmesh::engine {

enum class engine_errc : uint8_t {
  engine_errc_invalid_request = 1, // malformed, or can never fit in the KV cache
  engine_errc_overloaded = 2,      // the engine holds max_requests already; retry later
  engine_errc_runner_failed = 3,   // the model runner threw; in-flight requests ended
};

std::string to_string(engine_errc code); // "invalid_request", "overloaded", "runner_failed"

/// The engine code `err` carries, or nothing for an error of another category (or none).
std::optional<engine_errc> engine_errc_of(const caf::error& err);

} // namespace proofmesh::engine

// The category atom names the module in rendered errors ("pm_engine: overloaded (...)").
CAF_ERROR_CODE_ENUM(proofmesh::engine::engine_errc, "pm_engine")
