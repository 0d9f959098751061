// ragwire_ucx_pingpong: the round trip of ragwire's UCX byte stream (src/ucx) between two processes
// of one host with no JavaScript on either side, beside the same ping-pong over loopback TCP between
// the same two processes (blocking sockets). Each side is a served connection
// (src/dataplane/served_stream.hpp): 64-byte QUERY-typed frames are walked and answered on the
// progress thread, the server echoing, the client timing each round trip and sending the next. This
// is the floor the native data plane's transport adds; bench/src/e2e-retrieval/transport-floor.ts
// puts it beside the Node echo.
//
//   ragwire_ucx_pingpong [--rounds 20000] [--warmup 2000] [--spin-us -1] [--bytes 64]
//
// --bytes sets the frame size (64 by default; 6,144,016 is a frame of 1,000 1536-d vectors).
//
// Prints one JSON line: {"ucx": {p50_us, p99_us, mean_us}, "tcp": {...}, rounds, bytes, spinUs, tls}.
// UCX_TLS and the other UCX variables apply (unset: UCX picks shared memory between the processes).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../src/dataplane/query_answerer.hpp"
#include "../src/ucx/ucx_worker.hpp"

using namespace ragwire;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "ragwire_ucx_pingpong: %s\n", why.c_str());
  std::exit(1);
}

// A QUERY-typed frame of `bytes` bytes (a multiple of 4, at least 12): the header the splitter
// checks, then zeros. Neither side decodes the body.
std::vector<uint8_t> ping_frame(size_t bytes, uint32_t request_id) {
  std::vector<uint8_t> f(bytes, 0);
  const uint32_t length = (uint32_t)bytes - 4;
  std::memcpy(f.data(), &length, 4);
  f[4] = dataplane::kProtocolVersion;
  f[5] = 0x20;  // QUERY
  std::memcpy(f.data() + 8, &request_id, 4);
  return f;
}

struct Pong : dataplane::QueryAnswerer {
  bool echo = false;
  size_t rounds = 0;
  size_t bytes = 0;
  std::vector<int64_t> rtt_ns;
  int64_t sent_at = 0;
  uint32_t next_id = 1;
  std::atomic<bool> done{false};

  bool answer(const uint8_t* frame, size_t n, const dataplane::ConnState&, std::vector<uint8_t>& reply) override {
    if (echo) {
      reply.insert(reply.end(), frame, frame + n);
      return true;
    }
    const int64_t t = now_ns();
    rtt_ns.push_back(t - sent_at);
    if (rtt_ns.size() >= rounds) {
      done = true;
      return true;
    }
    sent_at = t;
    const std::vector<uint8_t> next = ping_frame(bytes, ++next_id);
    reply.insert(reply.end(), next.begin(), next.end());
    return true;
  }
};

void write_all(int fd, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, b, n);
    if (w <= 0) die("write to the peer failed");
    b += w;
    n -= (size_t)w;
  }
}

void read_all(int fd, void* p, size_t n) {
  auto* b = static_cast<uint8_t*>(p);
  while (n > 0) {
    const ssize_t r = ::read(fd, b, n);
    if (r <= 0) die("read from the peer failed");
    b += r;
    n -= (size_t)r;
  }
}

struct Summary {
  double p50_us, p99_us, mean_us;
};

Summary summarize(std::vector<int64_t> ns, size_t warmup) {
  ns.erase(ns.begin(), ns.begin() + (ptrdiff_t)std::min(warmup, ns.size()));
  std::sort(ns.begin(), ns.end());
  double sum = 0;
  for (int64_t v : ns) sum += (double)v;
  auto at = [&](double q) { return ns[(size_t)(q * (double)(ns.size() - 1))] / 1000.0; };
  return {at(0.5), at(0.99), sum / (double)ns.size() / 1000.0};
}

