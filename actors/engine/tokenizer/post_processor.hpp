// The post-processor stage, run by encode() when add_special_tokens is set: TemplateProcessing
// wraps the ids in special tokens (Llama 3's <|begin_of_text|>); ByteLevel only fixes offsets,
// which we do not track, so it leaves ids alone. Sequence runs its processors in order.
// Rules of the road: only the single-sequence template is used; a template for one sequence may
// only name sequence A. Anything else (Bert, Roberta, ...) is rejected at load time.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "actors/engine/tokenizer/json_field.hpp"

namespace proofmesh::engine {

class post_processor {
public:
  post_processor() = default; // none
  static post_processor from_json(const json& value, std::string_view where);

  void apply(std::vector<int32_t>& ids) const;

private:
  struct piece {
    bool is_sequence;           // true: the encoded ids go here
    std::vector<int32_t> ids;   // the special token's ids otherwise
  };
  using template_pieces = std::vector<piece>;

  void parse(const json& value, std::string_view where, int depth);
  void parse_template(const json& value, std::string_view where);

  std::vector<template_pieces> templates_; // applied in order
};

} // namespace proofmesh::engine
