#include "tcp_loop.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

#include "tcp_listen.hpp"
#include "tcp_loop_conn.hpp"

namespace ragwire::dataplane {

namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = UINT64_MAX;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status TcpLoop::open(const std::string& host, uint16_t port, const LoopOptions& options, std::function<void()> wake,
                     std::unique_ptr<TcpLoop>* out) {
  std::unique_ptr<TcpLoop> loop(new TcpLoop());
  if (Status st = listen_tcp(host, port, &loop->listen_fd_, &loop->port_); !st.is_ok()) return st;
  loop->group_ = std::make_shared<LoopGroup>();
  loop->group_->loops.push_back(loop.get());
  RAGWIRE_RETURN_IF_ERROR(loop->start(options, std::move(wake)));
  *out = std::move(loop);
  return Status::ok();
}

Status TcpLoop::open_beside(TcpLoop& first, const LoopOptions& options, std::function<void()> wake,
                            std::unique_ptr<TcpLoop>* out) {
  std::unique_ptr<TcpLoop> loop(new TcpLoop());
  loop->port_ = first.port_;
  loop->group_ = first.group_;
  RAGWIRE_RETURN_IF_ERROR(loop->start(options, std::move(wake)));
  std::lock_guard<std::mutex> lock(loop->group_->mu);
  loop->group_->loops.push_back(loop.get());
  *out = std::move(loop);
  return Status::ok();
}

Status TcpLoop::start(const LoopOptions& options, std::function<void()> wake) {
  options_ = options;
  scratch_.resize(options.read_chunk_bytes);
  wake_ = std::move(wake);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || event_fd_ < 0) return Status(Code::kInternal, errno_text("epoll"));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenId;
  if (listen_fd_ >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = kWakeId;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev);
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

TcpLoop::~TcpLoop() {
  if (group_) {
    // Out of the group first: the accepting loop hands this one no connection from here on.
    std::lock_guard<std::mutex> lock(group_->mu);
    auto& loops = group_->loops;
    loops.erase(std::remove(loops.begin(), loops.end(), this), loops.end());
  }
  stop_ = true;
  if (thread_.joinable()) {
    wake_loop();
    thread_.join();
  }
  for (auto& [id, c] : conns_) ::close(c->fd);
  conns_.clear();
  for (int fd : {listen_fd_, epoll_fd_, event_fd_})
    if (fd >= 0) ::close(fd);
}

void TcpLoop::wake_loop() {
  uint64_t one = 1;
  ssize_t rc = write(event_fd_, &one, sizeof one);
  (void)rc;  // a full eventfd counter already wakes the loop
}

void TcpLoop::emit(LoopEvent e) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(events_mu_);
    first = events_.empty();
    events_.push_back(std::move(e));
  }
  if (first) wake_();
}

std::vector<LoopEvent> TcpLoop::drain() {
  std::lock_guard<std::mutex> lock(events_mu_);
  std::vector<LoopEvent> out;
  out.swap(events_);
  return out;
}

void TcpLoop::run() {
  epoll_event events[64];
  int64_t last_work = now_us();
  while (!stop_) {
    const bool lingering = lingering_.load() > 0;
    // Just busy: poll for spin_us. Idle: block until a socket is ready (no busy core); a lingering
    // close is checked each second.
    const bool spinning = options_.spin_us < 0 || now_us() - last_work < options_.spin_us;
    if (!spinning) sleeps_++;
    const int n = epoll_wait(epoll_fd_, events, 64, spinning ? 0 : lingering ? 1000 : -1);
    if (n < 0 && errno != EINTR) break;
    if (n > 0) last_work = now_us();
    for (int i = 0; i < n; i++) {
      const uint64_t id = events[i].data.u64;
      if (id == kWakeId) {
        uint64_t count;
        ssize_t rc = read(event_fd_, &count, sizeof count);
        (void)rc;
        if (barrier_.exchange(false)) emit({LoopEventKind::kBarrier, 0, nullptr, {}});
        if (stop_accepting_ && listen_fd_ >= 0) {
          epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
          ::close(listen_fd_);
          listen_fd_ = -1;
        }
        continue;
      }
      if (id == kListenId) {
        accept_all();
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;  // closed meanwhile
      LoopConn& c = *it->second;
      const uint32_t ev = events[i].events;
      if (ev & EPOLLERR) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        drop(id, std::string("connection error: ") + std::strerror(err != 0 ? err : ECONNRESET), true);
        continue;
      }
      if (ev & (EPOLLIN | EPOLLHUP)) on_readable(c);
      if (conns_.count(id) != 0 && (ev & EPOLLOUT)) flush(c);
    }
    if (lingering_.load() == 0) continue;
    const int64_t now = loop_now_ms();
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint64_t> expired;
    for (auto& [id, c] : conns_)
      if (c->linger_since >= 0 && now - c->linger_since > options_.linger_ms) expired.push_back(id);
    for (uint64_t id : expired) drop(id, "", false);
  }
}

void TcpLoop::accept_all() {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors: back off briefly rather than spin on a listening socket that stays ready.
      if (errno == EMFILE || errno == ENFILE) usleep(10'000);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // The loops of the group take the connections in turn. The group's lock keeps the chosen loop
    // alive until it owns the connection (a loop leaves the group before it goes).
    std::lock_guard<std::mutex> lock(group_->mu);
    if (group_->loops.empty()) {
      ::close(fd);  // this loop is going too
      continue;
    }
    group_->loops[group_->next++ % group_->loops.size()]->adopt(fd, peer_name(peer));
  }
}

