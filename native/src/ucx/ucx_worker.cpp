// The process's UCP context and worker, its progress thread and its adaptive polling
// (docs/architecture.md "The data plane"): progress while there is work, spin `spin_us` after
// the last of it, then arm the worker and sleep in epoll on its event fd and on the eventfd
// that JavaScript writes when it queues a command. An idle process burns no core.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "ucx_internal.hpp"
#include "ucx_library.hpp"

namespace ragwire::ucx {

namespace {

std::string ucs_error(const char* what, ucs_status_t st) { return std::string(what) + ": " + ucs_status_string(st); }

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// UCX patches the process's memory functions (mmap, munmap, brk) at ucp_init to keep its
// registration cache right. Done while V8's threads run, that patching has crashed a shard server
// at start-up here (SIGSEGV under load); frames here are copied into UCX-owned memory, so nothing
// needs the hooks. The user's own UCX_MEM_EVENTS wins.
void prepare_environment() { setenv("UCX_MEM_EVENTS", "no", /*overwrite=*/0); }

}  // namespace

Availability availability() {
  // Computed once: every call would otherwise create and destroy a UCP context.
  static std::mutex mu;
  static std::unique_ptr<Availability> cached;
  std::lock_guard<std::mutex> lock(mu);
  if (cached) return *cached;
  cached = std::make_unique<Availability>(probe());
  return *cached;
}

Availability probe() {
  prepare_environment();
  Availability a;
  a.built = true;
  if (!ucp().loaded()) {
    a.error = "UCX is not installed here: " + library_error();
    return a;
  }
  unsigned major = 0, minor = 0, release = 0;
  ucp_get_version(&major, &minor, &release);
  a.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
  ucp_config_t* config = nullptr;
  ucs_status_t st = ucp_config_read(nullptr, nullptr, &config);
  if (st != UCS_OK) {
    a.error = ucs_error("ucp_config_read", st);
    return a;
  }
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES;
  params.features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
  ucp_context_h ctx = nullptr;
  st = ucp_init(&params, config, &ctx);
  ucp_config_release(config);
  if (st != UCS_OK) {
    a.error = ucs_error("ucp_init", st);
    return a;
  }
  ucp_cleanup(ctx);
  a.available = true;
  return a;
}

Status Worker::open(const Options& options, std::function<void()> wake, std::unique_ptr<Worker>* out) {
  if (options.window_bytes < 2 * options.chunk_bytes || options.chunk_bytes < 4096) {
    return Status(Code::kInvalidArgument, "the UCX window must hold at least two chunks of at least 4 KiB");
  }
  prepare_environment();
  if (!ucp().loaded()) return Status(Code::kIo, "UCX is not installed here: " + library_error());
  std::unique_ptr<Worker> w(new Worker());
  w->options_ = options;
  w->wake_ = std::move(wake);  // before the thread starts: it is read there without a lock
  w->impl_ = std::make_unique<Impl>();
  Impl& m = *w->impl_;
  ucp_config_t* config = nullptr;
  ucs_status_t st = ucp_config_read(nullptr, nullptr, &config);
  if (st != UCS_OK) return Status(Code::kIo, ucs_error("ucp_config_read", st));
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED;
  params.features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
  params.mt_workers_shared = 0;
  st = ucp_init(&params, config, &m.context);
  ucp_config_release(config);
  if (st != UCS_OK) return Status(Code::kIo, ucs_error("ucp_init", st));
  ucp_worker_params_t wp{};
  wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  wp.thread_mode = UCS_THREAD_MODE_SINGLE;  // only the progress thread calls UCP
  st = ucp_worker_create(m.context, &wp, &m.worker);
  if (st != UCS_OK) return Status(Code::kIo, ucs_error("ucp_worker_create", st));
  ucp_address_t* addr = nullptr;
  size_t addr_len = 0;
  st = ucp_worker_get_address(m.worker, &addr, &addr_len);
  if (st != UCS_OK) return Status(Code::kIo, ucs_error("ucp_worker_get_address", st));
  w->address_.assign(reinterpret_cast<uint8_t*>(addr), reinterpret_cast<uint8_t*>(addr) + addr_len);
  ucp_worker_release_address(m.worker, addr);
  RAGWIRE_RETURN_IF_ERROR(w->register_handlers());
  int efd = -1;
  st = ucp_worker_get_efd(m.worker, &efd);
  if (st != UCS_OK) return Status(Code::kIo, ucs_error("ucp_worker_get_efd", st));
  m.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  m.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (m.wake_fd < 0 || m.epoll_fd < 0) return Status(Code::kIo, std::string("eventfd/epoll: ") + strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = efd;
  epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, efd, &ev);
  ev.data.fd = m.wake_fd;
  epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.wake_fd, &ev);
  w->commands_ = new std::vector<Command>();
  Worker* raw = w.get();
  w->thread_ = std::thread([raw] { raw->run(); });
  *out = std::move(w);
  return Status::ok();
}

Worker::~Worker() {
  if (thread_.joinable()) {
    stop_.store(true);
    uint64_t one = 1;
    (void)!write(impl_->wake_fd, &one, sizeof one);
    thread_.join();
  }
  if (impl_) {
    Impl& m = *impl_;
    if (m.worker) ucp_worker_destroy(m.worker);
    if (m.context) ucp_cleanup(m.context);
    if (m.epoll_fd >= 0) ::close(m.epoll_fd);
    if (m.wake_fd >= 0) ::close(m.wake_fd);
  }
  delete commands_;
}

