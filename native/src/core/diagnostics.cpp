#include "ragwire/diagnostics.hpp"

#include <chrono>
#include <vector>

#include "ragwire/kernels.hpp"

namespace ragwire {

double measure_read_bandwidth(size_t bytes, ThreadPool& pool) {
  size_t n = bytes / sizeof(float);
  if (n < 1024) n = 1024;
  std::vector<float> buf(n, 1.0f);
  const KernelTable& k = kernels();
  size_t parts = pool.size() * 8;
  size_t span = (n + parts - 1) / parts;
  double best = 0;
  volatile float sink = 0;
  for (int round = 0; round < 5; round++) {
    std::vector<float> sums(parts, 0.f);
    auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(parts, 1, [&](size_t b, size_t e, size_t) {
      for (size_t p = b; p < e; p++) {
        size_t s = p * span, end = s + span < n ? s + span : n;
        if (s < end) sums[p] = k.sum_f32(buf.data() + s, end - s);
      }
    });
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (float s : sums) sink = sink + s;
    double gbps = (double)(n * sizeof(float)) / sec / 1e9;
    if (gbps > best) best = gbps;
  }
  (void)sink;
  return best;
}

}  // namespace ragwire
