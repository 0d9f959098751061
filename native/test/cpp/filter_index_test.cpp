// The native filter index (src/dataplane/filter_index.cpp): eq, in, range and exists over strings,
// numbers and booleans, must / should / must_not combined as packages/store/src/filter-index.ts
// combines them, writes that add, replace and remove labels. The answers
// against the TypeScript index, byte for byte over real queries, are
// test/src/shard-native-filters.int.test.ts.
#include "filter_index.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace ragwire::dataplane {
namespace {

IndexedField str(const std::string& key, const std::string& v) {
  IndexedField f;
  f.key = key;
  f.kind = IndexedField::Kind::kString;
  f.str = v;
  return f;
}

IndexedField num(const std::string& key, double v) {
  IndexedField f;
  f.key = key;
  f.kind = IndexedField::Kind::kNumber;
  f.number = v;
  return f;
}

IndexedField boolean(const std::string& key, bool v) {
  IndexedField f;
  f.key = key;
  f.kind = IndexedField::Kind::kBool;
  f.boolean = v;
  return f;
}

IndexedField marked(const std::string& key, IndexedField::Kind kind) {
  IndexedField f;
  f.key = key;
  f.kind = kind;
  return f;
}

// Builds a Filter the way read_filter lays one out (must first, then should, then must_not).
class FilterBuilder {
 public:
  FilterBuilder& eq(Clause c, const char* key, FilterValue v) { return values(c, FilterOp::kEq, key, {v}); }
  FilterBuilder& in(Clause c, const char* key, std::vector<FilterValue> vs) {
    return values(c, FilterOp::kIn, key, vs);
  }
  FilterBuilder& range(Clause c, const char* key, uint8_t bounds, std::vector<double> b) {
    Condition x = base(c, FilterOp::kRange, key);
    x.bounds = bounds;
    for (int i = 0; i < 4; i++) x.bound[i] = b[i];
    return push(x);
  }
  FilterBuilder& exists(Clause c, const char* key, bool e) {
    Condition x = base(c, FilterOp::kExists, key);
    x.exists = e;
    return push(x);
  }
  Filter build() {
    Filter f;
    f.values = values_;
    for (Clause c : {Clause::kMust, Clause::kShould, Clause::kMustNot})
      for (const Condition& x : conditions_)
        if (x.clause == c) f.conditions.push_back(x), f.present[(int)c] = true;
    return f;
  }

 private:
  static Condition base(Clause c, FilterOp op, const char* key) {
    Condition x;
    x.clause = c;
    x.op = op;
    x.key = key;
    return x;
  }
  FilterBuilder& values(Clause c, FilterOp op, const char* key, const std::vector<FilterValue>& vs) {
    Condition x = base(c, op, key);
    x.values_begin = (uint32_t)values_.size();
    x.values_count = (uint32_t)vs.size();
    values_.insert(values_.end(), vs.begin(), vs.end());
    return push(x);
  }
  FilterBuilder& push(const Condition& x) {
    conditions_.push_back(x);
    return *this;
  }
  std::vector<Condition> conditions_;
  std::vector<FilterValue> values_;
};

FilterValue s(const char* v) {
  FilterValue x;
  x.kind = FilterValue::Kind::kString;
  x.str = v;
  return x;
}

FilterValue n(double v) {
  FilterValue x;
  x.kind = FilterValue::Kind::kNumber;
  x.number = v;
  return x;
}

FilterValue b(bool v) {
  FilterValue x;
  x.kind = FilterValue::Kind::kBool;
  x.boolean = v;
  return x;
}

class FilterIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    put(0, {str("lang", "en"), num("year", 2020), boolean("draft", false)});
    put(1, {str("lang", "de"), num("year", 2021), str("tags", "a"), str("tags", "b")});
    put(2, {str("lang", "en"), num("year", 2022), num("n", 1), str("author.name", "x")});
    put(3, {boolean("n", true), num("year", -0.0)});
    put(4, {});  // no metadata
    put(9, {marked("body", IndexedField::Kind::kPresent), num("n", 0)});
  }

  void put(uint32_t label, std::vector<IndexedField> fields) { index.add(label, std::move(fields)); }

  void remove(uint32_t label) { index.remove(label); }

  // The labels `f` allows.
  std::set<uint32_t> allowed(const Filter& f) {
    std::vector<uint8_t> bits;
    index.evaluate(f, bits);
    EXPECT_EQ(bits.size(), (index.label_bound() >> 3) + 1);
    std::set<uint32_t> out;
    for (uint32_t l = 0; l < bits.size() * 8; l++)
      if ((bits[l >> 3] >> (l & 7)) & 1) out.insert(l);
    return out;
  }

  FilterIndex index;
};

using Set = std::set<uint32_t>;

