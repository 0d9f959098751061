// Machine measurements that benchmarks report beside their results.
#pragma once
#include <cstddef>

#include "ragwire/thread_pool.hpp"

namespace ragwire {

// Streaming read bandwidth in GB/s over a buffer of `bytes`, using every pool
// thread (the bound an exact scan of that many bytes can reach).
double measure_read_bandwidth(size_t bytes, ThreadPool& pool);

}  // namespace ragwire