void TcpLoop::adopt(int fd, std::string peer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto c = std::make_unique<LoopConn>();
  c->id = next_conn_++;
  c->fd = fd;
  accepted_++;
  LoopConn& ref = *c;
  conns_.emplace(c->id, std::move(c));
  // The accept event goes first, so JavaScript has the socket before its first bytes.
  emit({LoopEventKind::kAccept, ref.id, nullptr, std::move(peer)});
  update_interest(ref);
}

void TcpLoop::on_readable(LoopConn& c) {
  const uint64_t id = c.id;
  while (!c.read_done && c.unacked < options_.read_window_bytes &&
         c.out_bytes <= options_.serve.reply_high_water_bytes) {
    // Read into the loop's scratch buffer, then keep exactly what came: a peer sending one byte at
    // a time holds one byte per read, not a read buffer's worth.
    const ssize_t n = recv(c.fd, scratch_.data(), scratch_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      drop(id, errno_text("read"), true);
      return;
    }
    if (n == 0) {
      c.read_done = true;
      emit({LoopEventKind::kEnd, id, nullptr, {}});
      break;
    }
    // Every frame header is walked here: a QUERY frame the answerer may take is kept whole, every
    // other byte goes to JavaScript in stream order (a declined frame at its place among them).
    out_.clear();
    const size_t taken =
        c.stream.feed(scratch_.data(), (size_t)n, answerer_.get(), options_.serve, c.out_bytes, counters_, out_);
    // A fatal header: JavaScript gets the bytes up to it, whose decoder refuses the stream the same
    // way (and closes the connection); nothing after it is read.
    if (c.stream.splitter.broken) c.read_done = true;
    if (!out_.to_js.empty()) {
      c.unacked += out_.to_js.size();
      emit({LoopEventKind::kData, id, std::make_shared<std::vector<uint8_t>>(out_.to_js), {}});
    }
    c.answered_bytes += out_.replies.size();
    if (!out_.replies.empty() && !queue_reply(c, out_.replies, SIZE_MAX)) return;  // closed at the unsent cap
    if (taken < (size_t)n) break;
  }
  update_interest(c);
}

void TcpLoop::flush(LoopConn& c) {
  while (!c.out.empty()) {
    std::vector<uint8_t>& front = c.out.front();
    const ssize_t n =
        ::send(c.fd, front.data() + c.out_offset, front.size() - c.out_offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      drop(c.id, errno_text("write"), c.linger_since < 0);
      return;
    }
    c.out_offset += (size_t)n;
    c.out_bytes -= (size_t)n;
    if (c.out_offset == front.size()) {
      c.out.pop_front();
      c.out_offset = 0;
    }
  }
  if (c.out.empty()) {
    if (c.linger_since >= 0) {
      drop(c.id, "", false);
      return;
    }
    if (c.drain_wanted) {
      c.drain_wanted = false;
      emit({LoopEventKind::kDrain, c.id, nullptr, {}});
    }
    if (c.finish_wanted && !c.finished) {
      c.finished = true;
      shutdown(c.fd, SHUT_WR);
    }
  }
  update_interest(c);
}

void TcpLoop::update_interest(LoopConn& c) {
  uint32_t want = 0;
  if (!c.read_done && c.linger_since < 0 && c.unacked < options_.read_window_bytes &&
      c.out_bytes <= options_.serve.reply_high_water_bytes)
    want |= EPOLLIN;
  if (!c.out.empty()) want |= EPOLLOUT;
  if (want == c.interest && c.registered) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  // Nothing wanted: out of the set, so a hung-up socket whose reading is paused cannot spin the loop.
  if (want == 0) {
    if (c.registered) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    c.registered = false;
  } else {
    epoll_ctl(epoll_fd_, c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &ev);
    c.registered = true;
  }
  c.interest = want;
}

void TcpLoop::drop(uint64_t id, const std::string& why, bool tell) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (it->second->linger_since >= 0) lingering_--;
  ::close(it->second->fd);  // also leaves the epoll set
  conns_.erase(it);
  if (tell) emit({LoopEventKind::kClosed, id, nullptr, why});
}

bool TcpLoop::queue_reply(LoopConn& c, std::vector<uint8_t> bytes, size_t allowance) {
  const uint64_t conn = c.id;
  c.out_bytes += bytes.size();
  c.out.push_back(std::move(bytes));
  // Straight to the kernel when nothing waits before it (no hop through the loop thread).
  if (c.out.size() == 1) flush(c);
  if (conns_.count(conn) == 0) return false;
  if (c.out_bytes > options_.max_unsent_bytes) {
    drop(conn,
         "RAGWIRE_ERR_SLOW_CONSUMER: " + std::to_string(c.out_bytes) + " bytes of replies unsent (limit " +
             std::to_string(options_.max_unsent_bytes) + ")",
         true);
    return false;
  }
  if (c.out_bytes > allowance) c.drain_wanted = true;
  update_interest(c);
  return true;
}

}  // namespace ragwire::dataplane
