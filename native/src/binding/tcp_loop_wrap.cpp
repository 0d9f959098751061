// The native TCP loop (src/dataplane/tcp_loop.cpp) as JavaScript sees it: each listener is a loop
// with its own thread; its events reach JavaScript in batches through one thread-safe function
// (one wake-up carries every event queued since the last, for every connection of the loop).
#include "tcp_loop_wrap.hpp"

#include <cstring>
#include <map>

#include "../dataplane/tcp_loop.hpp"
#include "addon_state.hpp"
#include "dataplane_wrap.hpp"
#include "registry_wrap.hpp"

namespace ragwire::binding {

namespace {

struct LoopHandle {
  uint32_t id = 0;
  std::unique_ptr<dataplane::TcpLoop> loop;
  Napi::ThreadSafeFunction events;
  Napi::FunctionReference on_events;
  bool referenced = false;
};

// Loops by id; touched on the JavaScript thread only.
std::map<uint32_t, LoopHandle*> g_loops;
uint32_t g_next_loop = 1;

LoopHandle* find(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw_status(info.Env(), Code::kInvalidArgument, "a TCP loop id must be a number");
  auto it = g_loops.find(info[0].As<Napi::Number>().Uint32Value());
  return it == g_loops.end() ? nullptr : it->second;
}

uint64_t conn_arg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw_status(info.Env(), Code::kInvalidArgument, "a connection id must be a number");
  return (uint64_t)info[i].As<Napi::Number>().Int64Value();
}

void deliver(Napi::Env env, Napi::Function, void* data) {
  auto it = g_loops.find((uint32_t)(uintptr_t)data);
  if (env == nullptr || it == g_loops.end() || !it->second->loop) return;
  LoopHandle& h = *it->second;
  std::vector<dataplane::LoopEvent> events = h.loop->drain();
  if (events.empty()) return;
  Napi::HandleScope scope(env);
  Napi::Array out = Napi::Array::New(env, events.size() * 3);
  uint32_t j = 0;
  for (dataplane::LoopEvent& e : events) {
    out.Set(j++, Napi::Number::New(env, (double)e.kind));
    out.Set(j++, Napi::Number::New(env, (double)e.conn));
    switch (e.kind) {
      case dataplane::LoopEventKind::kData: {
        // The read buffer itself becomes the Buffer: no copy on the way into JavaScript.
        auto* holder = new std::shared_ptr<std::vector<uint8_t>>(std::move(e.data));
        out.Set(j++, Napi::Buffer<uint8_t>::New(
                         env, (*holder)->data(), (*holder)->size(),
                         [](Napi::Env, uint8_t*, std::shared_ptr<std::vector<uint8_t>>* p) { delete p; }, holder));
        break;
      }
      case dataplane::LoopEventKind::kAccept:
      case dataplane::LoopEventKind::kClosed: out.Set(j++, Napi::String::New(env, e.message)); break;
      case dataplane::LoopEventKind::kEnd:
      case dataplane::LoopEventKind::kDrain:
      case dataplane::LoopEventKind::kBarrier: out.Set(j++, env.Undefined()); break;
    }
  }
  h.on_events.Value().Call({out});
}

void dispose(LoopHandle* h) {
  g_loops.erase(h->id);
  h->loop.reset();  // joins the loop thread before the function it calls goes
  h->events.Release();
  h->on_events.Reset();
  delete h;
}

void cleanup(void* arg) {
  auto it = g_loops.find((uint32_t)(uintptr_t)arg);
  if (it != g_loops.end()) dispose(it->second);
}

// tcpLoopOpen(host, port, { maxFrameBytes, maxUnsentBytes, readWindowBytes, keepFrameBytes,
// replyHighWaterBytes, closeLingerMs, spinUs, beside? }, onEvents) -> { id, port }. With `beside` (a loop
// id), the new loop joins that loop's listener: it is handed its share of the connections that
// loop accepts (host and port are that loop's).
Napi::Value open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsNumber() || !info[2].IsObject() || !info[3].IsFunction())
    throw Napi::TypeError::New(env, "tcpLoopOpen(host, port, options, onEvents)");
  Napi::Object o = info[2].As<Napi::Object>();
  dataplane::LoopOptions options;
  options.serve = serve_limits_arg(o);
  options.max_unsent_bytes = size_field(o, "maxUnsentBytes", options.max_unsent_bytes);
  options.read_window_bytes = size_field(o, "readWindowBytes", options.read_window_bytes);
  options.read_chunk_bytes = options.read_window_bytes;
  options.linger_ms = (int64_t)size_field(o, "closeLingerMs", (size_t)options.linger_ms);
  if (o.Get("spinUs").IsNumber()) options.spin_us = o.Get("spinUs").As<Napi::Number>().Int64Value();
  const uint32_t id = g_next_loop++;
  Napi::ThreadSafeFunction tsfn = Napi::ThreadSafeFunction::New(
      env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "ragwire-tcp-loop", 0, 1);
  tsfn.Unref(env);
  std::unique_ptr<dataplane::TcpLoop> loop;
  auto wake = [tsfn, id]() mutable { tsfn.NonBlockingCall(reinterpret_cast<void*>((uintptr_t)id), deliver); };
  Status st;
  if (o.Get("beside").IsNumber()) {
    auto first = g_loops.find(o.Get("beside").As<Napi::Number>().Uint32Value());
    st = first == g_loops.end() || !first->second->loop
             ? Status(Code::kInvalidArgument, "tcpLoopOpen: no loop to open beside")
             : dataplane::TcpLoop::open_beside(*first->second->loop, options, wake, &loop);
  } else {
    st = dataplane::TcpLoop::open(info[0].As<Napi::String>().Utf8Value(),
                                  (uint16_t)info[1].As<Napi::Number>().Uint32Value(), options, wake, &loop);
  }
  if (!st.is_ok()) {
    tsfn.Release();
    throw to_js_error(env, st);
  }
  auto* h = new LoopHandle();
  h->id = id;
  h->events = tsfn;
  h->on_events = Napi::Persistent(info[3].As<Napi::Function>());
  h->loop = std::move(loop);
  g_loops[id] = h;
  napi_add_env_cleanup_hook(env, cleanup, reinterpret_cast<void*>((uintptr_t)id));
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", Napi::Number::New(env, id));
  out.Set("port", Napi::Number::New(env, h->loop->port()));
  return out;
}

