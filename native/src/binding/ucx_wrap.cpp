// The UCX worker as seen from JavaScript (native/lib/ucx.ts): one per process, its events
// handed over in batches through one thread-safe function (one wake-up, many replies).
// Built without UCX, only ucxAvailability() says anything: that it is not there.
#include "ucx_wrap.hpp"

#include <cstring>

#include "addon_state.hpp"

#ifdef RAGWIRE_HAVE_UCX
#include "../ucx/ucx_worker.hpp"
#include "dataplane_wrap.hpp"
#include "registry_wrap.hpp"
#endif

namespace ragwire::binding {

namespace {

Napi::Value availability(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#ifdef RAGWIRE_HAVE_UCX
  ucx::Availability a = ucx::availability();
  out.Set("built", true);
  out.Set("available", a.available);
  out.Set("version", a.version);
  if (!a.error.empty()) out.Set("error", a.error);
#else
  out.Set("built", false);
  out.Set("available", false);
  out.Set("error", "this build has no UCX: libucx-dev was not found at build time, or RAGWIRE_UCX=OFF");
#endif
  return out;
}

#ifdef RAGWIRE_HAVE_UCX

struct UcxState {
  std::unique_ptr<ucx::Worker> worker;
  Napi::ThreadSafeFunction events;
  // Where events go. A second ucxOpen (the JS module evaluated again in this process, as test
  // runners do) takes them over: the worker stays one per process.
  Napi::FunctionReference on_events;
  bool referenced = false;
};
UcxState* g_ucx = nullptr;  // one UCP worker per process, owned by the first environment that opens it

ucx::Worker& worker(Napi::Env env) {
  if (g_ucx == nullptr || !g_ucx->worker) throw_status(env, Code::kInternal, "UCX is not open: call ucxOpen() first");
  return *g_ucx->worker;
}

uint64_t conn_arg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw_status(info.Env(), Code::kInvalidArgument, "a UCX connection id must be a number");
  return (uint64_t)info[i].As<Napi::Number>().Int64Value();
}

void deliver(Napi::Env env, Napi::Function, std::nullptr_t*) {
  if (env == nullptr || g_ucx == nullptr || !g_ucx->worker || g_ucx->on_events.IsEmpty()) return;
  Napi::Function fn = g_ucx->on_events.Value();
  std::vector<ucx::Event> events = g_ucx->worker->drain();
  if (events.empty()) return;
  Napi::HandleScope scope(env);
  Napi::Array out = Napi::Array::New(env, events.size() * 3);
  uint32_t j = 0;
  for (ucx::Event& e : events) {
    out.Set(j++, Napi::Number::New(env, (double)e.kind));
    out.Set(j++, Napi::Number::New(env, (double)e.conn));
    if (e.kind == ucx::EventKind::kData) {
      // The chunk's own memory becomes the Buffer: no copy on the way into JavaScript.
      auto* holder = new std::shared_ptr<std::vector<uint8_t>>(std::move(e.data));
      out.Set(j++, Napi::Buffer<uint8_t>::New(
                       env, (*holder)->data(), (*holder)->size(),
                       [](Napi::Env, uint8_t*, std::shared_ptr<std::vector<uint8_t>>* h) { delete h; }, holder));
    } else if (e.kind == ucx::EventKind::kClosed) {
      out.Set(j++, Napi::String::New(env, e.message));
    } else {
      out.Set(j++, env.Undefined());
    }
  }
  fn.Call({out});
}

void shutdown(void*) {
  if (g_ucx == nullptr) return;
  g_ucx->worker.reset();  // joins the progress thread before the function it calls goes
  g_ucx->events.Release();
  g_ucx->on_events.Reset();
  delete g_ucx;
  g_ucx = nullptr;
}

Napi::Value open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsFunction()) throw Napi::TypeError::New(env, "ucxOpen(options, onEvents)");
  if (g_ucx != nullptr) {
    g_ucx->on_events = Napi::Persistent(info[1].As<Napi::Function>());
    Napi::Object out = Napi::Object::New(env);
    const auto& addr = g_ucx->worker->address();
    out.Set("address", Napi::Buffer<uint8_t>::Copy(env, addr.data(), addr.size()));
    out.Set("windowBytes", Napi::Number::New(env, (double)g_ucx->worker->options().window_bytes));
    return out;
  }
  Napi::Object o = info[0].As<Napi::Object>();
  ucx::Options options;
  if (o.Get("spinUs").IsNumber()) options.spin_us = o.Get("spinUs").As<Napi::Number>().Int64Value();
  Napi::ThreadSafeFunction tsfn = Napi::ThreadSafeFunction::New(
      env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "ragwire-ucx", 0, 1);
  tsfn.Unref(env);
  std::unique_ptr<ucx::Worker> w;
  Status st = ucx::Worker::open(
      options, [tsfn]() mutable { tsfn.NonBlockingCall(static_cast<std::nullptr_t*>(nullptr), deliver); }, &w);
  if (!st.is_ok()) {
    tsfn.Release();
    throw to_js_error(env, st);
  }
  g_ucx = new UcxState();
  g_ucx->events = tsfn;
  g_ucx->on_events = Napi::Persistent(info[1].As<Napi::Function>());
  g_ucx->worker = std::move(w);
  napi_add_env_cleanup_hook(env, shutdown, nullptr);
  const auto& addr = g_ucx->worker->address();
  Napi::Object out = Napi::Object::New(env);
  out.Set("address", Napi::Buffer<uint8_t>::Copy(env, addr.data(), addr.size()));
  out.Set("windowBytes", Napi::Number::New(env, (double)g_ucx->worker->options().window_bytes));
  return out;
}

