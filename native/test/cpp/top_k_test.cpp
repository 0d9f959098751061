// TopK: the bounded selection every search ends in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "ragwire/top_k.hpp"

namespace {

using ragwire::Hit;
using ragwire::TopK;

TEST(TopK, KeepsTheKSmallestDistancesClosestFirst) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> u(-100.f, 100.f);
  for (size_t k : {1, 2, 7, 64, 1000}) {
    TopK top(k);
    std::vector<Hit> all;
    for (uint32_t id = 0; id < 500; id++) {
      float d = u(rng);
      top.push(d, id);
      all.push_back({d, id});
    }
    std::sort(all.begin(), all.end());
    all.resize(std::min<size_t>(k, all.size()));
    std::vector<Hit>& got = top.sorted();
    ASSERT_EQ(got.size(), all.size()) << "k=" << k;
    for (size_t i = 0; i < all.size(); i++) {
      EXPECT_EQ(got[i].id, all[i].id) << "k=" << k << " rank " << i;
      EXPECT_EQ(got[i].dist, all[i].dist);
    }
  }
}

TEST(TopK, TiesBreakByTheLowerId) {
  TopK top(3);
  for (uint32_t id : {9u, 4u, 7u, 1u, 8u}) top.push(1.f, id);
  std::vector<Hit>& got = top.sorted();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, 1u);
  EXPECT_EQ(got[1].id, 4u);
  EXPECT_EQ(got[2].id, 7u);
}

TEST(TopK, BoundIsInfiniteUntilFullThenTheKthDistance) {
  TopK top(2);
  EXPECT_TRUE(std::isinf(top.bound()));
  top.push(5.f, 1);
  EXPECT_TRUE(std::isinf(top.bound()));
  EXPECT_FALSE(top.full());
  top.push(3.f, 2);
  EXPECT_TRUE(top.full());
  EXPECT_EQ(top.bound(), 5.f);
  top.push(4.f, 3);
  EXPECT_EQ(top.bound(), 4.f);
  top.push(9.f, 4);  // worse than the bound: ignored
  EXPECT_EQ(top.bound(), 4.f);
}

TEST(TopK, ZeroCapacityKeepsNothing) {
  TopK top(0);
  top.push(1.f, 1);
  EXPECT_EQ(top.size(), 0u);
  EXPECT_TRUE(top.sorted().empty());
}

TEST(TopK, MergeEqualsOneSelectionOverBothInputs) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  TopK a(10), b(10), both(10);
  for (uint32_t id = 0; id < 300; id++) {
    float d = u(rng);
    (id % 3 ? a : b).push(d, id);
    both.push(d, id);
  }
  a.merge(b);
  std::vector<Hit> got = a.sorted(), want = both.sorted();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); i++) EXPECT_EQ(got[i].id, want[i].id);
}

TEST(TopK, ResetEmptiesForReuse) {
  TopK top(2);
  top.push(1.f, 1);
  top.push(2.f, 2);
  top.sorted();
  top.reset(3);
  EXPECT_EQ(top.size(), 0u);
  EXPECT_EQ(top.capacity(), 3u);
  top.push(7.f, 7);
  EXPECT_EQ(top.sorted().front().id, 7u);
}

}  // namespace
