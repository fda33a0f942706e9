// Envelopes in and out: encode a plain message into one FlatBuffers buffer, and decode a received
// buffer only after it has passed every check. Rules of the road for decode, in order:
// 1. size: at most limits.max_message_bytes (before anything reads it);
// 2. the file identifier "PMW1", then the FlatBuffers Verifier (offsets, bounds, depth, table
//    count, required fields);
// 3. schema_version equal to ours;
// 4. every field: ids and text within their caps, numbers finite and in range, a task's role
//    matching its input, a result's output matching its status.
// A message that fails any check is not converted: decode returns the reason, and the caller
// counts it (wire_drops) and drops it. Nothing here throws on received bytes.
#pragma once

#include "actors/transport/wire_messages.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace proofmesh::transport {

inline constexpr uint16_t wire_schema_version = 1;

struct wire_limits {
  size_t max_message_bytes = size_t{8} << 20; // a whole envelope
  size_t max_text_bytes = size_t{2} << 20;    // one problem, proof, rating or analysis
  size_t max_id_bytes = 256;                  // task, job and worker ids
  uint32_t max_slots = 65536;                 // credit per message
  int32_t max_tokens = 1 << 20;               // sampling.max_tokens
  size_t max_messages = 256;                  // chat turns of a completion task
  size_t max_stop_strings = 16;               // stop strings of a completion task (each an id's size)
  size_t max_logprob_tokens = 65536;          // token logprobs per result or progress message
  int32_t max_top_logprobs = 20;              // alternatives per token (OpenAI's cap too)
};

enum class wire_errc : uint8_t {
  wire_errc_too_large = 0,
  wire_errc_malformed = 1,        // not a verifiable envelope (identifier, offsets, required fields)
  wire_errc_wrong_version = 2,
  wire_errc_empty_payload = 3,
  wire_errc_field_too_long = 4,
  wire_errc_bad_value = 5,        // out of range, not finite, or a role/output that does not fit
};
inline constexpr size_t num_wire_errcs = 6;

const char* wire_errc_name(wire_errc e);

struct decode_result {
  std::optional<wire_message> message; // set when decoding succeeded
  wire_errc error = wire_errc::wire_errc_malformed;
};

std::vector<uint8_t> encode(const wire_message& message);

decode_result decode(std::span<const uint8_t> bytes, const wire_limits& limits = {});

/// Counts of dropped messages by reason; safe to bump from any thread (a metrics source).
class wire_drops {
public:
  void add(wire_errc e) { counts_[static_cast<size_t>(e)].fetch_add(1, std::memory_order_relaxed); }
  uint64_t count(wire_errc e) const {
    return counts_[static_cast<size_t>(e)].load(std::memory_order_relaxed);
  }
  uint64_t total() const;

private:
  std::array<std::atomic<uint64_t>, num_wire_errcs> counts_{};
};

} // namespace proofmesh::transport
