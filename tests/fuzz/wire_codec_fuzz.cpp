// libFuzzer target: the mesh's wire decoder over arbitrary bytes.
// Rules of the road: decode never throws and never reads out of bounds (the sanitizers watch);
// whatever it accepts must survive a round trip unchanged (encode, then decode again), so a
// field the checks let through but the encoder cannot express is a finding too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "actors/transport/wire_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace proofmesh::transport;
  const decode_result first = decode(std::span(data, size));
  if (!first.message) {
    return 0;
  }
  const decode_result again = decode(encode(*first.message));
  if (!again.message || !(*again.message == *first.message)) {
    std::abort();
  }
  return 0;
}