// ucxConnection() -> id: a client's connection. ucxConnection(registry, protocolLimits, storeCaps,
// { maxFrameBytes, keepFrameBytes, replyHighWaterBytes }) -> id: a served connection, whose QUERY
// frames the progress thread answers from the registry once ucxSetState says it is ready.
Napi::Value new_connection(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<ucx::Serving> serving;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[3].IsObject())
      throw Napi::TypeError::New(env, "ucxConnection(registry, protocolLimits, storeCaps, serveLimits)");
    serving = std::make_shared<ucx::Serving>();
    serving->answerer = answerer_args(info, 0);
    serving->limits = serve_limits_arg(info[3].As<Napi::Object>());
    // A kept frame is held whole until answered, inside the peer's credit window: it must fit.
    if (serving->limits.keep_frame_bytes > worker(env).options().window_bytes / 2)
      throw Napi::RangeError::New(env, "ucxConnection: keepFrameBytes must be at most half the UCX window");
  }
  return Napi::Number::New(env, (double)worker(env).new_connection(std::move(serving)));
}

// ucxSetState(id, { ready, traceOn, readAny, readable }): what the server settled for a served connection.
Napi::Value set_state(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t id = conn_arg(info, 0);
  worker(env).set_state(id, conn_state_arg(env, info[1]));
  return env.Undefined();
}

Napi::Value answered_bytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)worker(info.Env()).answered_bytes(conn_arg(info, 0)));
}

Napi::Value barrier(const Napi::CallbackInfo& info) {
  worker(info.Env()).barrier();
  return info.Env().Undefined();
}

Napi::Value connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t id = conn_arg(info, 0);
  if (!info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsNumber())
    throw Napi::TypeError::New(env, "ucxConnect(id, address, remoteId, remoteWindow)");
  Napi::Uint8Array a = info[1].As<Napi::Uint8Array>();
  std::vector<uint8_t> addr(a.Data(), a.Data() + a.ByteLength());
  worker(env).connect(id, std::move(addr), (uint64_t)info[2].As<Napi::Number>().Int64Value(),
                      (size_t)info[3].As<Napi::Number>().Int64Value());
  return env.Undefined();
}

