// The filter index's postings (src/dataplane/label_set.hpp): inserts, erases and lookups against
// std::set over random operations, through growth and backward-shift deletion in dense and spread
// label ranges.
#include "label_set.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace ragwire::dataplane {
namespace {

void check_against_set(uint32_t range, int ops, uint32_t seed) {
  LabelSet s;
  std::set<uint32_t> want;
  std::mt19937 rng(seed);
  for (int i = 0; i < ops; i++) {
    const uint32_t label = rng() % range;
    if (rng() % 3 == 0) {
      EXPECT_EQ(s.erase(label), want.erase(label) == 1);
    } else {
      EXPECT_EQ(s.insert(label), want.insert(label).second);
    }
    if (i % 97 == 0) {
      const uint32_t probe = rng() % range;
      EXPECT_EQ(s.contains(probe), want.count(probe) == 1);
    }
  }
  ASSERT_EQ(s.size(), want.size());
  std::set<uint32_t> got;
  s.for_each([&got](uint32_t l) { got.insert(l); });
  EXPECT_EQ(got, want);
  for (uint32_t l : want) EXPECT_TRUE(s.contains(l));
}

TEST(LabelSet, MatchesStdSetOverRandomInsertsAndErases) {
  check_against_set(64, 20000, 1);          // dense: long probe runs, many shifts
  check_against_set(5000, 20000, 2);        // growth through several capacities
  check_against_set(0xfffffffeu, 5000, 3);  // spread over every label
}

TEST(LabelSet, EmptiesAndRefills) {
  LabelSet s;
  for (uint32_t l = 0; l < 1000; l++) EXPECT_TRUE(s.insert(l * 8));
  for (uint32_t l = 0; l < 1000; l++) EXPECT_TRUE(s.erase(l * 8));
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.erase(8));
  EXPECT_FALSE(s.contains(0));
  EXPECT_TRUE(s.insert(7));
  EXPECT_FALSE(s.insert(7));
  EXPECT_EQ(s.size(), 1u);
}

}  // namespace
}  // namespace ragwire::dataplane
