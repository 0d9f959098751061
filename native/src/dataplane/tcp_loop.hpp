// The native data plane's TCP transport (docs/protocol.md §2.3, docs/architecture.md "Data plane"):
// one epoll thread per loop owns the connections it was given; the first loop of a listener accepts
// them and hands them to the loops of its group in turn (open_beside adds a loop). It reads each
// connection into bounded buffers and walks the frame headers (FrameSplitter). A QUERY frame of a
// connection JavaScript marked ready (set_state) is kept whole and offered to the QueryAnswerer,
// whose reply is queued on this thread without waking JavaScript; every other byte, and every frame
// the answerer declines, goes to JavaScript in batches, in stream order. Replies from JavaScript come
// back through the same bounded outbound queue per connection. Plain C++: no Node header; the
// binding (src/binding/tcp_loop_wrap.cpp) turns events into JavaScript calls.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "frame_header.hpp"
#include "query_answerer.hpp"
#include "ragwire/status.hpp"
#include "served_stream.hpp"

namespace ragwire::dataplane {

// Every value comes from the limits tables of packages/protocol/src/limits.ts (NATIVE_LOOP_LIMITS)
// and the server's connection limits, through the binding; the defaults here serve the C++ tests.
struct LoopOptions {
  // The frame limit, the largest QUERY frame kept whole for the answerer, and the reply high-water
  // mark above which queries go to JavaScript (the loop also stops reading the connection then).
  ServeLimits serve;
  // Bytes handed to JavaScript and not yet acknowledged, per connection, beyond which the loop
  // stops reading that connection (the kernel's buffers then push back on the peer).
  size_t read_window_bytes = 64u << 10;
  // Reply bytes queued on one connection and not yet taken by the kernel, beyond which the
  // connection is closed (connectionLimits.maxUnsentReplyBytes).
  size_t max_unsent_bytes = 128u << 20;
  // A connection closed with replies still queued keeps sending them this long at most.
  int64_t linger_ms = 10'000;
  // Bytes read from a socket at once.
  size_t read_chunk_bytes = 64u << 10;
  // After its last activity the loop polls this long before it blocks in epoll_wait; -1 never blocks.
  int64_t spin_us = 0;
};

enum class LoopEventKind : uint8_t {
  kAccept,   // a new connection (message: the peer's address)
  kData,     // bytes of the connection's stream, in order
  kEnd,      // the peer finished sending (after all its data)
  kDrain,    // the outbound queue emptied after `send` said it was above its allowance
  kClosed,   // the connection broke or was closed by the loop (message says why); nothing follows
  kBarrier,  // (conn 0) every read begun before barrier() was asked has been answered or emitted
};

struct LoopEvent {
  LoopEventKind kind;
  uint64_t conn;
  std::shared_ptr<std::vector<uint8_t>> data;  // kData
  std::string message;                         // kAccept, kClosed
};

struct LoopConn;
class TcpLoop;

// The loops of one listener: the first accepts and hands connections to each in turn.
struct LoopGroup {
  std::mutex mu;
  std::vector<TcpLoop*> loops;  // a loop leaves as it is destroyed
  uint64_t next = 0;
};

class TcpLoop {
 public:
  // Binds host:port (port 0: ephemeral) and starts the loop thread. `wake` is called from that
  // thread when events become available after a drain().
  static Status open(const std::string& host, uint16_t port, const LoopOptions& options, std::function<void()> wake,
                     std::unique_ptr<TcpLoop>* out);
  // Another loop (thread) of `first`'s listener: `first` accepts, and hands each new connection to
  // the loops of its group in turn, so a listener's connections, and the queries they send, spread
  // over its loops. Only `first` listens: its stop_accepting stops the group's.
  static Status open_beside(TcpLoop& first, const LoopOptions& options, std::function<void()> wake,
                            std::unique_ptr<TcpLoop>* out);
  ~TcpLoop();  // stops the thread and closes every socket
  TcpLoop(const TcpLoop&) = delete;
  TcpLoop& operator=(const TcpLoop&) = delete;