// ucxSend(id, chunks: Uint8Array[], allowance): copies the chunks into one buffer the
// progress thread owns; returns the connection's bytes not yet handed to UCX.
Napi::Value send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t id = conn_arg(info, 0);
  if (!info[1].IsArray() || !info[2].IsNumber()) throw Napi::TypeError::New(env, "ucxSend(id, chunks, allowance)");
  Napi::Array chunks = info[1].As<Napi::Array>();
  size_t total = 0;
  std::vector<Napi::Uint8Array> views;
  for (uint32_t i = 0; i < chunks.Length(); i++) {
    Napi::Value v = chunks.Get(i);
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, "ucxSend: chunks must be Uint8Arrays");
    views.push_back(v.As<Napi::Uint8Array>());
    total += views.back().ByteLength();
  }
  std::vector<uint8_t> bytes(total);
  size_t off = 0;
  for (auto& v : views) {
    if (v.ByteLength() > 0) std::memcpy(bytes.data() + off, v.Data(), v.ByteLength());
    off += v.ByteLength();
  }
  size_t queued = worker(env).send(id, std::move(bytes), (size_t)info[2].As<Napi::Number>().Int64Value());
  return Napi::Number::New(env, (double)queued);
}

Napi::Value ack(const Napi::CallbackInfo& info) {
  worker(info.Env()).ack(conn_arg(info, 0), (size_t)info[1].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

Napi::Value finish(const Napi::CallbackInfo& info) {
  worker(info.Env()).finish(conn_arg(info, 0));
  return info.Env().Undefined();
}

Napi::Value close(const Napi::CallbackInfo& info) {
  worker(info.Env()).close(conn_arg(info, 0), info[1].ToBoolean());
  return info.Env().Undefined();
}

Napi::Value peer_gone(const Napi::CallbackInfo& info) {
  worker(info.Env())
      .peer_gone(conn_arg(info, 0), info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "the peer went away");
  return info.Env().Undefined();
}

// ucxRef(true) while connections are open keeps the process alive for their events.
Napi::Value ref(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool want = info[0].ToBoolean();
  if (g_ucx != nullptr && want != g_ucx->referenced) {
    if (want)
      g_ucx->events.Ref(env);
    else
      g_ucx->events.Unref(env);
    g_ucx->referenced = want;
  }
  return env.Undefined();
}

Napi::Value stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  ucx::Worker& w = worker(env);
  const dataplane::AnswerCounters& c = w.counters();
  out.Set("sleeps", Napi::Number::New(env, (double)w.sleeps()));
  out.Set("frames", Napi::Number::New(env, (double)c.frames.load()));
  out.Set("queries", Napi::Number::New(env, (double)c.queries.load()));
  out.Set("answered", Napi::Number::New(env, (double)c.answered.load()));
  out.Set("declined", Napi::Number::New(env, (double)c.declined.load()));
  out.Set("answerTimes", answer_times_object(env, c.answer_time_counts(), c.answer_ns.load()));
  return out;
}

#endif  // RAGWIRE_HAVE_UCX

}  // namespace

void define_ucx(Napi::Env env, Napi::Object exports) {
  exports.Set("ucxAvailability", Napi::Function::New(env, availability, "ucxAvailability"));
#ifdef RAGWIRE_HAVE_UCX
  exports.Set("ucxOpen", Napi::Function::New(env, open, "ucxOpen"));
  exports.Set("ucxConnection", Napi::Function::New(env, new_connection, "ucxConnection"));
  exports.Set("ucxConnect", Napi::Function::New(env, connect, "ucxConnect"));
  exports.Set("ucxSend", Napi::Function::New(env, send, "ucxSend"));
  exports.Set("ucxAck", Napi::Function::New(env, ack, "ucxAck"));
  exports.Set("ucxFinish", Napi::Function::New(env, finish, "ucxFinish"));
  exports.Set("ucxClose", Napi::Function::New(env, close, "ucxClose"));
  exports.Set("ucxPeerGone", Napi::Function::New(env, peer_gone, "ucxPeerGone"));
  exports.Set("ucxSetState", Napi::Function::New(env, set_state, "ucxSetState"));
  exports.Set("ucxAnsweredBytes", Napi::Function::New(env, answered_bytes, "ucxAnsweredBytes"));
  exports.Set("ucxBarrier", Napi::Function::New(env, barrier, "ucxBarrier"));
  exports.Set("ucxRef", Napi::Function::New(env, ref, "ucxRef"));
  exports.Set("ucxStats", Napi::Function::New(env, stats, "ucxStats"));
#endif
}

}  // namespace ragwire::binding
