// Whole-frame buffering in the native data plane: FrameSplitter keeps the frames asked for whole and
// passes every other byte on in stream order, whatever the chunks; the TCP loop offers a ready
// connection's QUERY frames to its answerer, sends the answers itself and hands declined frames,
// and every frame of a connection not marked ready, to JavaScript in order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "loop_harness.hpp"

namespace {

using namespace ragwire::dataplane;
using namespace ragwire::dataplane::testing;

struct Split {
  std::vector<uint8_t> passed;
  std::vector<std::vector<uint8_t>> kept;
  std::vector<uint32_t> order;  // request ids as they came out, passed or kept
};

// Feeds `stream` in chunks of `chunk` bytes, keeping QUERY frames of at most `keep_max` bytes.
Split split(const std::vector<uint8_t>& stream, size_t chunk, uint64_t keep_max, size_t* taken_total = nullptr) {
  Split out;
  FrameSplitter s;
  size_t taken = 0;
  for (size_t off = 0; off < stream.size(); off += chunk) {
    const size_t n = std::min(chunk, stream.size() - off);
    taken += s.feed(
        stream.data() + off, n, 1 << 20,
        [&](const HeaderCheck& h) {
          const bool keep = h.fault == FrameFault::kNone && h.type == 0x20 && h.frame_bytes <= keep_max;
          if (!keep) out.order.push_back(h.request_id);
          return keep;
        },
        [&](const uint8_t* p, size_t bytes) { out.passed.insert(out.passed.end(), p, p + bytes); },
        [&](std::vector<uint8_t>& f) {
          EXPECT_EQ(reinterpret_cast<uintptr_t>(f.data()) % 4, 0u);
          uint32_t id;
          std::memcpy(&id, f.data() + 8, 4);
          out.order.push_back(id);
          out.kept.push_back(f);
          f.clear();
        });
    if (s.broken) break;
  }
  if (taken_total != nullptr) *taken_total = taken;
  return out;
}

std::vector<uint8_t> concat(const std::vector<std::vector<uint8_t>>& frames) {
  std::vector<uint8_t> out;
  for (auto& f : frames) out.insert(out.end(), f.begin(), f.end());
  return out;
}

TEST(FrameSplitter, KeepsQueryFramesWholeAndPassesTheRestInOrderWhateverTheChunks) {
  set_directions();
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 1; i <= 9; i++) frames.push_back(frame(i % 3 == 0 ? 0x01 : 0x20, i, i == 5 ? 400 : 12 + 8 * i));
  const auto stream = concat(frames);
  std::vector<uint8_t> want_passed;
  std::vector<std::vector<uint8_t>> want_kept;
  for (uint32_t i = 1; i <= 9; i++) {
    const auto& f = frames[i - 1];
    if (i % 3 == 0 || f.size() > 256)
      want_passed.insert(want_passed.end(), f.begin(), f.end());
    else
      want_kept.push_back(f);
  }
  for (size_t chunk : {size_t(1), size_t(5), size_t(12), size_t(13), size_t(100), stream.size()}) {
    const Split s = split(stream, chunk, 256);
    EXPECT_EQ(s.passed, want_passed) << "chunk " << chunk;
    EXPECT_EQ(s.kept, want_kept) << "chunk " << chunk;
    EXPECT_EQ(s.order, (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9})) << "chunk " << chunk;
  }
}

