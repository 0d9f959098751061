// ragwire_device_check: exact search on a device against the CPU engine, then
// a batched benchmark, with no Node. Built by native/scripts/device-check.sh.
//
//   ragwire_device_check [--device cuda|opencl] [--n 1000000] [--dim 768] [--queries 10000] [--k 10]
//                        [--cpu-queries 1000] [--graph-n 200000] [--json FILE] [--skip-bench]
//
// Exit status 0 when every correctness case matched the CPU engine (labels,
// or ties; scores within 1e-4 relative) and the benchmark's answers agreed too.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "check_support.hpp"
#include "ragwire/device.hpp"
#include "ragwire/index.hpp"
#include "ragwire/kernels.hpp"

using namespace ragwire;
using check::now_s;

namespace {

struct Args {
  DeviceChoice device = DeviceChoice::kCuda;
  size_t n = 1000000, dim = 768, queries = 10000, k = 10, cpu_queries = 1000, graph_n = 200000;
  std::string json;
  bool bench = true;
};

// The H200's bounds (NVIDIA's data sheet): HBM3e bandwidth and FP32 (non-tensor) rate.
constexpr double kPeakBytesPerS = 4.8e12;
constexpr double kPeakFlops = 67e12;

struct Searched {
  std::vector<uint32_t> labels;
  std::vector<float> scores;
};

Status make(size_t dim, Metric metric, StorageKind storage, DeviceChoice device, uint32_t tile,
            std::unique_ptr<Index>* out) {
  IndexConfig cfg;
  cfg.dim = (uint32_t)dim;
  cfg.metric = metric;
  cfg.kind = IndexKind::kFlat;
  cfg.storage = storage;
  cfg.device = device;
  cfg.device_tile_rows = tile;
  return Index::create(cfg, out);
}

Status search(const Index& index, const float* q, size_t nq, size_t k, const SearchOptions& opts, Searched* out) {
  out->labels.assign(nq * k, 0);
  out->scores.assign(nq * k, 0.f);
  return index.search(q, nq, k, opts, out->labels.data(), out->scores.data(), ThreadPool::shared());
}

// Every metric, f32 and f16, k 1..1024, no filter and a 30% allow-list with a third of the rows
// removed, the rows resident and streamed in tiles. Returns the number of failed cases.
size_t correctness(const Args& a, check::Json& json) {
  ThreadPool& pool = ThreadPool::shared();
  struct Shape {
    size_t n, dim, nq;
  };
  size_t cases = 0, failed = 0;
  std::string failures;
  for (Shape s : {Shape{20000, 100, 200}, Shape{4000, 768, 100}}) {
    std::vector<float> all = check::gaussian_mixture(s.n + s.nq, s.dim, 100, 0.5f, 7, pool);
    const float* base = all.data();
    const float* queries = all.data() + s.n * s.dim;
    std::vector<uint32_t> labels(s.n);
    for (size_t i = 0; i < s.n; i++) labels[i] = (uint32_t)(i * 3 + 5);
    std::vector<uint8_t> bits(((labels.back()) >> 3) + 1, 0);
    std::mt19937_64 r(11);
    for (uint32_t l : labels)
      if (r() % 10 < 3) bits[l >> 3] |= (uint8_t)(1u << (l & 7));
    std::vector<uint32_t> removed;
    for (size_t i = 0; i < s.n; i += 3) removed.push_back(labels[i]);
    for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine, Metric::kL1}) {
      for (StorageKind st : {StorageKind::kF32, StorageKind::kF16}) {
        double t0 = now_s();
        std::unique_ptr<Index> cpu, dev, tiled;
        Status e = make(s.dim, m, st, DeviceChoice::kCpu, 0, &cpu);
        if (e.is_ok()) e = make(s.dim, m, st, a.device, 0, &dev);
        if (e.is_ok()) e = make(s.dim, m, st, a.device, (uint32_t)(s.n / 6), &tiled);
        size_t half = s.n / 2, bad = 0, searched = 0;
        std::string first;
        for (Index* ix : {cpu.get(), dev.get(), tiled.get()}) {
          if (!e.is_ok()) break;
          e = ix->add(labels.data(), base, half, pool);
          if (e.is_ok()) e = ix->add(labels.data() + half, base + half * s.dim, s.n - half, pool);
        }
        for (int phase = 0; phase < 2 && e.is_ok(); phase++) {
          if (phase == 1) {
            size_t gone;
            for (Index* ix : {cpu.get(), dev.get(), tiled.get()})
              if (e.is_ok()) e = ix->remove(removed.data(), removed.size(), &gone);
          }
          for (size_t k : {1, 10, 100, 1024}) {
            for (bool filtered : {false, true}) {
              SearchOptions o;
              if (filtered) {
                o.filter.bits = bits.data();
                o.filter.bits_len = bits.size();
              }
              Searched want, got, got_tiled;
              if (e.is_ok()) e = search(*cpu, queries, s.nq, k, o, &want);
              if (e.is_ok()) e = search(*dev, queries, s.nq, k, o, &got);
              if (e.is_ok()) e = search(*tiled, queries, s.nq, k, o, &got_tiled);
              if (!e.is_ok()) break;
              bad += check::count_mismatches(want.labels, want.scores, got.labels, got.scores, &first);
              bad += check::count_mismatches(want.labels, want.scores, got_tiled.labels, got_tiled.scores, &first);
              searched += 2;
            }
          }
        }
        cases++;
        bool ok = e.is_ok() && bad == 0;
        if (!ok) failed++;
        char line[400];
        snprintf(line, sizeof line,
                 "%s correctness %-6s %s %zux%zu, %zu queries: %zu searches, %zu slots differ%s%s (%.1f s)",
                 ok ? "PASS" : "FAIL", metric_name(m), storage_name(st), s.n, s.dim, s.nq, searched, bad,
                 e.is_ok() ? "" : ", error: ", e.is_ok() ? first.c_str() : e.message().c_str(), now_s() - t0);
        printf("%s\n", line);
        fflush(stdout);
        if (!ok) failures += std::string(failures.empty() ? "" : "; ") + line;
      }
    }
  }
  json.num("correctness_cases", (double)cases)
      .num("correctness_failed", (double)failed)
      .str("correctness_failures", failures);
  return failed;
}