TEST_F(FilterIndexTest, EqAndInCompareStringsNumbersAndBooleansEachByItsOwnKind) {
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "lang", s("en")).build()), (Set{0, 2}));
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "tags", s("b")).build()), (Set{1}));  // any array element
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "n", n(1)).build()), (Set{2}));       // not true
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "n", b(true)).build()), (Set{3}));    // not 1
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "year", n(0)).build()), (Set{3}));    // 0 is -0
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "draft", b(false)).build()), (Set{0}));
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "author.name", s("x")).build()), (Set{2}));
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "missing", s("x")).build()), (Set{}));
  EXPECT_EQ(allowed(FilterBuilder().in(Clause::kMust, "lang", {s("de"), s("fr"), n(2020)}).build()), (Set{1}));
  EXPECT_EQ(allowed(FilterBuilder().in(Clause::kMust, "year", {n(2020), n(2022)}).build()), (Set{0, 2}));
  EXPECT_EQ(allowed(FilterBuilder().in(Clause::kMust, "year", {}).build()), (Set{}));
}

TEST_F(FilterIndexTest, RangesKeepEveryBoundAsTheStoreTestsThem) {
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b0001, {2020, 0, 0, 0}).build()), (Set{1, 2}));
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b0010, {0, 2020, 0, 0}).build()), (Set{0, 1, 2}));
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b0100, {0, 0, 2021, 0}).build()), (Set{0, 3}));
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b1000, {0, 0, 0, 2021}).build()), (Set{0, 1, 3}));
  // gt and gte together: the stricter; an empty interval: none.
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b0011, {2021, 2020, 0, 0}).build()), (Set{2}));
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b0011, {2020, 2022, 0, 0}).build()), (Set{2}));
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b1010, {0, 2022, 0, 2020}).build()), (Set{}));
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b0110, {0, -1, 1, 0}).build()), (Set{3}));
  // Only numbers: the boolean and the strings of a field never fall in a range.
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "n", 0b0010, {0, -10, 0, 0}).build()), (Set{2, 9}));
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "lang", 0b0010, {0, -1e300, 0, 0}).build()), (Set{}));
}

TEST_F(FilterIndexTest, ExistsSeesValuesTooLongToCompareAndNotExistsStartsFromTheLiveLabels) {
  EXPECT_EQ(allowed(FilterBuilder().exists(Clause::kMust, "body", true).build()), (Set{9}));
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "body", s("")).build()), (Set{}));
  EXPECT_EQ(allowed(FilterBuilder().exists(Clause::kMust, "tags", false).build()), (Set{0, 2, 3, 4, 9}));
  EXPECT_EQ(allowed(FilterBuilder().exists(Clause::kMust, "missing", false).build()), (Set{0, 1, 2, 3, 4, 9}));
}

TEST_F(FilterIndexTest, CombinesMustShouldAndMustNot) {
  // must and should: both; should alone: any; must_not alone: the live labels less the matches.
  EXPECT_EQ(allowed(FilterBuilder()
                        .eq(Clause::kMust, "lang", s("en"))
                        .eq(Clause::kShould, "year", n(2022))
                        .eq(Clause::kShould, "draft", b(false))
                        .build()),
            (Set{0, 2}));
  EXPECT_EQ(allowed(FilterBuilder()
                        .eq(Clause::kMust, "lang", s("en"))
                        .range(Clause::kMust, "year", 0b0001, {2020, 0, 0, 0})
                        .build()),
            (Set{2}));
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kShould, "lang", s("de")).exists(Clause::kShould, "n", true).build()),
            (Set{1, 2, 3, 9}));
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMustNot, "lang", s("en")).build()), (Set{1, 3, 4, 9}));
  EXPECT_EQ(allowed(FilterBuilder()
                        .exists(Clause::kMust, "year", true)
                        .eq(Clause::kMustNot, "lang", s("en"))
                        .exists(Clause::kMustNot, "tags", true)
                        .build()),
            (Set{3}));
  EXPECT_EQ(allowed(FilterBuilder().build()), (Set{0, 1, 2, 3, 4, 9}));  // no condition: every live label
}

TEST_F(FilterIndexTest, WritesReplaceAndRemoveLabels) {
  put(0, {str("lang", "fr")});  // replaced
  remove(2);
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "lang", s("en")).build()), (Set{}));
  EXPECT_EQ(allowed(FilterBuilder().eq(Clause::kMust, "lang", s("fr")).build()), (Set{0}));
  EXPECT_EQ(allowed(FilterBuilder().exists(Clause::kMust, "year", true).build()), (Set{1, 3}));
  remove(1);
  remove(3);
  remove(9);
  EXPECT_EQ(index.indexed(), 1u);                            // label 0; 4 had no pairs
  EXPECT_EQ(allowed(FilterBuilder().build()), (Set{0, 4}));  // the live labels
  EXPECT_EQ(index.label_bound(), 10u);
  EXPECT_EQ(index.fields(), 1u);  // a field no label has any more is gone
  EXPECT_EQ(allowed(FilterBuilder().range(Clause::kMust, "year", 0b0010, {0, -1e300, 0, 0}).build()), (Set{}));
}

}  // namespace
}  // namespace ragwire::dataplane
