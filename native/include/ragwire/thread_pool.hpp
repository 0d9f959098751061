// The engine's own threads. Async work (a whole add or search call) is queued
// with submit(); inside it, parallel_for splits loops across all workers, with
// the calling thread taking part, so nesting cannot deadlock.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ragwire {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The process-wide pool, sized to the hardware (RAGWIRE_THREADS overrides).
  static ThreadPool& shared();

  size_t size() const { return workers_.size(); }

  // Runs task on a worker, later.
  void submit(std::function<void()> task);

  // Calls fn(begin, end, worker_slot) over [0, n) in chunks of `grain`;
  // worker_slot < size() + 1 identifies a scratch slot. Returns when all ran.
  void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t, size_t)>& fn);

  // Slot of the calling thread: 0..size()-1 for workers, size() for others.
  size_t current_slot() const;

 private:
  void run(size_t slot);

  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace ragwire
