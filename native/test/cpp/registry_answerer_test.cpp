// The native data plane's RegistryAnswerer (src/dataplane/registry_answerer.cpp) over a real flat
// engine index: a plain dense query of a published collection the connection may read is answered
// with the RESULT frame result_encoder writes for the expected hits (ids from the column, a label
// without a row skipped, payloads, `exact`); everything else is declined with nothing written. The
// answers against the TypeScript path's, byte for byte, are test/src/shard-native-answers.int.test.ts.
#include "registry_answerer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "frame_builders.hpp"
#include "ragwire/thread_pool.hpp"
#include "result_encoder.hpp"

namespace ragwire::dataplane {
namespace {

using test::limits;
using test::str;

// A QUERY of one 2-d vector: { collection, n: 1, dim, k, [filter on "lang"], [options: { withPayload: true }] }.
std::vector<uint32_t> query(const std::string& collection, uint8_t dim, uint8_t k, const std::vector<float>& v,
                            bool filter, bool with_payload) {
  std::vector<uint8_t> m = {(uint8_t)(0x84 + (filter ? 1 : 0) + (with_payload ? 1 : 0))};
  str(m, "collection"), str(m, collection);
  str(m, "n"), m.push_back(1);
  str(m, "dim"), m.push_back(dim);
  str(m, "k"), m.push_back(k);
  if (filter) {
    str(m, "filter"), m.push_back(0x81), str(m, "must"), m.push_back(0x91), m.push_back(0x82);
    str(m, "key"), str(m, "lang"), str(m, "eq"), str(m, "en");
  }
  if (with_payload) str(m, "options"), m.push_back(0x81), str(m, "withPayload"), m.push_back(0xc3);
  return test::query_frame_words(m, v, 9);  // request id 9
}

IndexedField lang(const std::string& value) {
  IndexedField f;
  f.key = "lang";
  f.kind = IndexedField::Kind::kString;
  f.str = value;
  return f;
}

class RegistryAnswererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_direction(0x20, Direction::kRequest);
    set_direction(0x21, Direction::kResponse);
    IndexConfig cfg;
    cfg.dim = 2;
    cfg.kind = IndexKind::kFlat;
    std::unique_ptr<Index> index;
    ASSERT_TRUE(Index::create(cfg, &index).is_ok());
    const uint32_t labels[3] = {10, 11, 12};
    const float rows[6] = {0, 0, 1, 0, 5, 5};
    ThreadPool pool(1);
    ASSERT_TRUE(index->add(labels, rows, 3, pool).is_ok());
    engine = std::shared_ptr<Index>(std::move(index));
    registry->publish("docs", engine, PlanRules{1 << 20, 2, 0, 0, false}, ::testing::TempDir());
    // Label 11 has no row (replaced meanwhile): a search that finds it skips it.
    std::vector<std::pair<uint32_t, PublishedRow>> put;
    put.push_back({10, PublishedRow{"a", std::string("\x81\xa4text\xa1x", 8), true, {lang("en")}}});
    put.push_back({12, PublishedRow{"c", "", false, {}}});
    registry->put("docs", std::move(put));
    state.ready = true;
    state.readable = {"docs"};
  }

  // The RESULT frame the JavaScript path sends for one query (k 3, request 9) with these hits, from a
  // flat f32 index (exact); `payloads` null: asked without payloads.
  static std::vector<uint8_t> result_frame(std::vector<std::string_view> ids, std::vector<float> scores,
                                           const std::vector<std::string_view>* payloads) {
    const uint32_t counts[1] = {(uint32_t)ids.size()};
    ResultReply want;
    want.k = 3;
    want.counts = counts;
    want.n = 1;
    want.ids = ids.data();
    want.scores = scores.data();
    want.with_payloads = payloads != nullptr;
    want.payloads = payloads != nullptr ? payloads->data() : nullptr;
    want.exact = true;
    std::vector<uint8_t> frame;
    EXPECT_EQ(encode_result_frame(want, 9, limits(), frame), FrameFault::kNone);
    return frame;
  }