// tcpLoopSend(loop, conn, chunks: Uint8Array[], allowance): copies the chunks into one buffer the
// loop owns; returns the connection's bytes not yet taken by the kernel (0: the connection is gone).
Napi::Value send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoopHandle* h = find(info);
  const uint64_t conn = conn_arg(info, 1);
  if (!info[2].IsArray() || !info[3].IsNumber())
    throw Napi::TypeError::New(env, "tcpLoopSend(loop, conn, chunks, allowance)");
  Napi::Array chunks = info[2].As<Napi::Array>();
  std::vector<Napi::Uint8Array> views;
  size_t total = 0;
  for (uint32_t i = 0; i < chunks.Length(); i++) {
    Napi::Value v = chunks.Get(i);
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, "tcpLoopSend: chunks must be Uint8Arrays");
    views.push_back(v.As<Napi::Uint8Array>());
    total += views.back().ByteLength();
  }
  if (h == nullptr) return Napi::Number::New(env, 0);
  std::vector<uint8_t> bytes(total);
  size_t off = 0;
  for (auto& v : views) {
    if (v.ByteLength() > 0) std::memcpy(bytes.data() + off, v.Data(), v.ByteLength());
    off += v.ByteLength();
  }
  return Napi::Number::New(
      env, (double)h->loop->send(conn, std::move(bytes), (size_t)info[3].As<Napi::Number>().Int64Value()));
}

