// A Redis reply as an owned plain value: redis_client converts hiredis' reply tree into this, so
// no hiredis pointer outlives the call that made it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace proofmesh::transport {

enum class redis_kind : uint8_t {
  redis_kind_nil,
  redis_kind_string,
  redis_kind_integer,
  redis_kind_array,
  redis_kind_status,
  redis_kind_error,
};

struct redis_reply {
  redis_kind kind = redis_kind::redis_kind_nil;
  std::string str;                  // string, status and error replies
  int64_t integer = 0;
  std::vector<redis_reply> elements; // array replies

  bool is_nil() const { return kind == redis_kind::redis_kind_nil; }
  bool is_error() const { return kind == redis_kind::redis_kind_error; }
};

} // namespace proofmesh::transport