  bool ask(const std::vector<uint32_t>& frame, std::vector<uint8_t>& reply) {
    return answerer.answer((const uint8_t*)frame.data(), frame.size() * 4, state, reply);
  }

  std::shared_ptr<Index> engine;
  std::shared_ptr<CollectionRegistry> registry = std::make_shared<CollectionRegistry>();
  RegistryAnswerer answerer{registry, limits(), StoreCaps{100, 500}};
  ConnState state;
};

TEST_F(RegistryAnswererTest, AnswersAPlainQueryWithTheResultFrameOfItsHits) {
  std::vector<uint8_t> reply;
  ASSERT_TRUE(ask(query("docs", 2, 3, {0.9f, 0}, false, true), reply));
  // The engine's own answer: label 11 (nearest, no row: skipped), then 10 and 12.
  const float q[2] = {0.9f, 0};
  uint32_t labels[3];
  float engine_scores[3];
  SearchOptions so;
  ASSERT_TRUE(engine->search(q, 1, 3, so, labels, engine_scores, ThreadPool::shared()).is_ok());
  ASSERT_EQ(std::vector<uint32_t>(labels, labels + 3), (std::vector<uint32_t>{11, 10, 12}));
  const std::vector<std::string_view> payloads = {std::string_view("\x81\xa4text\xa1x", 8), ""};
  EXPECT_EQ(reply, result_frame({"a", "c"}, {engine_scores[1], engine_scores[2]}, &payloads));
}

TEST_F(RegistryAnswererTest, DeclinesWhatOnlyJavaScriptServesWritingNothing) {
  std::vector<uint8_t> reply;
  EXPECT_FALSE(ask(query("other", 2, 3, {0, 0}, false, false), reply));             // not published
  EXPECT_FALSE(ask(query("docs", 2, 3, {std::nanf(""), 0}, false, false), reply));  // not finite: JavaScript's error
  state.readable.clear();
  EXPECT_FALSE(ask(query("docs", 2, 3, {0, 0}, false, false), reply));  // not readable by the token
  state.read_any = true;
  registry->unpublish("docs");
  EXPECT_FALSE(ask(query("docs", 2, 3, {0, 0}, false, false), reply));  // unpublished
  EXPECT_TRUE(reply.empty());
}

TEST_F(RegistryAnswererTest, AnswersAFilteredQueryFromItsFilterIndex) {
  std::vector<uint8_t> reply;
  ASSERT_TRUE(ask(query("docs", 2, 3, {0.9f, 0}, true, false), reply));  // lang eq "en": label 10 only
  const float q[2] = {0.9f, 0};
  uint32_t labels[3];
  float engine_scores[3];
  SearchOptions so;
  ASSERT_TRUE(engine->search(q, 1, 3, so, labels, engine_scores, ThreadPool::shared()).is_ok());
  EXPECT_EQ(reply, result_frame({"a"}, {engine_scores[1]}, nullptr));  // label 10's score
}

TEST_F(RegistryAnswererTest, LeavesACollectionWithoutItsColumnToJavaScript) {
  // No directory for the column file: published, but its rows cannot be kept, so never answered.
  registry->publish("docs", engine, PlanRules{1 << 20, 2, 0, 0, false}, "/nonexistent-ragwire-dir");
  std::vector<std::pair<uint32_t, PublishedRow>> put;
  put.push_back({10, PublishedRow{"a", "", false, {}}});
  registry->put("docs", std::move(put));
  std::vector<uint8_t> reply;
  EXPECT_FALSE(ask(query("docs", 2, 3, {0.9f, 0}, false, false), reply));
  EXPECT_TRUE(reply.empty());
  // Published again where the column can live: answered.
  registry->publish("docs", engine, PlanRules{1 << 20, 2, 0, 0, false}, ::testing::TempDir());
  EXPECT_TRUE(ask(query("docs", 2, 3, {0.9f, 0}, false, false), reply));
}

}  // namespace
}  // namespace ragwire::dataplane
