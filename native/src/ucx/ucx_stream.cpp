// A connection's byte stream over UCP active messages (docs/protocol.md §2.3): writes cut into
// chunks, chunks numbered and put back in order, a credit window the receiver refills as its
// owner consumes, and a peer that sends past its window is cut off. Progress thread only.
#include <algorithm>
#include <cstring>

#include "ucx_internal.hpp"

namespace ragwire::ucx {

namespace {

ucs_status_t am_data_cb(void* arg, const void* header, size_t header_length, void* data, size_t length,
                        const ucp_am_recv_param_t* param);
ucs_status_t am_credit_cb(void* arg, const void* header, size_t header_length, void*, size_t,
                          const ucp_am_recv_param_t*);

void on_recv_done(void* request, ucs_status_t status, size_t, void* user_data) {
  auto* op = static_cast<Op*>(user_data);
  op->worker->on_chunk_done(op->conn, op->seq, status);
  delete op;
  ucp_request_free(request);
}

void on_send_done(void* request, ucs_status_t status, void* user_data) {
  auto* op = static_cast<Op*>(user_data);
  if (status != UCS_OK && status != UCS_ERR_CANCELED) op->worker->on_ep_error(op->conn, ucs_status_string(status));
  delete op;
  ucp_request_free(request);
}

// Endpoint errors arrive on the progress thread, which runs one worker: the id is the argument.
thread_local Worker* progress_worker = nullptr;

void on_ep_error_cb(void* arg, ucp_ep_h, ucs_status_t status) {
  if (progress_worker == nullptr) return;
  progress_worker->on_ep_error(reinterpret_cast<uintptr_t>(arg),
                               std::string("UCX endpoint failed: ") + ucs_status_string(status));
}

void on_close_done(void* request, ucs_status_t, void*) { ucp_request_free(request); }

ucs_status_t am_data_cb(void* arg, const void* header, size_t header_length, void* data, size_t length,
                        const ucp_am_recv_param_t* param) {
  if (header_length != sizeof(DataHeader)) return UCS_OK;  // not ours: drop
  DataHeader h;
  std::memcpy(&h, header, sizeof h);
  static_cast<Worker*>(arg)->on_am_data(h, data, length, (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0);
  return UCS_OK;
}

ucs_status_t am_credit_cb(void* arg, const void* header, size_t header_length, void*, size_t,
                          const ucp_am_recv_param_t*) {
  if (header_length != sizeof(CreditHeader)) return UCS_OK;
  CreditHeader h;
  std::memcpy(&h, header, sizeof h);
  static_cast<Worker*>(arg)->on_credit(h.conn, h.bytes);
  return UCS_OK;
}

}  // namespace

Status Worker::register_handlers() {
  for (auto [id, cb] : {std::pair<unsigned, ucp_am_recv_callback_t>{kAmData, am_data_cb}, {kAmCredit, am_credit_cb}}) {
    ucp_am_handler_param_t p{};
    p.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG;
    p.id = id;
    p.cb = cb;
    p.arg = this;
    ucs_status_t st = ucp_worker_set_am_recv_handler(impl_->worker, &p);
    if (st != UCS_OK) return Status(Code::kIo, std::string("ucp_worker_set_am_recv_handler: ") + ucs_status_string(st));
  }
  return Status::ok();
}

Connection* Worker::find(uint64_t id) {
  auto it = impl_->conns.find(id);
  return it == impl_->conns.end() ? nullptr : it->second.get();
}

Connection* Worker::adopt(uint64_t id) {
  auto& slot = impl_->conns[id];
  if (!slot) {
    slot = std::make_unique<Connection>();
    slot->id = id;
    {
      std::lock_guard<std::mutex> lock(ledgers_mu_);
      auto it = ledgers_.find(id);
      slot->ledger = it != ledgers_.end() ? it->second : std::make_shared<Ledger>();
    }
    // Walked from the first byte: the frame boundaries are known before JavaScript says it is ready.
    if (slot->ledger->serving) slot->served = std::make_unique<dataplane::ServedStream>();
  }
  return slot.get();
}

void Worker::execute(Command& cmd) {
  Impl& m = *impl_;
  if (cmd.kind == Command::kConnect && cmd.bytes.empty()) {
    adopt(cmd.conn);
    return;
  }
  if (cmd.kind == Command::kBarrier) {
    // Commands run between progress calls: every chunk received before this one was asked is past.
    emit(Event{EventKind::kBarrier, 0, nullptr, {}});
    return;
  }
  Connection* c = find(cmd.conn);
  if (c != nullptr && cmd.kind == Command::kClose) {
    // Graceful (both streams ended): flush what is queued, our end-of-stream included.
    if (!c->closing) close_ep(*c, /*force=*/cmd.arg == 0);
    m.conns.erase(cmd.conn);
    return;
  }
  if (c == nullptr || c->closing) return;
  switch (cmd.kind) {
    case Command::kConnect: {
      c->remote_id = cmd.arg;
      c->remote_window = cmd.arg2;
      progress_worker = this;
      // No peer failure handling by UCX (UCP_ERR_HANDLING_MODE_PEER rules out shared memory in
      // UCX 1.13): the control socket tells when the peer is gone (peer_gone).
      ucp_ep_params_t p{};
      p.field_mask =
          UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER;
      p.address = reinterpret_cast<const ucp_address_t*>(cmd.bytes.data());
      p.err_mode = UCP_ERR_HANDLING_MODE_NONE;
      p.err_handler.cb = on_ep_error_cb;
      p.err_handler.arg = reinterpret_cast<void*>(static_cast<uintptr_t>(c->id));
      ucs_status_t st = ucp_ep_create(m.worker, &p, &c->ep);
      if (st != UCS_OK) {
        c->ep = nullptr;
        fail(*c, std::string("ucp_ep_create: ") + ucs_status_string(st));
        return;
      }
      // Credit owed for data that came before this endpoint existed goes back now.
      if (c->credit_owed >= options_.window_bytes / 4) send_credit(*c);
      pump(*c);
      return;
    }
    case Command::kSend: {
      Queued q;
      q.data = std::make_shared<std::vector<uint8_t>>(std::move(cmd.bytes));
      c->queue.push_back(std::move(q));
      if (cmd.arg) c->want_drain = true;
      pump(*c);
      return;
    }
    case Command::kFinish: {
      Queued q;
      q.fin = true;
      c->queue.push_back(std::move(q));
      pump(*c);
      return;
    }
    case Command::kAck: {
      size_t bytes = std::min<size_t>(cmd.arg, c->unacked);
      c->unacked -= bytes;
      c->credit_owed += bytes;
      // Credit goes back in quarters of the window: few messages, and a blocked sender
      // (over 3/4 of the window out) is always released once everything is consumed.
      if (c->ep != nullptr && c->credit_owed >= options_.window_bytes / 4) send_credit(*c);
      return;
    }
    case Command::kPeerGone:
      if (!c->ended) fail(*c, cmd.text);
      return;
    case Command::kState:
      if (c->served) c->served->state = std::move(cmd.state);
      return;
    case Command::kClose:
    case Command::kBarrier: return;  // handled above
  }
}

void Worker::close_ep(Connection& c, bool force) {
  c.closing = true;
  if (c.ep == nullptr) return;
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS | UCP_OP_ATTR_FIELD_CALLBACK;
  p.flags = force ? UCP_EP_CLOSE_FLAG_FORCE : 0;
  p.cb.send = on_close_done;
  ucp_ep_close_nbx(c.ep, &p);  // a request frees itself in on_close_done
  c.ep = nullptr;
}

void Worker::send_credit(Connection& c) {
  auto* op = new Op();
  op->worker = this;
  op->conn = c.id;
  op->credit_header = CreditHeader{c.remote_id, c.credit_owed};
  c.credit_owed = 0;
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  p.cb.send = on_send_done;
  p.user_data = op;
  void* req = ucp_am_send_nbx(c.ep, kAmCredit, &op->credit_header, sizeof(CreditHeader), nullptr, 0, &p);
  if (!UCS_PTR_IS_PTR(req)) {
    if (UCS_PTR_IS_ERR(req)) fail(c, std::string("UCX credit send failed: ") + ucs_status_string(UCS_PTR_STATUS(req)));
    delete op;
  }
}

void Worker::pump(Connection& c) {
  if (c.ep == nullptr || c.closing) return;
  while (!c.queue.empty()) {
    Queued& q = c.queue.front();
    size_t left = q.fin ? 0 : q.data->size() - q.offset;
    size_t len = std::min(left, options_.chunk_bytes);
    if (!q.fin && c.sent - c.credited + len > c.remote_window) return;  // wait for credit
    auto* op = new Op();
    op->worker = this;
    op->conn = c.id;
    op->data = q.data;
    op->data_header = DataHeader{c.remote_id, c.next_seq++, q.fin ? 1u : 0u, 0};
    ucp_request_param_t p{};
    p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    p.cb.send = on_send_done;
    p.user_data = op;
    const void* buf = q.fin ? nullptr : q.data->data() + q.offset;
    void* req = ucp_am_send_nbx(c.ep, kAmData, &op->data_header, sizeof(DataHeader), buf, len, &p);
    if (!UCS_PTR_IS_PTR(req)) delete op;
    if (UCS_PTR_IS_ERR(req)) {
      fail(c, std::string("UCX send failed: ") + ucs_status_string(UCS_PTR_STATUS(req)));
      return;
    }
    c.sent += len;
    q.offset += len;
    if (q.fin || q.offset == q.data->size()) {
      if (!q.fin) c.ledger->unsent.fetch_sub(q.data->size());
      c.queue.pop_front();
    }
  }
  if (c.want_drain) {
    c.want_drain = false;
    emit(Event{EventKind::kDrain, c.id, nullptr, {}});
  }
}

void Worker::on_am_data(const DataHeader& h, void* data, size_t length, bool rndv) {
  Connection* c = find(h.conn);
  if (c == nullptr) {
    // The peer may write as soon as it has our hello, before this thread ran the command that
    // registers the id: a live id (one with a ledger) is registered here.
    bool live;
    {
      std::lock_guard<std::mutex> lock(ledgers_mu_);
      live = ledgers_.count(h.conn) != 0;
    }
    if (live) c = adopt(h.conn);
  }
  if (c == nullptr || c->closing || c->broken) return;
  if (c->unacked + length > options_.window_bytes) {
    fail(*c, "the peer sent past its credit window (" + std::to_string(c->unacked + length) +
                 " bytes unconsumed, window " + std::to_string(options_.window_bytes) + ")");
    return;
  }
  if (h.seq < c->expect_seq || c->reorder.count(h.seq) != 0 || h.seq - c->expect_seq > options_.window_bytes) {
    fail(*c, "the peer sent chunk " + std::to_string(h.seq) + " out of sequence");
    return;
  }
  c->unacked += length;
  Chunk& chunk = c->reorder[h.seq];
  chunk.fin = h.fin != 0;
  chunk.data = std::make_shared<std::vector<uint8_t>>(length);
  if (!rndv) {
    if (length > 0) std::memcpy(chunk.data->data(), data, length);
    chunk.complete = true;
    deliver(*c);
    return;
  }
  auto* op = new Op();
  op->worker = this;
  op->conn = c->id;
  op->seq = h.seq;
  op->data = chunk.data;  // alive until the receive completes, whatever happens to the connection
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  p.cb.recv_am = on_recv_done;
  p.user_data = op;
  void* req = ucp_am_recv_data_nbx(impl_->worker, data, chunk.data->data(), length, &p);
  if (UCS_PTR_IS_PTR(req)) return;
  delete op;
  on_chunk_done(c->id, h.seq, UCS_PTR_STATUS(req));
}

void Worker::on_chunk_done(uint64_t conn, uint64_t seq, int status_code) {
  auto status = static_cast<ucs_status_t>(status_code);
  Connection* c = find(conn);
  if (c == nullptr || c->closing || c->broken) return;
  if (status != UCS_OK) {
    fail(*c, std::string("UCX receive failed: ") + ucs_status_string(status));
    return;
  }
  auto it = c->reorder.find(seq);
  if (it == c->reorder.end()) return;
  it->second.complete = true;
  deliver(*c);
}

void Worker::deliver(Connection& c) {
  for (auto it = c.reorder.find(c.expect_seq); it != c.reorder.end() && it->second.complete;
       it = c.reorder.find(c.expect_seq)) {
    Chunk chunk = std::move(it->second);
    c.reorder.erase(it);
    c.expect_seq++;
    if (chunk.fin) {
      c.ended = true;
      emit(Event{EventKind::kEnd, c.id, nullptr, {}});
    } else if (c.served) {
      serve(c, *chunk.data);
      if (c.broken) return;
    } else if (!chunk.data->empty()) {
      emit(Event{EventKind::kData, c.id, std::move(chunk.data), {}});
    }
  }
}

void Worker::serve(Connection& c, const std::vector<uint8_t>& chunk) {
  dataplane::ServedStream& stream = *c.served;
  // After a fatal header JavaScript's decoder refuses the stream and closes it: nothing more goes on.
  if (stream.splitter.broken) return;
  const Serving& serving = *c.ledger->serving;
  served_out_.clear();
  stream.feed(chunk.data(), chunk.size(), serving.answerer.get(), serving.limits, c.ledger->unsent.load(), counters_,
              served_out_);
  if (!served_out_.to_js.empty())
    emit(Event{EventKind::kData, c.id, std::make_shared<std::vector<uint8_t>>(served_out_.to_js), {}});
  // Bytes of answered frames are consumed here: their credit goes back without JavaScript.
  if (served_out_.answered_in > 0) {
    c.unacked -= std::min(served_out_.answered_in, c.unacked);
    c.credit_owed += served_out_.answered_in;
    if (c.ep != nullptr && c.credit_owed >= options_.window_bytes / 4) send_credit(c);
  }
  if (served_out_.replies.empty()) return;
  c.ledger->answered += served_out_.replies.size();
  c.ledger->unsent += served_out_.replies.size();
  Queued q;
  q.data = std::make_shared<std::vector<uint8_t>>(std::move(served_out_.replies));
  c.queue.push_back(std::move(q));
  pump(c);
}

void Worker::on_credit(uint64_t conn, uint64_t bytes) {
  Connection* c = find(conn);
  if (c == nullptr || c->closing) return;
  c->credited += bytes;
  if (c->credited > c->sent) {
    fail(*c, "the peer returned more credit than was sent");
    return;
  }
  pump(*c);
}

void Worker::on_ep_error(uint64_t conn, const std::string& why) {
  Connection* c = find(conn);
  if (c != nullptr) fail(*c, why);
}

void Worker::fail(Connection& c, const std::string& why) {
  if (c.broken) return;
  c.broken = true;
  close_ep(c, /*force=*/true);
  c.queue.clear();
  c.reorder.clear();
  emit(Event{EventKind::kClosed, c.id, nullptr, why});
}

}  // namespace ragwire::ucx