// Batched exact search, device vs the CPU engine on every core. Returns false when their answers disagree.
bool bench(const Args& a, const DeviceInfo& info, std::string* rows_json) {
  ThreadPool& pool = ThreadPool::shared();
  double t0 = now_s();
  std::vector<float> all = check::gaussian_mixture(a.n + a.queries, a.dim, 1000, 1.0f, 42, pool);
  printf("bench data: %zu x %zu + %zu queries (seeded Gaussian mixture, 1000 clusters) in %.1f s\n", a.n, a.dim,
         a.queries, now_s() - t0);
  const float* base = all.data();
  const float* queries = all.data() + a.n * a.dim;
  std::vector<uint32_t> labels(a.n);
  for (size_t i = 0; i < a.n; i++) labels[i] = (uint32_t)i;
  bool agree = true;
  printf(
      "\n| storage | device QPS | CPU QPS (%zu threads) | speedup | device TFLOP/s | %% of %.0f TFLOP/s | base GB/s | "
      "upload s | agree |\n",
      pool.size(), kPeakFlops / 1e12);
  printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (StorageKind st : {StorageKind::kF32, StorageKind::kF16}) {
    std::unique_ptr<Index> cpu, dev;
    Status e = make(a.dim, Metric::kL2, st, DeviceChoice::kCpu, 0, &cpu);
    if (e.is_ok()) e = make(a.dim, Metric::kL2, st, a.device, 0, &dev);
    if (e.is_ok()) e = cpu->add(labels.data(), base, a.n, pool);
    double tu = now_s();
    if (e.is_ok()) e = dev->add(labels.data(), base, a.n, pool);
    double upload_s = now_s() - tu;
    Searched warm, got, want;
    SearchOptions o;
    if (e.is_ok()) e = search(*dev, queries, std::min<size_t>(64, a.queries), a.k, o, &warm);
    double td = now_s();
    if (e.is_ok()) e = search(*dev, queries, a.queries, a.k, o, &got);
    double dev_s = now_s() - td;
    size_t cq = std::min(a.cpu_queries, a.queries);
    double tc = now_s();
    if (e.is_ok()) e = search(*cpu, queries, cq, a.k, o, &want);
    double cpu_s = now_s() - tc;
    if (!e.is_ok()) {
      printf("| %s | FAIL: %s |\n", storage_name(st), e.message().c_str());
      agree = false;
      continue;
    }
    got.labels.resize(cq * a.k);
    got.scores.resize(cq * a.k);
    std::string first;
    size_t bad = check::count_mismatches(want.labels, want.scores, got.labels, got.scores, &first);
    agree = agree && bad == 0;
    double flops = 2.0 * a.queries * a.n * a.dim;
    double row_bytes = (double)a.dim * (double)code_bytes(st);
    double blocks = std::ceil(a.queries / 1024.0);
    double dev_qps = a.queries / dev_s, cpu_qps = cq / cpu_s;
    double tflops = flops / dev_s / 1e12, gbps = a.n * row_bytes * blocks / dev_s / 1e9;
    double compute_bound_s = flops / kPeakFlops, memory_bound_s = a.n * row_bytes / kPeakBytesPerS;
    const char* binds = compute_bound_s >= memory_bound_s ? "compute" : "memory";
    double of_bound = std::max(compute_bound_s, memory_bound_s) / dev_s;
    printf("| %s | %.0f | %.1f | %.1fx | %.2f | %.1f%% | %.0f | %.2f | %s |\n", storage_name(st), dev_qps, cpu_qps,
           dev_qps / cpu_qps, tflops, 100.0 * tflops * 1e12 / kPeakFlops, gbps, upload_s,
           bad == 0 ? "yes" : first.c_str());
    check::Json j;
    j.str("storage", storage_name(st))
        .num("n", (double)a.n)
        .num("dim", (double)a.dim)
        .num("queries", (double)a.queries);
    j.num("k", (double)a.k).num("device_seconds", dev_s).num("device_qps", dev_qps).num("cpu_queries", (double)cq);
    j.num("cpu_seconds", cpu_s)
        .num("cpu_qps", cpu_qps)
        .num("cpu_threads", (double)pool.size())
        .num("speedup", dev_qps / cpu_qps);
    j.num("device_tflops", tflops).num("base_gbps", gbps).num("upload_seconds", upload_s).str("binding_bound", binds);
    j.num("fraction_of_bound", of_bound).num("mismatched_slots", (double)bad).str("device", info.name);
    *rows_json += (rows_json->empty() ? "" : ",") + j.text();
  }
  printf(
      "\nBounds on an H200: %.0f TFLOP/s FP32 (non-tensor), %.1f TB/s HBM3e; at %zu queries x %zu dims the distance "
      "pass is %s-bound.\n",
      kPeakFlops / 1e12, kPeakBytesPerS / 1e12, a.queries, a.dim,
      2.0 * a.queries * a.dim / (a.dim * 4.0) > kPeakFlops / kPeakBytesPerS ? "compute" : "memory");
  printf("CPU QPS is measured on the first %zu queries; the device answers all %zu.\n",
         std::min(a.cpu_queries, a.queries), a.queries);
  return agree;
}