Napi::Value ack(const Napi::CallbackInfo& info) {
  if (LoopHandle* h = find(info)) h->loop->ack(conn_arg(info, 1), (size_t)info[2].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

Napi::Value finish(const Napi::CallbackInfo& info) {
  if (LoopHandle* h = find(info)) h->loop->finish(conn_arg(info, 1));
  return info.Env().Undefined();
}

Napi::Value close(const Napi::CallbackInfo& info) {
  if (LoopHandle* h = find(info)) h->loop->close(conn_arg(info, 1), info[2].ToBoolean());
  return info.Env().Undefined();
}

// tcpLoopSetState(loop, conn, { ready, traceOn, readAny, readable: string[] }): what JavaScript
// settled for the connection (HELLO, token, EXTENSIONS).
Napi::Value set_state(const Napi::CallbackInfo& info) {
  LoopHandle* h = find(info);
  const uint64_t conn = conn_arg(info, 1);
  dataplane::ConnState state = conn_state_arg(info.Env(), info[2]);
  if (h != nullptr) h->loop->set_state(conn, std::move(state));
  return info.Env().Undefined();
}

// tcpLoopAnswerFrom(loop, registry, protocolLimits, { maxK, maxEfSearch }): the loop answers the
// QUERY frames of ready connections from that registry's collections.
Napi::Value answer_from(const Napi::CallbackInfo& info) {
  LoopHandle* h = find(info);
  auto answerer = answerer_args(info, 1);
  if (h != nullptr) h->loop->set_answerer(std::move(answerer));
  return info.Env().Undefined();
}

Napi::Value answered_bytes(const Napi::CallbackInfo& info) {
  LoopHandle* h = find(info);
  const uint64_t conn = conn_arg(info, 1);
  return Napi::Number::New(info.Env(), h == nullptr ? 0 : (double)h->loop->answered_bytes(conn));
}

Napi::Value barrier(const Napi::CallbackInfo& info) {
  if (LoopHandle* h = find(info)) h->loop->barrier();
  return info.Env().Undefined();
}

Napi::Value stop_accepting(const Napi::CallbackInfo& info) {
  if (LoopHandle* h = find(info)) h->loop->stop_accepting();
  return info.Env().Undefined();
}

// tcpLoopDispose(loop): stops the thread and closes every socket it still holds.
Napi::Value dispose_loop(const Napi::CallbackInfo& info) {
  if (LoopHandle* h = find(info)) {
    napi_remove_env_cleanup_hook(info.Env(), cleanup, reinterpret_cast<void*>((uintptr_t)h->id));
    dispose(h);
  }
  return info.Env().Undefined();
}

// tcpLoopRef(loop, true) while connections are open or the listener accepts keeps the process alive.
Napi::Value ref(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoopHandle* h = find(info);
  const bool want = info[1].ToBoolean();
  if (h != nullptr && want != h->referenced) {
    if (want)
      h->events.Ref(env);
    else
      h->events.Unref(env);
    h->referenced = want;
  }
  return env.Undefined();
}

Napi::Value stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoopHandle* h = find(info);
  if (h == nullptr) throw_status(env, Code::kInvalidArgument, "no such TCP loop");
  dataplane::TcpLoop::Stats s = h->loop->stats();
  Napi::Object out = Napi::Object::New(env);
  out.Set("waits", (double)s.sleeps);
  out.Set("frames", (double)s.frames);
  out.Set("queries", (double)s.queries);
  out.Set("answered", (double)s.answered);
  out.Set("declined", (double)s.declined);
  out.Set("ready", (double)s.ready);
  out.Set("accepted", (double)s.accepted);
  out.Set("open", (double)s.open);
  out.Set("unsentBytes", (double)s.unsent);
  out.Set("answerTimes", answer_times_object(env, s.answer_times, s.answer_ns));
  return out;
}

}  // namespace

void define_tcp_loop(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpLoopOpen", Napi::Function::New(env, open, "tcpLoopOpen"));
  exports.Set("tcpLoopSend", Napi::Function::New(env, send, "tcpLoopSend"));
  exports.Set("tcpLoopAck", Napi::Function::New(env, ack, "tcpLoopAck"));
  exports.Set("tcpLoopFinish", Napi::Function::New(env, finish, "tcpLoopFinish"));
  exports.Set("tcpLoopClose", Napi::Function::New(env, close, "tcpLoopClose"));
  exports.Set("tcpLoopAnswerFrom", Napi::Function::New(env, answer_from, "tcpLoopAnswerFrom"));
  exports.Set("tcpLoopAnsweredBytes", Napi::Function::New(env, answered_bytes, "tcpLoopAnsweredBytes"));
  exports.Set("tcpLoopBarrier", Napi::Function::New(env, barrier, "tcpLoopBarrier"));
  exports.Set("tcpLoopSetState", Napi::Function::New(env, set_state, "tcpLoopSetState"));
  exports.Set("tcpLoopStopAccepting", Napi::Function::New(env, stop_accepting, "tcpLoopStopAccepting"));
  exports.Set("tcpLoopDispose", Napi::Function::New(env, dispose_loop, "tcpLoopDispose"));
  exports.Set("tcpLoopRef", Napi::Function::New(env, ref, "tcpLoopRef"));
  exports.Set("tcpLoopStats", Napi::Function::New(env, stats, "tcpLoopStats"));
}

}  // namespace ragwire::binding
