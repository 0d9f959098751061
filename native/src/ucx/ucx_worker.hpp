// One UCP context and worker per process, driven by one progress thread (docs/protocol.md §2.3).
// Frames travel as UCP active messages in chunks, under a credit window per connection, so a
// peer can never make this process hold more than `window_bytes` of its data. A served connection
// (the shard server's side) runs its incoming bytes through the native data plane
// (src/dataplane/served_stream.hpp): QUERY frames the answerer takes are answered on the progress
// thread, without waking JavaScript. Plain C++: no Node header; the binding
// (src/binding/ucx_wrap.cpp) converts events into JavaScript calls.
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

#include "../dataplane/served_stream.hpp"
#include "ragwire/status.hpp"

namespace ragwire::ucx {

struct Options {
  // Spin this long after the last activity before sleeping on the worker's event fd.
  // A negative value never sleeps (polling mode: lowest latency, one core busy).
  int64_t spin_us = 50;
  // Bytes a peer may have sent and this side not yet consumed, per connection.
  size_t window_bytes = 4u << 20;
  // Largest active message; writes are cut into chunks of this size.
  size_t chunk_bytes = 256u << 10;
};

enum class EventKind : uint8_t {
  kData,     // bytes of the connection's stream, in order
  kEnd,      // the peer finished sending (after all its data)
  kDrain,    // the connection's send queue fell to zero after `send` said it was above its allowance
  kClosed,   // the connection broke (message says why); nothing follows
  kBarrier,  // (conn 0) every chunk received before barrier() was asked was answered or emitted
};

struct Event {
  EventKind kind;
  uint64_t conn;
  std::shared_ptr<std::vector<uint8_t>> data;  // kData
  std::string message;                         // kClosed
};

struct Command;
struct Connection;
struct DataHeader;

// What a served connection answers natively, and under which limits.
struct Serving {
  std::shared_ptr<dataplane::QueryAnswerer> answerer;
  dataplane::ServeLimits limits;
};

// What the JavaScript thread and the progress thread both see of one connection.
struct Ledger {
  std::atomic<size_t> unsent{0};           // bytes queued and not yet handed to UCX
  std::atomic<uint64_t> answered{0};       // reply bytes the progress thread answered itself
  std::shared_ptr<const Serving> serving;  // null: a client's connection, every byte to JavaScript
};

class Worker {
 public:
  // Reads UCX_* variables (UCX_TLS, UCX_NET_DEVICES, ...) like any UCX program. `wake` is called
  // (from the progress thread) when events become available after a drain().
  static Status open(const Options& options, std::function<void()> wake, std::unique_ptr<Worker>* out);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // This worker's address, to hand to a peer (ucp_worker_get_address).
  const std::vector<uint8_t>& address() const { return address_; }
  const Options& options() const { return options_; }

  // A new connection id; the peer puts it in every message it sends to this side. With `serving`,
  // its frames are walked from the first byte and, once set_state says it is ready, the QUERY
  // frames the answerer takes are answered here.
  uint64_t new_connection(std::shared_ptr<const Serving> serving = nullptr);
  // What JavaScript settled for a served connection: applies from its next whole frame on.
  void set_state(uint64_t conn, dataplane::ConnState state);
  // Reply bytes the progress thread answered on the connection itself.
  uint64_t answered_bytes(uint64_t conn);
  // Asks for a kBarrier event once the progress thread is past every chunk received so far.
  void barrier();
  // Creates the endpoint to the peer's worker; `remote_id` is the peer's id for this connection.
  void connect(uint64_t conn, std::vector<uint8_t> remote_address, uint64_t remote_id, size_t remote_window);
  // Queues bytes to send. Returns the connection's bytes queued and not yet handed to UCX,
  // this write included; above `allowance` a kDrain event follows once the queue is empty.
  size_t send(uint64_t conn, std::vector<uint8_t> bytes, size_t allowance);
  // `bytes` delivered by kData events were consumed: the peer may send that much more.
  void ack(uint64_t conn, size_t bytes);
  // Sends end-of-stream after everything queued.
  void finish(uint64_t conn);
  // Tears the connection down (gracefully: after what is queued); no event for it follows.
  void close(uint64_t conn, bool graceful);
  // The peer is known to be gone (its control socket closed): kClosed after the events
  // already received, unless the stream ended cleanly.
  void peer_gone(uint64_t conn, std::string why);

  std::vector<Event> drain();
  // Times the progress thread went to sleep (an idle worker sleeps rather than spins).
  uint64_t sleeps() const { return sleeps_.load(); }
  // Frames walked and answered over every served connection.
  const dataplane::AnswerCounters& counters() const { return counters_; }

  // Internal: called from UCX callbacks on the progress thread (ucx_stream.cpp).
  void on_am_data(const DataHeader& h, void* data, size_t length, bool rndv);
  void on_chunk_done(uint64_t conn, uint64_t seq, int status);
  void on_credit(uint64_t conn, uint64_t bytes);
  void on_ep_error(uint64_t conn, const std::string& why);
  struct Impl;

 private:
  Worker() = default;
  void run();
  void push(Command c);
  void emit(Event e);
  Status register_handlers();
  Connection* find(uint64_t id);
  Connection* adopt(uint64_t id);
  void execute(Command& c);
  void pump(Connection& c);
  void deliver(Connection& c);
  void serve(Connection& c, const std::vector<uint8_t>& chunk);
  void send_credit(Connection& c);
  void close_ep(Connection& c, bool force);
  void fail(Connection& c, const std::string& why);

  Options options_;
  std::vector<uint8_t> address_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> events_pending_{false};
  std::atomic<uint64_t> sleeps_{0};
  std::atomic<uint64_t> next_conn_{1};
  std::mutex commands_mu_;
  std::vector<Command>* commands_ = nullptr;
  dataplane::AnswerCounters counters_;
  dataplane::ServedStream::Output served_out_;  // the progress thread's output of one served chunk
  std::mutex ledgers_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Ledger>> ledgers_;  // live connections
  std::mutex events_mu_;
  std::vector<Event> events_;
  std::function<void()> wake_;
};

// What this build and machine offer: compiled in, initialised, and UCX's version.
struct Availability {
  bool built = false;
  bool available = false;
  std::string version;
  std::string error;
};
Availability availability();  // probed once per process
Availability probe();

}  // namespace ragwire::ucx
