// A TCP loop over real sockets on 127.0.0.1 for the data plane's tests: frames, events, a client.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "../../src/dataplane/tcp_loop.hpp"

namespace ragwire::dataplane::testing {

// A QUERY request frame (type 0x20) of `frame_bytes` bytes, length prefix included.
inline std::vector<uint8_t> frame(uint8_t type, uint32_t request_id, uint32_t frame_bytes) {
  std::vector<uint8_t> f(frame_bytes, 0xab);
  const uint32_t len = frame_bytes - 4;
  std::memcpy(f.data(), &len, 4);
  f[4] = kProtocolVersion;
  f[5] = type;
  f[6] = f[7] = 0;
  std::memcpy(f.data() + 8, &request_id, 4);
  return f;
}

inline void set_directions() {
  set_direction(0x01, Direction::kRequest);  // HELLO
  set_direction(0x20, Direction::kRequest);  // QUERY
}

// A loop and a way to wait for its events.
struct Harness {
  std::mutex mu;
  std::condition_variable cv;
  int wakes = 0;
  std::unique_ptr<TcpLoop> loop;
  std::vector<LoopEvent> seen;

  explicit Harness(LoopOptions options = {}) {
    set_directions();
    ragwire::Status st = TcpLoop::open(
        "127.0.0.1", 0, options,
        [this] {
          std::lock_guard<std::mutex> lock(mu);
          wakes++;
          cv.notify_all();
        },
        &loop);
    EXPECT_TRUE(st.is_ok()) << st.message();
  }

  // Waits until an event of `kind` arrived (within 5 s), keeping every event in `seen`.
  bool wait_for(LoopEventKind kind) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      for (auto& e : loop->drain()) seen.push_back(std::move(e));
      for (auto& e : seen)
        if (e.kind == kind) return true;
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_until(lock, until) == std::cv_status::timeout) return false;
    }
  }

  size_t data_bytes() {
    size_t n = 0;
    for (auto& e : seen)
      if (e.kind == LoopEventKind::kData) n += e.data->size();
    return n;
  }

  int connect_client() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(loop->port());
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }
};

}  // namespace ragwire::dataplane::testing