TEST(FrameSplitter, KeepingNothingPassesTheStreamUnchanged) {
  set_directions();
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 1; i <= 5; i++) frames.push_back(frame(i % 2 ? 0x20 : 0x01, i, 12 + 4 * i));
  const auto stream = concat(frames);
  for (size_t chunk : {size_t(1), size_t(7), stream.size()}) {
    const Split s = split(stream, chunk, 0);
    EXPECT_EQ(s.passed, stream);
    EXPECT_TRUE(s.kept.empty());
    EXPECT_EQ(s.order, (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  }
}

TEST(FrameSplitter, StopsAtAFatalHeaderAfterPassingIt) {
  set_directions();
  auto good = frame(0x20, 1, 16);
  auto bad = frame(0x20, 2, 16);
  const uint32_t huge = 100u << 20;
  std::memcpy(bad.data(), &huge, 4);  // past the frame limit: the length cannot be trusted
  const std::vector<uint8_t> stream = concat({good, bad});
  size_t taken = 0;
  const Split s = split(stream, stream.size(), 1 << 20, &taken);
  EXPECT_EQ(taken, good.size() + kHeaderBytes);
  EXPECT_EQ(s.kept, (std::vector<std::vector<uint8_t>>{good}));
  EXPECT_EQ(s.passed, std::vector<uint8_t>(bad.begin(), bad.begin() + kHeaderBytes));
}

// Answers a QUERY frame whose request id is even with a 16-byte frame naming it; declines odd ones.
// Counts the readable collections it was shown, to see the connection's state arrive.
struct EvenAnswerer : QueryAnswerer {
  std::atomic<int> calls{0};
  std::atomic<bool> saw_trace{false};
  bool answer(const uint8_t* f, size_t bytes, const ConnState& state, std::vector<uint8_t>& reply) override {
    calls++;
    if (state.trace_on) saw_trace = true;
    uint32_t id;
    std::memcpy(&id, f + 8, 4);
    if (id % 2 != 0 || !state.may_read("docs")) return false;
    auto r = frame(0x21, id, 16);
    const uint32_t size = (uint32_t)bytes;
    std::memcpy(r.data() + 12, &size, 4);
    reply.insert(reply.end(), r.begin(), r.end());
    return true;
  }
};

// Reads `bytes` bytes from `fd`.
std::vector<uint8_t> read_exactly(int fd, size_t bytes) {
  std::vector<uint8_t> got(bytes);
  size_t n = 0;
  while (n < bytes) {
    ssize_t r = read(fd, got.data() + n, bytes - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  got.resize(n);
  return got;
}

void write_slowly(int fd, const std::vector<uint8_t>& bytes, size_t chunk) {
  for (size_t off = 0; off < bytes.size(); off += chunk) {
    const size_t n = std::min(chunk, bytes.size() - off);
    ASSERT_EQ(write(fd, bytes.data() + off, n), (ssize_t)n);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(TcpLoopAnswers, EveryFrameGoesToJavaScriptUntilTheConnectionIsReady) {
  Harness h;
  auto answerer = std::make_shared<EvenAnswerer>();
  h.loop->set_answerer(answerer);
  int fd = h.connect_client();
  auto q = frame(0x20, 2, 64);
  ASSERT_EQ(write(fd, q.data(), q.size()), (ssize_t)q.size());
  while (h.data_bytes() < q.size()) ASSERT_TRUE(h.wait_for(LoopEventKind::kData));
  EXPECT_EQ(answerer->calls.load(), 0);
  EXPECT_EQ(h.loop->stats().answered, 0u);
  ::close(fd);
}

TEST(TcpLoopAnswers, AnswersKeptFramesAndPassesTheRestInStreamOrder) {
  LoopOptions options;
  options.serve.keep_frame_bytes = 256;
  Harness h(options);
  auto answerer = std::make_shared<EvenAnswerer>();
  h.loop->set_answerer(answerer);
  int fd = h.connect_client();
  ASSERT_TRUE(h.wait_for(LoopEventKind::kAccept));
  const uint64_t conn = h.seen.front().conn;
  ConnState state;
  state.ready = true;
  state.readable = {"docs"};
  h.loop->set_state(conn, state);
  // Even QUERY ids of at most 256 bytes are answered here; odd ones, larger ones and HELLOs go on.
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint8_t> want_js;
  std::vector<uint32_t> want_answered;
  for (uint32_t i = 1; i <= 40; i++) {
    const bool hello = i % 5 == 0;
    const uint32_t bytes = i % 7 == 0 ? 1024 : 16 + 4 * (i % 11);
    frames.push_back(frame(hello ? 0x01 : 0x20, i, bytes));
    if (!hello && i % 2 == 0 && bytes <= 256)
      want_answered.push_back(i);
    else
      want_js.insert(want_js.end(), frames.back().begin(), frames.back().end());
  }
  write_slowly(fd, concat(frames), 13);  // headers and bodies split across reads
  const auto replies = read_exactly(fd, 16 * want_answered.size());
  ASSERT_EQ(replies.size(), 16 * want_answered.size());
  for (size_t j = 0; j < want_answered.size(); j++) {
    uint32_t id, size;
    std::memcpy(&id, replies.data() + 16 * j + 8, 4);
    std::memcpy(&size, replies.data() + 16 * j + 12, 4);
    EXPECT_EQ(id, want_answered[j]);
    EXPECT_EQ(size, 16 + 4 * (id % 11));  // the answerer saw the whole frame
  }
  while (h.data_bytes() < want_js.size()) ASSERT_TRUE(h.wait_for(LoopEventKind::kData));
  std::vector<uint8_t> got_js;
  for (auto& e : h.seen)
    if (e.kind == LoopEventKind::kData) got_js.insert(got_js.end(), e.data->begin(), e.data->end());
  EXPECT_EQ(got_js, want_js);
  const TcpLoop::Stats s = h.loop->stats();
  EXPECT_EQ(s.answered, want_answered.size());
  EXPECT_EQ(s.frames, 40u);
  ::close(fd);
}

// EvenAnswerer that takes 10 ms over each id divisible by 4.
struct SlowFourthsAnswerer : EvenAnswerer {
  bool answer(const uint8_t* f, size_t bytes, const ConnState& state, std::vector<uint8_t>& reply) override {
    uint32_t id;
    std::memcpy(&id, f + 8, 4);
    if (id % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return EvenAnswerer::answer(f, bytes, state, reply);
  }
};

TEST(TcpLoopAnswers, TimesEachAnswerIntoTheGivenBuckets) {
  LoopOptions options;
  options.serve.answer_time_bounds_ns = {4'000'000, 1'000'000'000};  // 4 ms, 1 s
  Harness h(options);
  auto answerer = std::make_shared<SlowFourthsAnswerer>();
  h.loop->set_answerer(answerer);
  int fd = h.connect_client();
  ASSERT_TRUE(h.wait_for(LoopEventKind::kAccept));
  ConnState state;
  state.ready = true;
  state.readable = {"docs"};
  h.loop->set_state(h.seen.front().conn, state);
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 1; i <= 16; i++) frames.push_back(frame(0x20, i, 32));  // 8 answered, 4 of them slow
  const auto all = concat(frames);
  ASSERT_EQ(write(fd, all.data(), all.size()), (ssize_t)all.size());
  ASSERT_EQ(read_exactly(fd, 16 * 8).size(), 16u * 8);
  const TcpLoop::Stats s = h.loop->stats();
  EXPECT_EQ(s.answered, 8u);
  ASSERT_GE(s.answer_times.size(), 3u);
  EXPECT_EQ(s.answer_times[0], 4u);  // the quick ones: within 4 ms
  EXPECT_EQ(s.answer_times[1], 4u);  // the slow ones: above 4 ms, within 1 s
  for (size_t i = 2; i < s.answer_times.size(); i++) EXPECT_EQ(s.answer_times[i], 0u);
  EXPECT_GE(s.answer_ns, 4u * 10'000'000);
  EXPECT_LT(s.answer_ns, 4u * 1'000'000'000ull);
  ::close(fd);
}

TEST(TcpLoopAnswers, TheConnectionsStateReachesTheAnswerer) {
  Harness h;
  auto answerer = std::make_shared<EvenAnswerer>();
  h.loop->set_answerer(answerer);
  int fd = h.connect_client();
  ASSERT_TRUE(h.wait_for(LoopEventKind::kAccept));
  const uint64_t conn = h.seen.front().conn;
  ConnState state;
  state.ready = true;
  state.trace_on = true;  // no collection readable: the answerer declines
  h.loop->set_state(conn, state);
  auto q = frame(0x20, 4, 64);
  ASSERT_EQ(write(fd, q.data(), q.size()), (ssize_t)q.size());
  while (h.data_bytes() < q.size()) ASSERT_TRUE(h.wait_for(LoopEventKind::kData));
  EXPECT_TRUE(answerer->saw_trace.load());
  EXPECT_EQ(h.loop->stats().declined, 1u);
  EXPECT_EQ(h.loop->stats().answered, 0u);
  ::close(fd);
}

// A client that reads slowly (a small receive buffer), on a connection ready to read anything.
void connect_slow_reader(Harness& h, int& fd) {
  fd = h.connect_client();
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_TRUE(h.wait_for(LoopEventKind::kAccept));
  ConnState state;
  state.ready = true;
  state.read_any = true;
  h.loop->set_state(h.seen.front().conn, state);
}

TEST(TcpLoopAnswers, ReadingStopsWhileAnswersPileUpUnread) {
  LoopOptions options;
  options.max_unsent_bytes = 256u << 10;
  options.serve.reply_high_water_bytes = 64u << 10;
  Harness h(options);
  auto answerer = std::make_shared<EvenAnswerer>();
  h.loop->set_answerer(answerer);
  int fd = -1;
  ASSERT_NO_FATAL_FAILURE(connect_slow_reader(h, fd));
  // Small questions, never a reply read: the loop stops reading at the high-water mark, so the
  // queue stays bounded, and the peer's writes stall on the kernel's buffers.
  auto q = frame(0x20, 2, 16);
  std::vector<uint8_t> many;
  for (int i = 0; i < 4096; i++) many.insert(many.end(), q.begin(), q.end());
  // Sends until the peer's writes have stalled for a while (the kernel's buffers on both sides full).
  uint64_t sent_total = 0;
  for (int stalled = 0, round = 0; stalled < 50 && round < 20000; round++) {
    ssize_t r = send(fd, many.data(), many.size(), MSG_DONTWAIT);
    if (r > 0) {
      sent_total += (uint64_t)r;
      stalled = 0;
    } else {
      stalled++;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  const TcpLoop::Stats s = h.loop->stats();
  EXPECT_LE(s.unsent, options.serve.reply_high_water_bytes + 16 * (options.read_chunk_bytes / 16));
  EXPECT_GT(s.answered, 0u);
  EXPECT_LT(s.answered * 16, sent_total);  // reading stopped before every question was read
  ::close(fd);
}

// Answers every QUERY frame with a 1 MiB reply.
struct BigAnswerer : QueryAnswerer {
  bool answer(const uint8_t* f, size_t, const ConnState&, std::vector<uint8_t>& reply) override {
    reply.resize(reply.size() + (1u << 20), 7);
    return true;
  }
};

TEST(TcpLoopAnswers, PastTheReplyHighWaterMarkFramesGoToJavaScript) {
  LoopOptions options;
  options.serve.reply_high_water_bytes = 2u << 20;
  options.max_unsent_bytes = 64u << 20;
  Harness h(options);
  h.loop->set_answerer(std::make_shared<BigAnswerer>());
  int fd = -1;
  ASSERT_NO_FATAL_FAILURE(connect_slow_reader(h, fd));
  // 64 small questions in one write (one read): a reply of 1 MiB each would be 64 MiB; the loop
  // builds replies up to the mark, then hands the rest on.
  std::vector<uint8_t> many;
  for (uint32_t i = 1; i <= 64; i++) {
    auto q = frame(0x20, i, 32);
    many.insert(many.end(), q.begin(), q.end());
  }
  ASSERT_EQ(write(fd, many.data(), many.size()), (ssize_t)many.size());
  ASSERT_TRUE(h.wait_for(LoopEventKind::kData));
  const TcpLoop::Stats s = h.loop->stats();
  EXPECT_GE(s.answered, 1u);
  EXPECT_LE(s.answered << 20, options.serve.reply_high_water_bytes + (1u << 20));
  while (h.data_bytes() < 32 * (64 - s.answered)) ASSERT_TRUE(h.wait_for(LoopEventKind::kData));
  EXPECT_EQ(h.data_bytes(), 32 * (64 - s.answered));  // every other question reached JavaScript
  ::close(fd);
}

}  // namespace
