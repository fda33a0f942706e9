// SHA-256 (FIPS 180-4), for hashing API keys and deriving ids: our own, so the portable CLI
// carries no crypto library. Not for anything secret-keyed (no HMAC here).
#pragma once

#include <string>
#include <string_view>

namespace proofmesh {

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

} // namespace proofmesh
