// The native data plane's TCP loop (src/dataplane/tcp_loop.cpp) over real sockets on 127.0.0.1:
// batches of events, replies, the read window, the unsent-bytes cap, peer close.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "loop_harness.hpp"

namespace {

using namespace ragwire::dataplane;
using namespace ragwire::dataplane::testing;

TEST(TcpLoop, AcceptsReadsFramesAndSendsReplies) {
  Harness h;
  int fd = h.connect_client();
  std::vector<uint8_t> out;
  for (uint32_t i = 1; i <= 3; i++) {
    auto f = frame(0x20, i, 64);
    out.insert(out.end(), f.begin(), f.end());
  }
  ASSERT_EQ(write(fd, out.data(), out.size()), (ssize_t)out.size());
  ASSERT_TRUE(h.wait_for(LoopEventKind::kAccept));
  while (h.data_bytes() < out.size()) ASSERT_TRUE(h.wait_for(LoopEventKind::kData));
  EXPECT_EQ(h.seen.front().kind, LoopEventKind::kAccept);  // the socket exists before its bytes
  const uint64_t conn = h.seen.front().conn;
  EXPECT_EQ(h.loop->stats().frames, 3u);
  EXPECT_EQ(h.loop->stats().queries, 3u);
  std::vector<uint8_t> reply(1000, 7);
  EXPECT_EQ(h.loop->send(conn, reply, 1 << 20), 0u);  // straight to the kernel
  std::vector<uint8_t> got(reply.size());
  size_t n = 0;
  while (n < got.size()) {
    ssize_t r = read(fd, got.data() + n, got.size() - n);
    ASSERT_GT(r, 0);
    n += (size_t)r;
  }
  EXPECT_EQ(got, reply);
  ::close(fd);
  EXPECT_TRUE(h.wait_for(LoopEventKind::kEnd));
  h.loop->close(conn, true);
  EXPECT_EQ(h.loop->stats().open, 0u);
}

TEST(TcpLoop, StopsReadingAtTheWindowUntilAcknowledged) {
  LoopOptions options;
  options.read_window_bytes = 4096;
  Harness h(options);
  int fd = h.connect_client();
  auto big = frame(0x20, 1, 1 << 20);
  std::thread writer([&] {
    size_t off = 0;
    while (off < big.size()) {
      ssize_t r = write(fd, big.data() + off, big.size() - off);
      if (r <= 0) break;
      off += (size_t)r;
    }
  });
  ASSERT_TRUE(h.wait_for(LoopEventKind::kData));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& e : h.loop->drain()) h.seen.push_back(std::move(e));
  // Unacknowledged, the loop holds at most the window plus one read.
  EXPECT_LE(h.data_bytes(), options.read_window_bytes + options.read_chunk_bytes);
  const uint64_t conn = h.seen.front().conn;
  size_t acked = 0;
  while (h.data_bytes() < big.size()) {
    h.loop->ack(conn, h.data_bytes() - acked);
    acked = h.data_bytes();
    ASSERT_TRUE(h.wait_for(LoopEventKind::kData));
    if (h.data_bytes() == acked) {
      std::unique_lock<std::mutex> lock(h.mu);
      h.cv.wait_for(lock, std::chrono::milliseconds(50));
    }
  }
  EXPECT_EQ(h.data_bytes(), big.size());
  writer.join();
  ::close(fd);
}

TEST(TcpLoop, ClosesAPeerThatNeverReadsAtTheUnsentCap) {
  LoopOptions options;
  options.max_unsent_bytes = 8u << 20;
  Harness h(options);
  int fd = h.connect_client();
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_TRUE(h.wait_for(LoopEventKind::kAccept));
  const uint64_t conn = h.seen.front().conn;
  size_t queued = 0;
  for (int i = 0; i < 64 && h.loop->stats().open == 1; i++)
    queued = h.loop->send(conn, std::vector<uint8_t>(1 << 20, 1), 256 << 10);
  EXPECT_EQ(queued, 0u);  // the connection went at the cap
  ASSERT_TRUE(h.wait_for(LoopEventKind::kClosed));
  EXPECT_NE(h.seen.back().message.find("RAGWIRE_ERR_SLOW_CONSUMER"), std::string::npos);
  EXPECT_EQ(h.loop->stats().unsent, 0u);
  ::close(fd);
}

TEST(TcpLoop, AGracefulCloseSendsWhatIsQueuedThenCloses) {
  Harness h;
  int fd = h.connect_client();
  ASSERT_TRUE(h.wait_for(LoopEventKind::kAccept));
  const uint64_t conn = h.seen.front().conn;
  const size_t total = 8u << 20;
  EXPECT_GT(h.loop->send(conn, std::vector<uint8_t>(total, 3), 256 << 10), 0u);  // more than the kernel takes at once
  h.loop->close(conn, true);
  EXPECT_EQ(h.loop->stats().open, 1u);  // still sending
  std::vector<uint8_t> buf(1 << 16);
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, buf.data(), buf.size());
    if (r <= 0) break;
    got += (size_t)r;
  }
  EXPECT_EQ(got, total);  // every byte, then end of stream
  EXPECT_EQ(h.loop->stats().open, 0u);
  ::close(fd);
}

TEST(TcpLoop, WaitsRatherThanSpinsWhenIdle) {
  Harness h;
  int fd = h.connect_client();
  ASSERT_TRUE(h.wait_for(LoopEventKind::kAccept));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const uint64_t before = h.loop->stats().sleeps;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(h.loop->stats().sleeps, before);
  ::close(fd);
}

}  // namespace
