// Strictly typed reads of a config.json object: every missing, mistyped or out-of-range field is an
// input_error naming the file and the field. Shared by the config parsers of model_config.cpp and
// deepseek_config.cpp.
#pragma once

#include "actors/common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace proofmesh::engine::config_json {

using json = nlohmann::json;

// Sizes beyond these are not models we can hold; they also keep later products from overflowing.
constexpr int64_t max_vocab = 1 << 24;
constexpr int64_t max_dim = 1 << 17;
constexpr int64_t max_layers = 1024;
constexpr int64_t max_heads = 1024;

struct reader {
  const json& j;
  std::string_view source;

  [[noreturn]] void fail(std::string_view field, const std::string& why) const {
    throw input_error(std::string(source) + ": field \"" + std::string(field) + "\" " + why);
  }

  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }

  int64_t integer(const char* key, int64_t lo, int64_t hi) const {
    if (!has(key)) {
      fail(key, "is missing");
    }
    return bounded(j.at(key), key, lo, hi);
  }

  int64_t integer_or(const char* key, int64_t fallback, int64_t lo, int64_t hi) const {
    return has(key) ? bounded(j.at(key), key, lo, hi) : fallback;
  }

  int64_t bounded(const json& v, std::string_view key, int64_t lo, int64_t hi) const {
    if (!v.is_number_integer()) {
      fail(key, "must be an integer");
    }
    int64_t x = v.get<int64_t>();
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
      fail(key, "is out of range");
    }
    if (x < lo || x > hi) {
      fail(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                    std::to_string(x));
    }
    return x;
  }

  double number_or(const json& obj, const char* key, double fallback) const {
    if (!obj.contains(key) || obj.at(key).is_null()) {
      return fallback;
    }
    if (!obj.at(key).is_number()) {
      fail(key, "must be a number");
    }
    return obj.at(key).get<double>();
  }

  bool boolean_or(const char* key, bool fallback) const {
    if (!has(key)) {
      return fallback;
    }
    if (!j.at(key).is_boolean()) {
      fail(key, "must be true or false");
    }
    return j.at(key).get<bool>();
  }

  std::string string_or(const char* key, std::string fallback) const {
    if (!has(key)) {
      return fallback;
    }
    if (!j.at(key).is_string()) {
      fail(key, "must be a string");
    }
    return j.at(key).get<std::string>();
  }

  std::vector<int64_t> token_ids(const char* key) const {
    std::vector<int64_t> ids;
    if (!has(key)) {
      return ids;
    }
    const json& v = j.at(key);
    if (v.is_array()) {
      if (v.size() > 64) {
        fail(key, "lists too many ids");
      }
      for (const auto& x : v) {
        ids.push_back(bounded(x, key, 0, max_vocab));
      }
    } else {
      ids.push_back(bounded(v, key, 0, max_vocab));
    }
    return ids;
  }
};

} // namespace proofmesh::engine::config_json
