// Pieces of ragwire_device_check: seeded synthetic data, timing, comparison
// of a device result with the CPU engine's, and a tiny JSON writer.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ragwire/thread_pool.hpp"

namespace ragwire::check {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A Gaussian mixture: `clusters` centres drawn N(0, 1), each row a centre plus N(0, spread^2) noise.
// Rows are drawn in chunks with their own seeds, so the data is the same whatever the thread count.
inline std::vector<float> gaussian_mixture(size_t n, size_t dim, size_t clusters, float spread, uint64_t seed,
                                           ThreadPool& pool) {
  std::vector<float> centres(clusters * dim);
  std::mt19937_64 rc(seed);
  std::normal_distribution<float> unit(0.f, 1.f);
  for (float& c : centres) c = unit(rc);
  std::vector<float> out(n * dim);
  constexpr size_t kChunk = 4096;
  size_t chunks = (n + kChunk - 1) / kChunk;
  pool.parallel_for(chunks, 1, [&](size_t b, size_t e, size_t) {
    for (size_t c = b; c < e; c++) {
      std::mt19937_64 r(seed * 1000003u + c + 1);
      std::normal_distribution<float> noise(0.f, spread);
      std::uniform_int_distribution<size_t> pick(0, clusters - 1);
      for (size_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); i++) {
        const float* centre = centres.data() + pick(r) * dim;
        for (size_t d = 0; d < dim; d++) out[i * dim + d] = centre[d] + noise(r);
      }
    }
  });
  return out;
}

// Rank by rank: the same label, or a tie (scores equal within 1e-6 relative);
// scores within 1e-4 relative. Returns the number of slots that differ.
inline size_t count_mismatches(const std::vector<uint32_t>& la, const std::vector<float>& sa,
                               const std::vector<uint32_t>& lb, const std::vector<float>& sb, std::string* first) {
  size_t bad = 0;
  for (size_t i = 0; i < la.size(); i++) {
    float a = sa[i], b = sb[i];
    bool scores = a == b || std::fabs(a - b) <= 1e-4f * std::fabs(a);
    bool tie = a == b || std::fabs(a - b) <= 1e-6f * std::max(std::fabs(a), std::fabs(b));
    if (!(scores && (la[i] == lb[i] || tie))) {
      if (bad == 0 && first) {
        char buf[160];
        snprintf(buf, sizeof buf, "slot %zu: cpu label %u score %g, device label %u score %g", i, la[i], a, lb[i], b);
        *first = buf;
      }
      bad++;
    }
  }
  return bad;
}

// A flat JSON object written by hand (no dependency): key -> number or string, nested by the caller.
class Json {
 public:
  Json& num(const std::string& k, double v) {
    char buf[64];
    if (std::isfinite(v))
      snprintf(buf, sizeof buf, "%.6g", v);
    else
      snprintf(buf, sizeof buf, "null");
    return raw(k, buf);
  }
  Json& str(const std::string& k, const std::string& v) {
    std::string e = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') e += '\\';
      if ((unsigned char)c >= 0x20) e += c;
    }
    return raw(k, e + "\"");
  }
  Json& boolean(const std::string& k, bool v) { return raw(k, v ? "true" : "false"); }
  Json& raw(const std::string& k, const std::string& v) {
    body_ += (body_.empty() ? "" : ",") + std::string("\"") + k + "\":" + v;
    return *this;
  }
  std::string text() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

}  // namespace ragwire::check
