#include "ragwire/thread_pool.hpp"

#include <cstdlib>
#include <memory>

namespace ragwire {

namespace {
thread_local size_t tls_slot = SIZE_MAX;
thread_local const ThreadPool* tls_pool = nullptr;
}  // namespace

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) threads = 1;
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; i++) workers_.emplace_back([this, i] { run(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

ThreadPool& ThreadPool::shared() {
  static ThreadPool* pool = [] {
    size_t n = std::thread::hardware_concurrency();
    if (const char* env = std::getenv("RAGWIRE_THREADS")) {
      long v = std::strtol(env, nullptr, 10);
      if (v > 0 && v <= 1024) n = (size_t)v;
    }
    return new ThreadPool(n == 0 ? 1 : n);  // never destroyed: workers outlive static teardown
  }();
  return *pool;
}

void ThreadPool::submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

size_t ThreadPool::current_slot() const { return tls_pool == this ? tls_slot : workers_.size(); }

void ThreadPool::run(size_t slot) {
  tls_slot = slot;
  tls_pool = this;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_ && queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void ThreadPool::parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t, size_t)>& fn) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  size_t chunks = (n + grain - 1) / grain;
  size_t my_slot = current_slot();
  if (chunks == 1 || workers_.size() == 1) {
    fn(0, n, my_slot);
    return;
  }
  struct Shared {
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
  };
  auto shared = std::make_shared<Shared>();
  auto work = [shared, n, grain, chunks, &fn](size_t slot) {
    size_t finished = 0;
    for (;;) {
      size_t c = shared->next.fetch_add(1);
      if (c >= chunks) break;
      size_t b = c * grain, e = b + grain < n ? b + grain : n;
      fn(b, e, slot);
      finished++;
    }
    if (finished && shared->done.fetch_add(finished) + finished == chunks) {
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->cv.notify_all();
    }
  };
  // The caller works too, so size()-1 helpers keep exactly size() threads busy
  // (one more would oversubscribe the cores). A late helper finds no chunk left.
  size_t helpers = std::min(workers_.size() - 1, chunks - 1);
  for (size_t i = 0; i < helpers; i++) {
    submit([work, this] { work(current_slot()); });
  }
  work(my_slot);
  std::unique_lock<std::mutex> lock(shared->mu);
  shared->cv.wait(lock, [&] { return shared->done.load() == chunks; });
}

}  // namespace ragwire