uint64_t Worker::new_connection(std::shared_ptr<const Serving> serving) {
  uint64_t id = next_conn_.fetch_add(1);
  auto ledger = std::make_shared<Ledger>();
  ledger->serving = std::move(serving);
  {
    std::lock_guard<std::mutex> lock(ledgers_mu_);
    ledgers_[id] = std::move(ledger);
  }
  Command c{Command::kConnect, id};
  c.arg = 0;  // registration only: the endpoint comes with connect()
  push(std::move(c));
  return id;
}

void Worker::connect(uint64_t conn, std::vector<uint8_t> remote_address, uint64_t remote_id, size_t remote_window) {
  Command c{Command::kConnect, conn, remote_id, remote_window};
  c.bytes = std::move(remote_address);
  push(std::move(c));
}

size_t Worker::send(uint64_t conn, std::vector<uint8_t> bytes, size_t allowance) {
  std::shared_ptr<Ledger> ledger;
  {
    std::lock_guard<std::mutex> lock(ledgers_mu_);
    auto it = ledgers_.find(conn);
    if (it == ledgers_.end()) return 0;
    ledger = it->second;
  }
  size_t now = ledger->unsent.fetch_add(bytes.size()) + bytes.size();
  Command c{Command::kSend, conn, now > allowance ? 1u : 0u};
  c.bytes = std::move(bytes);
  push(std::move(c));
  return now;
}

void Worker::set_state(uint64_t conn, dataplane::ConnState state) {
  Command c{Command::kState, conn};
  c.state = std::move(state);
  push(std::move(c));
}

uint64_t Worker::answered_bytes(uint64_t conn) {
  std::lock_guard<std::mutex> lock(ledgers_mu_);
  auto it = ledgers_.find(conn);
  return it == ledgers_.end() ? 0 : it->second->answered.load();
}

void Worker::barrier() { push(Command{Command::kBarrier, 0}); }

void Worker::ack(uint64_t conn, size_t bytes) { push(Command{Command::kAck, conn, bytes}); }
void Worker::finish(uint64_t conn) { push(Command{Command::kFinish, conn}); }

void Worker::close(uint64_t conn, bool graceful) {
  {
    std::lock_guard<std::mutex> lock(ledgers_mu_);
    ledgers_.erase(conn);
  }
  push(Command{Command::kClose, conn, graceful ? 1u : 0u});
}

void Worker::peer_gone(uint64_t conn, std::string why) {
  Command c{Command::kPeerGone, conn};
  c.text = std::move(why);
  push(std::move(c));
}

void Worker::push(Command c) {
  {
    std::lock_guard<std::mutex> lock(commands_mu_);
    commands_->push_back(std::move(c));
  }
  // Dekker with run(): it sets sleeping_ and then looks at the queue; we queue, then look at sleeping_.
  if (sleeping_.load(std::memory_order_seq_cst)) {
    uint64_t one = 1;
    (void)!write(impl_->wake_fd, &one, sizeof one);
  }
}

void Worker::emit(Event e) {
  std::lock_guard<std::mutex> lock(events_mu_);
  events_.push_back(std::move(e));
}

std::vector<Event> Worker::drain() {
  events_pending_.store(false);
  std::vector<Event> out;
  std::lock_guard<std::mutex> lock(events_mu_);
  out.swap(events_);
  return out;
}

void Worker::run() {
  Impl& m = *impl_;
  std::vector<Command> batch;
  int64_t last_work = now_us();
  while (!stop_.load(std::memory_order_relaxed)) {
    bool work = false;
    {
      std::lock_guard<std::mutex> lock(commands_mu_);
      batch.swap(*commands_);
    }
    for (Command& c : batch) execute(c);
    work = !batch.empty();
    batch.clear();
    while (ucp_worker_progress(m.worker) != 0) work = true;
    bool have_events;
    {
      std::lock_guard<std::mutex> lock(events_mu_);
      have_events = !events_.empty();
    }
    // One wake-up of JavaScript for every event queued until it drains them.
    if (have_events && !events_pending_.exchange(true)) wake_();
    int64_t t = now_us();
    if (work) {
      last_work = t;
      continue;
    }
    if (options_.spin_us < 0 || t - last_work < options_.spin_us) {
      cpu_relax();
      continue;
    }
    sleeping_.store(true, std::memory_order_seq_cst);
    bool queued;
    {
      std::lock_guard<std::mutex> lock(commands_mu_);
      queued = !commands_->empty();
    }
    if (!queued && !stop_.load() && ucp_worker_arm(m.worker) == UCS_OK) {
      epoll_event evs[2];
      sleeps_.fetch_add(1, std::memory_order_relaxed);
      int n = epoll_wait(m.epoll_fd, evs, 2, -1);
      for (int i = 0; i < n; i++) {
        if (evs[i].data.fd == m.wake_fd) {
          uint64_t v;
          (void)!read(m.wake_fd, &v, sizeof v);
        }
      }
    }
    sleeping_.store(false, std::memory_order_seq_cst);
    last_work = now_us();
  }
  // Shutting down: force every endpoint closed.
  for (auto& [id, c] : m.conns) {
    if (c->ep == nullptr) continue;
    ucp_request_param_t p{};
    p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    p.flags = UCP_EP_CLOSE_FLAG_FORCE;
    void* req = ucp_ep_close_nbx(c->ep, &p);
    if (UCS_PTR_IS_PTR(req)) {
      while (ucp_request_check_status(req) == UCS_INPROGRESS) ucp_worker_progress(m.worker);
      ucp_request_free(req);
    }
  }
  m.conns.clear();
}

}  // namespace ragwire::ucx
