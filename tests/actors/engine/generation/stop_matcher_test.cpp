#include "actors/engine/generation/stop_matcher.hpp"

#include <gtest/gtest.h>

namespace proofmesh::engine {
namespace {

TEST(stop_matcher, finds_earliest_stop_including_across_the_boundary) {
  stop_matcher m({"END", "\n\n"});
  EXPECT_EQ(m.find("abc EN", 0), std::nullopt);
  EXPECT_EQ(m.find("abc END more", 5), std::optional<size_t>(4));
  EXPECT_EQ(m.find("x\n\ny END", 0), std::optional<size_t>(1));
}

TEST(stop_matcher, holds_back_possible_stop_prefixes) {
  stop_matcher m({"</answer>"});
  EXPECT_EQ(m.safe_length("hello </ans"), 6u);
  EXPECT_EQ(m.safe_length("hello <"), 6u);
  EXPECT_EQ(m.safe_length("hello"), 5u);
  stop_matcher none({});
  EXPECT_EQ(none.safe_length("abc<"), 4u);
}

} // namespace
} // namespace proofmesh::engine
