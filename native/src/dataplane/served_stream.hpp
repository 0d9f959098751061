// What the native data plane does with the incoming bytes of one served connection, whatever
// carries them (the TCP loop, tcp_loop.cpp; a UCX connection, src/ucx/ucx_stream.cpp): walk every
// frame header, keep a QUERY frame of a ready connection whole and offer it to the answerer, and
// pass every other byte, and every frame the answerer declines, on to JavaScript in stream order.
// Plain C++, no Node header.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "frame_header.hpp"
#include "frame_splitter.hpp"
#include "query_answerer.hpp"

namespace ragwire::dataplane {

// Every value comes from packages/protocol/src/limits.ts (NATIVE_LOOP_LIMITS) and the server's
// connection limits, through the binding; the defaults serve the C++ tests.
struct ServeLimits {
  // The protocol's frame limit (limits.maxFrameBytes): headers are checked against it.
  uint64_t max_frame_bytes = 64u << 20;
  // The largest QUERY frame kept whole for the answerer: a larger one goes to JavaScript, whose
  // partial-frame budget and frame deadline then apply to it.
  size_t keep_frame_bytes = 64u << 10;
  // Reply bytes queued on the connection above which its QUERY frames go to JavaScript, whose
  // backpressure then applies (connectionLimits.replyHighWaterBytes): what the native side queues
  // stays bounded by the mark plus one reply.
  size_t reply_high_water_bytes = 4u << 20;
  // The shard server's request-latency bounds (REQUEST_LATENCY_BUCKETS, in ns, ascending, at most
  // kMaxAnswerTimeBounds): each native answer's time is counted in the first bucket that holds it.
  std::vector<uint64_t> answer_time_bounds_ns;
};

constexpr size_t kMaxAnswerTimeBounds = 31;

// Counters over every connection of a loop or worker.
struct AnswerCounters {
  std::atomic<uint64_t> frames{0};    // frame headers walked
  std::atomic<uint64_t> queries{0};   // of which QUERY frames
  std::atomic<uint64_t> answered{0};  // QUERY frames answered natively
  std::atomic<uint64_t> declined{0};  // QUERY frames kept whole, then handed to JavaScript by the answerer
  // Answers by time taken, from the whole frame to its reply: [i] counts those within bound i and
  // above bound i - 1, the entry after the last bound those above it. Not cumulative.
  std::array<std::atomic<uint64_t>, kMaxAnswerTimeBounds + 1> answer_times{};
  std::atomic<uint64_t> answer_ns{0};  // the answers' times added up

  void record_answer(uint64_t ns, const std::vector<uint64_t>& bounds) {
    size_t i = 0;
    while (i < bounds.size() && ns > bounds[i]) i++;
    answer_times[i].fetch_add(1, std::memory_order_relaxed);
    answer_ns.fetch_add(ns, std::memory_order_relaxed);
    answered.fetch_add(1, std::memory_order_relaxed);
  }

  // answer_times as plain counts: every entry (those past the bounds a caller gave stay 0).
  std::vector<uint64_t> answer_time_counts() const {
    std::vector<uint64_t> out(answer_times.size());
    for (size_t i = 0; i < out.size(); i++) out[i] = answer_times[i].load(std::memory_order_relaxed);
    return out;
  }
};

struct ServedStream {
  FrameSplitter splitter;
  ConnState state;

  // What one feed produced: bytes for JavaScript, reply frames, and how many incoming bytes the
  // answered frames took (JavaScript never sees those, so it never acknowledges them).
  struct Output {
    std::vector<uint8_t> to_js;
    std::vector<uint8_t> replies;
    size_t answered_in = 0;
    void clear() {
      to_js.clear();
      replies.clear();
      answered_in = 0;
    }
  };

  // Feeds bytes [0, n) and appends to `out`; `queued`: reply bytes already waiting on the
  // connection. Returns the bytes consumed: n, or up to a fatal header (passed on too; the splitter
  // is then `broken` and nothing after it may be fed).
  size_t feed(const uint8_t* p, size_t n, QueryAnswerer* answerer, const ServeLimits& limits, size_t queued,
              AnswerCounters& counters, Output& out) {
    return splitter.feed(
        p, n, limits.max_frame_bytes,
        [&](const HeaderCheck& h) {
          counters.frames++;
          const bool query = h.fault == FrameFault::kNone && answered_natively(h.type);
          if (query) counters.queries++;
          return query && answerer != nullptr && state.ready && h.frame_bytes <= limits.keep_frame_bytes &&
                 queued + out.replies.size() <= limits.reply_high_water_bytes;
        },
        [&](const uint8_t* bytes, size_t count) { out.to_js.insert(out.to_js.end(), bytes, bytes + count); },
        [&](std::vector<uint8_t>& frame) {
          const auto start = std::chrono::steady_clock::now();
          if (answerer != nullptr && answerer->answer(frame.data(), frame.size(), state, out.replies)) {
            const auto took = std::chrono::steady_clock::now() - start;
            counters.record_answer((uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(took).count(),
                                   limits.answer_time_bounds_ns);
            out.answered_in += frame.size();
          } else {
            counters.declined++;
            out.to_js.insert(out.to_js.end(), frame.begin(), frame.end());
          }
          // A kept frame is at most keep_frame_bytes: its buffer stays for the next one.
          frame.clear();
        });
  }
};

}  // namespace ragwire::dataplane
