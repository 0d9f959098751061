// The native QUERY decoder (src/dataplane/query_decoder.cpp) on a hand-built frame, and on every
// truncation and single-bit flip of it: a verdict each time, never a read outside the frame (the
// sanitizer build checks that). The verdicts themselves are compared with the TypeScript decoder's
// by native/test/query-decoder-diff.int.test.ts.
#include "query_decoder.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "frame_builders.hpp"

namespace ragwire::dataplane {
namespace {

using test::limits;
using test::str;

// { collection: "docs", n: 2, dim: 2, k: 3, filter: { must: [{ key: "lang", eq: "en" }] },
//   options: { efSearch: 40 } } with 2 x 2 floats.
std::vector<uint32_t> query_frame() {
  std::vector<uint8_t> m = {0x86};
  str(m, "collection"), str(m, "docs");
  str(m, "n"), m.push_back(2);
  str(m, "dim"), m.push_back(2);
  str(m, "k"), m.push_back(3);
  str(m, "filter"), m.push_back(0x81), str(m, "must"), m.push_back(0x91), m.push_back(0x82);
  str(m, "key"), str(m, "lang"), str(m, "eq"), str(m, "en");
  str(m, "options"), m.push_back(0x81), str(m, "efSearch"), m.push_back(40);
  return test::query_frame_words(m, {1, 2, 3, 4}, 7);
}

class QueryDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override { set_direction(0x20, Direction::kRequest); }
};

TEST_F(QueryDecoderTest, DecodesAQueryWithViewsIntoTheFrame) {
  std::vector<uint32_t> words = query_frame();
  QueryView q;
  const QueryDecode d = decode_query_frame((const uint8_t*)words.data(), words.size() * 4, limits(), false, q);
  ASSERT_EQ(d.verdict, Verdict::kQuery) << fault_code(d.fault);
  EXPECT_EQ(d.request_id, 7u);
  EXPECT_EQ(q.collection, "docs");
  EXPECT_EQ(q.n, 2u);
  EXPECT_EQ(q.dim, 2u);
  EXPECT_EQ(q.k, 3u);
  EXPECT_EQ(q.vectors[3], 4.0f);
  EXPECT_EQ((const uint8_t*)(q.vectors + 4), (const uint8_t*)words.data() + words.size() * 4);
  ASSERT_TRUE(q.has_filter);
  ASSERT_EQ(q.filter.conditions.size(), 1u);
  EXPECT_EQ(q.filter.conditions[0].key, "lang");
  EXPECT_EQ(q.filter.values[0].str, "en");
  EXPECT_EQ(q.filter.raw[0], 0x81);
  ASSERT_TRUE(q.options && q.options->ef_search);
  EXPECT_EQ(*q.options->ef_search, 40u);
}

TEST_F(QueryDecoderTest, RefusesLimitsAndUnknownOptionsWithTheirCodes) {
  std::vector<uint32_t> words = query_frame();
  ProtocolLimits small = limits();
  small.max_k = 2;
  QueryView q;
  EXPECT_EQ(decode_query_frame((const uint8_t*)words.data(), words.size() * 4, small, false, q).fault,
            FrameFault::kLimit);
  auto* b = (uint8_t*)words.data();
  uint8_t* option = (uint8_t*)std::memchr(b + 16, 'e', words.size() * 4 - 16);
  while (option != nullptr && std::memcmp(option, "efSearch", 8) != 0)
    option = (uint8_t*)std::memchr(option + 1, 'e', b + words.size() * 4 - option - 1);
  ASSERT_NE(option, nullptr);
  option[0] = 'E';
  EXPECT_EQ(decode_query_frame(b, words.size() * 4, limits(), false, q).fault, FrameFault::kUnknownOption);
}

TEST_F(QueryDecoderTest, EveryTruncationAndBitFlipGetsAVerdict) {
  const std::vector<uint32_t> original = query_frame();
  const size_t bytes = original.size() * 4;
  QueryView q;
  size_t decoded = 0, refused = 0;
  for (size_t cut = 0; cut < bytes; cut++) {
    // A buffer of exactly `cut` bytes, so a read past it is a sanitizer finding.
    std::vector<uint32_t> words(original.begin(), original.begin() + (cut + 3) / 4);
    std::vector<uint8_t> frame((const uint8_t*)words.data(), (const uint8_t*)words.data() + cut);
    const QueryDecode d = decode_query_frame(frame.data(), cut, limits(), false, q);
    EXPECT_EQ(d.verdict, Verdict::kFault);
  }
  for (size_t bit = 0; bit < bytes * 8; bit++) {
    std::vector<uint32_t> words = original;
    ((uint8_t*)words.data())[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    const QueryDecode d = decode_query_frame((const uint8_t*)words.data(), bytes, limits(), true, q);
    (d.verdict == Verdict::kQuery ? decoded : refused)++;
  }
  EXPECT_GT(decoded, 0u);  // flips in the vectors leave a valid query
  EXPECT_GT(refused, 0u);
}

}  // namespace
}  // namespace ragwire::dataplane