// HNSW built on the device (kNN lists on the device, heuristic and reverse links on the host) vs the
// CPU build: build time, and recall@10 against exact ground truth at equal efSearch.
bool graph_bench(const Args& a, std::string* json) {
  ThreadPool& pool = ThreadPool::shared();
  const size_t n = a.graph_n, nq = 1000, k = 10;
  std::vector<float> all = check::gaussian_mixture(n + nq, a.dim, 1000, 1.0f, 43, pool);
  const float* base = all.data();
  const float* queries = all.data() + n * a.dim;
  std::vector<uint32_t> labels(n);
  for (size_t i = 0; i < n; i++) labels[i] = (uint32_t)i;
  Searched truth;
  std::unique_ptr<Index> flat;
  Status e = make(a.dim, Metric::kL2, StorageKind::kF32, a.device, 0, &flat);
  if (e.is_ok()) e = flat->add(labels.data(), base, n, pool);
  if (e.is_ok()) e = search(*flat, queries, nq, k, SearchOptions(), &truth);
  flat.reset();
  printf("\nHNSW build, %zu x %zu (M 16, efConstruction 200), recall@%zu on %zu queries against exact ground truth:\n",
         n, a.dim, k, nq);
  printf("| built on | build s | efSearch 16 | 32 | 64 | 128 |\n|---|---:|---:|---:|---:|---:|\n");
  std::vector<double> secs, recall64;
  for (DeviceChoice where : {a.device, DeviceChoice::kCpu}) {
    IndexConfig cfg;
    cfg.dim = (uint32_t)a.dim;
    cfg.metric = Metric::kL2;
    cfg.kind = IndexKind::kHnsw;
    cfg.device = where;
    std::unique_ptr<Index> g;
    if (e.is_ok()) e = Index::create(cfg, &g);
    double t0 = now_s();
    if (e.is_ok()) e = g->add(labels.data(), base, n, pool);
    double s = now_s() - t0;
    if (!e.is_ok()) break;
    printf("| %s | %.1f |", where == DeviceChoice::kCpu ? "cpu" : g->stats().device.c_str(), s);
    secs.push_back(s);
    for (uint32_t ef : {16u, 32u, 64u, 128u}) {
      SearchOptions o;
      o.ef_search = ef;
      Searched got;
      e = search(*g, queries, nq, k, o, &got);
      if (!e.is_ok()) break;
      size_t hits = 0;
      for (size_t q = 0; q < nq; q++)
        for (size_t i = 0; i < k; i++)
          for (size_t j = 0; j < k; j++) hits += got.labels[q * k + i] == truth.labels[q * k + j];
      double r = (double)hits / (nq * k);
      if (ef == 64) recall64.push_back(r);
      printf(" %.4f |", r);
    }
    printf("\n");
    fflush(stdout);
  }
  if (!e.is_ok() || secs.size() != 2 || recall64.size() != 2) {
    printf("FAIL graph build: %s\n", e.is_ok() ? "incomplete" : e.message().c_str());
    return false;
  }
  bool ok = recall64[0] >= recall64[1] - 0.01;
  printf(
      "%s graph: device build %.1fx faster than the CPU's; recall@10 at efSearch 64 %.4f vs %.4f (target: within "
      "0.01)\n",
      ok ? "PASS" : "FAIL", secs[1] / secs[0], recall64[0], recall64[1]);
  check::Json j;
  j.num("n", (double)n)
      .num("dim", (double)a.dim)
      .num("device_build_seconds", secs[0])
      .num("cpu_build_seconds", secs[1]);
  j.num("build_speedup", secs[1] / secs[0]).num("device_recall_ef64", recall64[0]).num("cpu_recall_ef64", recall64[1]);
  j.boolean("passed", ok);
  *json = j.text();
  return ok;
}

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; i++) {
    std::string k = argv[i];
    auto next = [&](size_t* v) {
      if (i + 1 >= argc) return false;
      *v = (size_t)std::strtoull(argv[++i], nullptr, 10);
      return *v > 0;
    };
    if (k == "--device" && i + 1 < argc) {
      if (!parse_device(argv[++i], &a->device) || a->device == DeviceChoice::kCpu) return false;
    } else if (k == "--n") {
      if (!next(&a->n)) return false;
    } else if (k == "--dim") {
      if (!next(&a->dim)) return false;
    } else if (k == "--queries") {
      if (!next(&a->queries)) return false;
    } else if (k == "--k") {
      if (!next(&a->k)) return false;
    } else if (k == "--cpu-queries") {
      if (!next(&a->cpu_queries)) return false;
    } else if (k == "--graph-n") {
      if (i + 1 >= argc) return false;
      a->graph_n = (size_t)std::strtoull(argv[++i], nullptr, 10);
    } else if (k == "--json" && i + 1 < argc)
      a->json = argv[++i];
    else if (k == "--skip-bench")
      a->bench = false;
    else
      return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, &a)) {
    fprintf(stderr,
            "usage: ragwire_device_check [--device cuda|opencl|auto] [--n N] [--dim D] [--queries Q] [--k K] "
            "[--cpu-queries C] [--graph-n N (0: no graph build)] [--json FILE] [--skip-bench]\n");
    return 2;
  }
  check::Json json;
  json.str("isa", isa()).num("cpu_threads", (double)ThreadPool::shared().size());
  std::string devs;
  printf("devices:\n");
  for (const DeviceInfo& d : list_devices()) {
    printf("  %-6s %s, %.1f GiB, %u compute units\n", device_kind_name(d.kind), d.name.c_str(),
           d.memory_bytes / 1073741824.0, d.compute_units);
    check::Json j;
    j.str("kind", device_kind_name(d.kind))
        .str("name", d.name)
        .num("memory_bytes", (double)d.memory_bytes)
        .num("compute_units", d.compute_units);
    devs += (devs.empty() ? "" : ",") + j.text();
  }
  json.raw("devices", "[" + devs + "]");
  std::unique_ptr<Index> probe;
  Status st = make(16, Metric::kL2, StorageKind::kF32, a.device, 0, &probe);
  DeviceInfo info;
  bool opened = st.is_ok() && probe && probe->stats().device_kind != "cpu";
  if (!opened) {
    printf("FAIL cannot open device '%s': %s\n", device_name(a.device),
           st.is_ok() ? "it resolved to the CPU" : st.message().c_str());
    json.boolean("passed", false).str("error", st.message());
  } else {
    info.name = probe->stats().device;
    printf("device under test: %s (%s)\n\n", info.name.c_str(), device_name(a.device));
    json.str("device", info.name);
    size_t failed = correctness(a, json);
    bool agree = true;
    std::string rows;
    if (a.bench) agree = bench(a, info, &rows);
    json.raw("bench", "[" + rows + "]");
    bool graph_ok = true;
    if (a.bench && a.graph_n >= 1000) {
      std::string graph;
      graph_ok = graph_bench(a, &graph);
      json.raw("graph", graph.empty() ? "null" : graph);
    }
    bool passed = failed == 0 && agree && graph_ok;
    json.boolean("passed", passed);
    printf("\n%s: %zu correctness case(s) failed; benchmark answers %s the CPU engine's\n",
           passed ? "PASSED" : "FAILED", failed, agree ? "agree with" : "DIFFER from");
    opened = passed;
  }
  if (!a.json.empty()) {
    std::ofstream out(a.json);
    out << json.text() << "\n";
    printf("wrote %s\n", a.json.c_str());
  }
  return opened ? 0 : 1;
}
