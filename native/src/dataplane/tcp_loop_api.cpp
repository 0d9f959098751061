// The TCP loop's calls from JavaScript's thread (tcp_loop.hpp): replies, acknowledgements, closes,
// the state JavaScript settles per connection, the answerer, barriers and counters. Each takes the
// loop's connection lock; the loop thread itself lives in tcp_loop.cpp.
#include <sys/socket.h>

#include <algorithm>

#include "tcp_loop.hpp"
#include "tcp_loop_conn.hpp"

namespace ragwire::dataplane {

size_t TcpLoop::send(uint64_t conn, std::vector<uint8_t> bytes, size_t allowance) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second->linger_since >= 0) return 0;
  LoopConn& c = *it->second;
  if (bytes.empty()) return c.out_bytes;
  return queue_reply(c, std::move(bytes), allowance) ? c.out_bytes : 0;
}

void TcpLoop::ack(uint64_t conn, size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  LoopConn& c = *it->second;
  c.unacked -= std::min(bytes, c.unacked);
  update_interest(c);
}

void TcpLoop::finish(uint64_t conn) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  LoopConn& c = *it->second;
  c.finish_wanted = true;
  if (c.out.empty() && !c.finished) {
    c.finished = true;
    shutdown(c.fd, SHUT_WR);
  }
}

void TcpLoop::close(uint64_t conn, bool graceful) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  LoopConn& c = *it->second;
  if (!graceful || c.out.empty()) {
    drop(conn, "", false);
    return;
  }
  c.linger_since = loop_now_ms();
  lingering_++;
  update_interest(c);
  wake_loop();  // so the loop starts checking the linger deadline
}

void TcpLoop::set_state(uint64_t conn, ConnState state) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(conn);
  if (it != conns_.end()) it->second->stream.state = std::move(state);
}

uint64_t TcpLoop::answered_bytes(uint64_t conn) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(conn);
  return it == conns_.end() ? 0 : it->second->answered_bytes;
}

void TcpLoop::set_answerer(std::shared_ptr<QueryAnswerer> answerer) {
  std::lock_guard<std::mutex> lock(mu_);
  answerer_ = std::move(answerer);
}

void TcpLoop::barrier() {
  barrier_ = true;
  wake_loop();
}

void TcpLoop::stop_accepting() {
  stop_accepting_ = true;
  wake_loop();
}

TcpLoop::Stats TcpLoop::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s;
  s.sleeps = sleeps_;
  s.frames = counters_.frames;
  s.queries = counters_.queries;
  s.answered = counters_.answered;
  s.declined = counters_.declined;
  s.answer_times = counters_.answer_time_counts();
  s.answer_ns = counters_.answer_ns;
  s.accepted = accepted_;
  s.open = conns_.size();
  for (auto& [id, c] : conns_) {
    s.unsent += c->out_bytes;
    if (c->stream.state.ready) s.ready++;
  }
  return s;
}

}  // namespace ragwire::dataplane