  uint16_t port() const { return port_; }

  // Queues reply bytes. Returns the connection's bytes queued and not yet taken by the kernel,
  // this write included (0 for a connection that is gone); above `allowance` a kDrain follows
  // once the queue is empty. Past max_unsent_bytes the connection is closed (kClosed).
  size_t send(uint64_t conn, std::vector<uint8_t> bytes, size_t allowance);
  // `bytes` delivered by kData events were consumed: the loop may read that much more.
  void ack(uint64_t conn, size_t bytes);
  // Half-closes the sending side after everything queued.
  void finish(uint64_t conn);
  // Closes the connection: gracefully after what is queued, or at once. No event for it follows.
  void close(uint64_t conn, bool graceful);
  // Stops accepting new connections (open ones stay).
  void stop_accepting();
  // Asks for a kBarrier event once the loop thread is past the read it may be in now: every frame
  // read before it was answered (replies queued) or emitted to JavaScript before the event.
  void barrier();
  // What JavaScript settled for the connection: from its next whole frame on, a ready connection's
  // QUERY frames are offered to the answerer.
  void set_state(uint64_t conn, ConnState state);
  // Reply bytes the loop answered on the connection itself (progress JavaScript does not see).
  uint64_t answered_bytes(uint64_t conn);
  // The answerer for every connection of this loop (null: every frame goes to JavaScript).
  void set_answerer(std::shared_ptr<QueryAnswerer> answerer);

  std::vector<LoopEvent> drain();

  struct Stats {
    uint64_t sleeps = 0;    // times the thread blocked in epoll_wait
    uint64_t frames = 0;    // frame headers walked
    uint64_t queries = 0;   // of which QUERY frames
    uint64_t answered = 0;  // QUERY frames answered on the loop thread
    uint64_t declined = 0;  // QUERY frames kept whole, then handed to JavaScript by the answerer
    uint64_t accepted = 0;  // connections accepted
    uint64_t open = 0;      // connections open now
    uint64_t ready = 0;     // of which JavaScript marked ready (set_state)
    uint64_t unsent = 0;    // reply bytes queued over all connections
    // Native answers by time (AnswerCounters::answer_times) and their total ns.
    std::vector<uint64_t> answer_times;
    uint64_t answer_ns = 0;
  };
  Stats stats();

 private:
  TcpLoop() = default;
  Status start(const LoopOptions& options, std::function<void()> wake);
  void run();
  void wake_loop();
  void emit(LoopEvent e);
  void accept_all();
  // Takes an accepted socket as one of this loop's connections (from the accepting loop's thread).
  void adopt(int fd, std::string peer);
  void on_readable(LoopConn& c);
  void flush(LoopConn& c);
  void update_interest(LoopConn& c);
  void drop(uint64_t id, const std::string& why, bool tell);
  // Queues reply bytes on a connection (mu_ held); false when that closed it.
  bool queue_reply(LoopConn& c, std::vector<uint8_t> bytes, size_t allowance);

  LoopOptions options_;
  std::shared_ptr<LoopGroup> group_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stop_accepting_{false};
  std::atomic<bool> barrier_{false};
  std::atomic<uint64_t> sleeps_{0};
  AnswerCounters counters_;
  std::atomic<int> lingering_{0};  // connections closed with replies still queued
  uint64_t next_conn_ = 1;
  uint64_t accepted_ = 0;
  // Connections, their queues and flags: shared by the loop thread and the JavaScript thread.
  std::mutex mu_;
  std::unordered_map<uint64_t, std::unique_ptr<LoopConn>> conns_;
  std::shared_ptr<QueryAnswerer> answerer_;  // under mu_
  std::mutex events_mu_;
  std::vector<LoopEvent> events_;
  std::function<void()> wake_;
  std::vector<uint8_t> scratch_;  // the loop thread's read buffer
  ServedStream::Output out_;      // the loop thread's bytes for JavaScript and replies from one read
};

}  // namespace ragwire::dataplane
