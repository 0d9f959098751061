// What the progress thread keeps per connection and per UCP request (ucx_worker.cpp,
// ucx_stream.cpp). Every field here is touched only on the progress thread.
#pragma once
#include <ucp/api/ucp.h>

#include <deque>
#include <map>

#include "ucx_worker.hpp"

namespace ragwire::ucx {

// Active message ids. DATA carries a chunk of a connection's byte stream (or its end),
// CREDIT gives the sender back window bytes the receiver consumed.
constexpr unsigned kAmData = 0x5257;  // 'RW'
constexpr unsigned kAmCredit = 0x5258;

struct DataHeader {
  uint64_t conn;  // the receiver's connection id
  uint64_t seq;   // chunk number: rendezvous chunks may complete out of order
  uint32_t fin;   // 1: the stream ends here (no data)
  uint32_t pad;
};

struct CreditHeader {
  uint64_t conn;
  uint64_t bytes;
};

using Bytes = std::shared_ptr<std::vector<uint8_t>>;

struct Chunk {
  Bytes data;
  bool fin = false;
  bool complete = false;
};

struct Queued {
  Bytes data;
  size_t offset = 0;
  bool fin = false;
};

struct Connection {
  uint64_t id = 0;
  uint64_t remote_id = 0;
  size_t remote_window = 0;
  ucp_ep_h ep = nullptr;
  bool closing = false;  // ep close requested: drop whatever arrives
  bool broken = false;   // kClosed sent
  bool ended = false;    // kEnd sent
  std::shared_ptr<Ledger> ledger;
  std::unique_ptr<dataplane::ServedStream> served;  // a served connection's frames and state
  bool want_drain = false;
  // Sending: chunks go out while sent - credited stays within the peer's window.
  std::deque<Queued> queue;
  uint64_t sent = 0;
  uint64_t credited = 0;
  uint64_t next_seq = 0;
  // Receiving: chunks delivered in seq order; `unacked` counts bytes received and not consumed.
  std::map<uint64_t, Chunk> reorder;
  uint64_t expect_seq = 0;
  size_t unacked = 0;
  size_t credit_owed = 0;
};

// The user data of a UCP send or receive: keeps its buffer and header alive until completion.
struct Op {
  Worker* worker;
  uint64_t conn;
  uint64_t seq = 0;
  size_t bytes = 0;
  Bytes data;
  union {
    DataHeader data_header;
    CreditHeader credit_header;
  };
  Op() : worker(nullptr), conn(0), data_header{} {}
};

struct Worker::Impl {
  ucp_context_h context = nullptr;
  ucp_worker_h worker = nullptr;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns;
};

struct Command {
  enum Kind { kConnect, kSend, kAck, kFinish, kClose, kPeerGone, kState, kBarrier } kind;
  uint64_t conn = 0;
  uint64_t arg = 0;
  uint64_t arg2 = 0;
  Command(Kind k, uint64_t c, uint64_t a = 0, uint64_t a2 = 0) : kind(k), conn(c), arg(a), arg2(a2) {}
  std::vector<uint8_t> bytes;
  std::string text;
  dataplane::ConnState state;  // kState
};

}  // namespace ragwire::ucx
