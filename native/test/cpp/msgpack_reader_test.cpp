// The native data plane's msgpack subset reader (src/dataplane/msgpack_reader.cpp) at its edges:
// the refusals of packages/protocol/src/msgpack.ts, with the same codes, and the values as
// JavaScript would see them.
#include "msgpack_reader.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace ragwire::dataplane {
namespace {

using Bytes = std::vector<uint8_t>;
using Kind = MsgpackNode::Kind;

// The section is kept beside its document: the document's strings view it.
struct Read {
  Bytes bytes;
  FrameFault fault;
  MsgpackDoc doc;
  int64_t nodes_left;
};

Read read(const Bytes& b, int64_t budget = 1000, uint32_t depth = 32) {
  Read r;
  r.bytes = b;
  NodeBudget nodes{budget};
  r.fault = read_msgpack(r.bytes.data(), 0, r.bytes.size(), nodes, depth, r.doc);
  r.nodes_left = nodes.nodes;
  return r;
}

FrameFault fault_of(const Bytes& b, int64_t budget = 1000, uint32_t depth = 32) { return read(b, budget, depth).fault; }

TEST(MsgpackReader, DecodesScalarsAsJavaScriptNumbers) {
  Read r = read({0x95, 0x7f, 0xe0, 0xc0, 0xc3, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  ASSERT_EQ(r.fault, FrameFault::kNone);
  ASSERT_EQ(r.doc.nodes.size(), 6u);
  EXPECT_EQ(r.doc.nodes[0].kind, Kind::kArray);
  EXPECT_EQ(r.doc.nodes[0].count, 5u);
  EXPECT_EQ(r.doc.nodes[1].number, 127);
  EXPECT_EQ(r.doc.nodes[2].number, -32);
  EXPECT_EQ(r.doc.nodes[3].kind, Kind::kNil);
  EXPECT_TRUE(r.doc.nodes[4].boolean);
  EXPECT_EQ(r.doc.nodes[5].number, 18446744073709551616.0);  // u64 max rounds as msgpackr's hi * 2^32 + lo
  EXPECT_EQ(read({0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}).doc.nodes[0].number, -2);
  EXPECT_EQ(read({0xd1, 0x80, 0x00}).doc.nodes[0].number, -32768);
}

TEST(MsgpackReader, IntegerFloatsAreIntegers) {
  Read three = read({0xca, 0x40, 0x40, 0x00, 0x00});  // float32 3.0
  ASSERT_EQ(three.fault, FrameFault::kNone);
  EXPECT_TRUE(three.doc.nodes[0].is_integer());
  Read half = read({0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0});  // float64 0.5
  EXPECT_EQ(half.doc.nodes[0].number, 0.5);
  EXPECT_FALSE(half.doc.nodes[0].is_integer());
}

TEST(MsgpackReader, RefusesNonFiniteFloats) {
  EXPECT_EQ(fault_of({0xca, 0x7f, 0xc0, 0x00, 0x00}), FrameFault::kBadFrame);                      // float32 NaN
  EXPECT_EQ(fault_of({0xca, 0xff, 0x80, 0x00, 0x00}), FrameFault::kBadFrame);                      // float32 -Infinity
  EXPECT_EQ(fault_of({0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0}), FrameFault::kBadFrame);                // float64 Infinity
  EXPECT_EQ(fault_of({0xcb, 0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), FrameFault::kNone);  // largest finite
}

TEST(MsgpackReader, RefusesBinExtAndReservedTypes) {
  for (uint8_t t : {0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8}) {
    EXPECT_EQ(fault_of({t, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                        0x00, 0x00}),
              FrameFault::kBadFrame)
        << "type " << (int)t;
  }
}

TEST(MsgpackReader, RefusesEmptyTruncatedAndTrailingSections) {
  EXPECT_EQ(fault_of({}), FrameFault::kBadFrame);
  EXPECT_EQ(fault_of({0xcd, 0x01}), FrameFault::kBadFrame);              // u16 missing a byte
  EXPECT_EQ(fault_of({0xd9, 0x05, 'a', 'b'}), FrameFault::kBadFrame);    // str8 of 5, 2 present
  EXPECT_EQ(fault_of({0xdb, 0xff, 0xff, 0xff}), FrameFault::kBadFrame);  // str32 length cut
  EXPECT_EQ(fault_of({0x92, 0x01}), FrameFault::kBadFrame);              // array of 2, 1 present
  EXPECT_EQ(fault_of({0x01, 0x02}), FrameFault::kBadFrame);              // a second value
  EXPECT_EQ(fault_of({0xa1, 'a'}), FrameFault::kNone);
}

TEST(MsgpackReader, RefusesCountsTheBytesLeftCannotBackBeforeAllocating) {
  Read huge = read({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02});  // array32 of 2^32 - 1
  EXPECT_EQ(huge.fault, FrameFault::kBadFrame);
  EXPECT_EQ(huge.doc.nodes.capacity(), 0u);
  // A map needs two bytes an entry: 4 entries cannot fit in the 6 bytes from its header on.
  EXPECT_EQ(fault_of({0x84, 0xa0, 0x01, 0xa0, 0x02, 0xa0}), FrameFault::kBadFrame);
  EXPECT_EQ(fault_of({0xde, 0x00, 0x40, 0xa0, 0x01}), FrameFault::kBadFrame);
}

TEST(MsgpackReader, LimitsDepthAsTheTypeScriptReader) {
  // maxDepth 3: a scalar at depth 3 is fine, a container at depth 3 is refused.
  EXPECT_EQ(fault_of({0x91, 0x91, 0x01}, 1000, 3), FrameFault::kNone);
  EXPECT_EQ(fault_of({0x91, 0x91, 0x91, 0x01}, 1000, 3), FrameFault::kBadFrame);
  EXPECT_EQ(fault_of({0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x90}, 1000, 3), FrameFault::kBadFrame);
  // Deep nesting ends at the limit without recursing further.
  Bytes deep(100000, 0x91);
  deep.push_back(0x01);
  EXPECT_EQ(fault_of(deep, 1 << 20, 256), FrameFault::kBadFrame);
}

TEST(MsgpackReader, ChargesValuesAndKeysToTheBudget) {
  Bytes map = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x92, 0x02, 0x03};  // 1 map + 2 keys + 4 values = 7
  Read exact = read(map, 7);
  EXPECT_EQ(exact.fault, FrameFault::kNone);
  EXPECT_EQ(exact.nodes_left, 0);
  EXPECT_EQ(fault_of(map, 6), FrameFault::kLimit);
  // The budget runs out before the bad byte is reached: the limit is what TS reports too.
  EXPECT_EQ(fault_of({0x93, 0x01, 0x02, 0xc1}, 3), FrameFault::kLimit);
  EXPECT_EQ(fault_of({0x93, 0x01, 0xc1, 0x02}, 3), FrameFault::kBadFrame);
}

TEST(MsgpackReader, RefusesProtoAndNonStringKeys) {
  Bytes proto = {0x81, 0xa9, '_', '_', 'p', 'r', 'o', 't', 'o', '_', '_', 0x01};
  EXPECT_EQ(fault_of(proto), FrameFault::kBadFrame);
  Bytes proto8 = {0x81, 0xd9, 0x09, '_', '_', 'p', 'r', 'o', 't', 'o', '_', '_', 0x01};
  EXPECT_EQ(fault_of(proto8), FrameFault::kBadFrame);
  EXPECT_EQ(fault_of({0x81, 0xa8, '_', '_', 'p', 'r', 'o', 't', 'o', '_', 0x01}), FrameFault::kNone);
  EXPECT_EQ(fault_of({0x81, 0x01, 0x02}), FrameFault::kBadFrame);
  EXPECT_EQ(fault_of({0x81, 0xc0, 0x02}), FrameFault::kBadFrame);
}

TEST(MsgpackReader, RepeatedKeysKeepTheLastValueAndCountOnce) {
  Read r = read({0x83, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02, 0xa1, 'a', 0x03});
  ASSERT_EQ(r.fault, FrameFault::kNone);
  EXPECT_EQ(r.doc.nodes[r.doc.find(0, "a")].number, 3);
  EXPECT_EQ(r.doc.find(0, "c"), -1);
  EXPECT_EQ(r.doc.distinct_keys(0), 2u);
  // A large map counts through the hash table.
  Bytes big = {0xde, 0x00, 40};
  for (int i = 0; i < 40; i++) big.insert(big.end(), {0xa1, (uint8_t)('a' + i % 20), (uint8_t)i});
  Read b = read(big);
  ASSERT_EQ(b.fault, FrameFault::kNone);
  EXPECT_EQ(b.doc.distinct_keys(0), 20u);
  EXPECT_EQ(b.doc.nodes[b.doc.find(0, "a")].number, 20);
}

TEST(MsgpackReader, KeepsEachValuesBytes) {
  Bytes b = {0x82, 0xa1, 'f', 0x91, 0xc3, 0xa1, 'g', 0x05};
  Read r = read(b);
  ASSERT_EQ(r.fault, FrameFault::kNone);
  const MsgpackNode& f = r.doc.nodes[r.doc.find(0, "f")];
  EXPECT_EQ(f.bytes, r.bytes.data() + 3);
  EXPECT_EQ(f.bytes_length, 2u);
  EXPECT_EQ(r.doc.nodes[0].bytes_length, b.size());
}

TEST(MsgpackReader, FlagsStringsThatAreNotWellFormedUtf8) {
  EXPECT_TRUE(read({0xa2, 0xc3, 0xbc}).doc.well_formed_utf8);         // ü
  EXPECT_FALSE(read({0xa2, 0xc1, 0x81}).doc.well_formed_utf8);        // overlong 'A'
  EXPECT_FALSE(read({0xa3, 0xed, 0xa0, 0x80}).doc.well_formed_utf8);  // a surrogate
  EXPECT_FALSE(read({0x81, 0xa1, 0xff, 0x01}).doc.well_formed_utf8);  // in a key
  EXPECT_FALSE(read({0xa2, 0xc3, 0x41}).doc.well_formed_utf8);        // a lead byte without continuation
  EXPECT_FALSE(is_well_formed_utf8("\xf4\x90\x80\x80"));              // past U+10FFFF
  EXPECT_TRUE(is_well_formed_utf8("\xf0\x9f\x98\x80"));
}

TEST(MsgpackReader, MeasuresStringsInUtf16Units) {
  EXPECT_EQ(utf16_length(""), 0u);
  EXPECT_EQ(utf16_length("abc"), 3u);
  EXPECT_EQ(utf16_length("\xc3\xbc\xe2\x82\xac"), 2u);  // ü€
  EXPECT_EQ(utf16_length("\xf0\x9f\x98\x80"), 2u);      // one astral code point, a surrogate pair
}

}  // namespace
}  // namespace ragwire::dataplane