// One side of the UCX ping-pong; `control` carries the worker addresses, then the end.
Summary ucx_side(int control, bool client, size_t rounds, size_t warmup, size_t bytes, int64_t spin_us) {
  ucx::Options options;
  options.spin_us = spin_us;
  // A kept frame is held whole before it is answered: the credit window must take it.
  options.window_bytes = std::max(options.window_bytes, 2 * bytes);
  std::unique_ptr<ucx::Worker> worker;
  if (Status st = ucx::Worker::open(
          options, [] {}, &worker);
      !st.is_ok())
    die(st.message());
  auto pong = std::make_shared<Pong>();
  pong->echo = !client;
  pong->rounds = rounds + warmup;
  pong->bytes = bytes;
  auto serving = std::make_shared<ucx::Serving>();
  serving->answerer = pong;
  // Frames of any size this run sends are kept whole for the answerer.
  serving->limits.keep_frame_bytes = std::max<size_t>(serving->limits.keep_frame_bytes, bytes);
  serving->limits.max_frame_bytes = std::max<uint64_t>(serving->limits.max_frame_bytes, bytes);
  const uint64_t conn = worker->new_connection(serving);
  dataplane::ConnState ready;
  ready.ready = true;
  worker->set_state(conn, ready);
  // Each side: its connection id, window and worker address.
  const std::vector<uint8_t>& address = worker->address();
  const uint64_t mine[3] = {conn, worker->options().window_bytes, address.size()};
  write_all(control, mine, sizeof mine);
  write_all(control, address.data(), address.size());
  uint64_t theirs[3];
  read_all(control, theirs, sizeof theirs);
  std::vector<uint8_t> remote(theirs[2]);
  read_all(control, remote.data(), remote.size());
  worker->connect(conn, std::move(remote), theirs[0], theirs[1]);
  char go = 0;
  if (!client) {
    read_all(control, &go, 1);  // the client is done
    return {};
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // both endpoints exist
  pong->sent_at = now_ns();
  worker->send(conn, ping_frame(bytes, 1), SIZE_MAX);
  while (!pong->done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  write_all(control, &go, 1);
  return summarize(pong->rtt_ns, warmup);
}

// The same ping-pong over a loopback TCP connection, blocking sockets: the kernel's floor.
Summary tcp_side(int control, bool client, size_t rounds, size_t warmup, size_t bytes) {
  int fd;
  if (!client) {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener, 1) != 0) die("tcp listen");
    socklen_t len = sizeof a;
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    write_all(control, &a.sin_port, sizeof a.sin_port);
    fd = accept(listener, nullptr, nullptr);
    ::close(listener);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    read_all(control, &a.sin_port, sizeof a.sin_port);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("tcp connect");
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<uint8_t> buf(bytes);
  std::vector<int64_t> rtt;
  for (size_t i = 0; i < rounds + warmup; i++) {
    if (client) {
      const int64_t t = now_ns();
      write_all(fd, buf.data(), bytes);
      read_all(fd, buf.data(), bytes);
      rtt.push_back(now_ns() - t);
    } else {
      read_all(fd, buf.data(), bytes);
      write_all(fd, buf.data(), bytes);
    }
  }
  ::close(fd);
  return client ? summarize(rtt, warmup) : Summary{};
}

}  // namespace

int main(int argc, char** argv) {
  size_t rounds = 20000, warmup = 2000, bytes = 64;
  int64_t spin_us = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (flag == "--rounds")
      rounds = (size_t)v;
    else if (flag == "--warmup")
      warmup = (size_t)v;
    else if (flag == "--spin-us")
      spin_us = v;
    else if (flag == "--bytes")
      bytes = (size_t)v;
    else
      die("unknown flag " + flag);
  }
  if (bytes < 12 || bytes % 4 != 0 || rounds == 0)
    die("--bytes must be a multiple of 4 of at least 12, --rounds positive");
  dataplane::set_direction(0x20, dataplane::Direction::kRequest);
  const ucx::Availability a = ucx::availability();
  if (!a.available) die("UCX is not available here: " + a.error);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) die("socketpair");
  const pid_t child = fork();
  if (child < 0) die("fork");
  const bool client = child != 0;
  const int control = pair[client ? 0 : 1];
  ::close(pair[client ? 1 : 0]);
  const Summary tcp = tcp_side(control, client, rounds, warmup, bytes);
  const Summary ucx = ucx_side(control, client, rounds, warmup, bytes, spin_us);
  if (!client) return 0;
  int status = 0;
  waitpid(child, &status, 0);
  const char* tls = std::getenv("UCX_TLS");
  std::printf(
      "{\"ucx\":{\"p50_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f},\"tcp\":{\"p50_us\":%.2f,\"p99_us\":%.2f,\"mean_"
      "us\":%."
      "2f},\"rounds\":%zu,\"bytes\":%zu,\"spinUs\":%lld,\"tls\":\"%s\",\"ucxVersion\":\"%s\"}\n",
      ucx.p50_us, ucx.p99_us, ucx.mean_us, tcp.p50_us, tcp.p99_us, tcp.mean_us, rounds, bytes, (long long)spin_us,
      tls ? tls : "default", a.version.c_str());
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
