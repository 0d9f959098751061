// Index configuration and per-search options.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "ragwire/limits.hpp"
#include "ragwire/status.hpp"

namespace ragwire {

enum class Metric : uint32_t { kL2 = 0, kIp = 1, kCosine = 2, kL1 = 3 };
enum class IndexKind : uint32_t { kFlat = 0, kHnsw = 1, kBq = 2 };
enum class StorageKind : uint32_t { kF32 = 0, kF16 = 1, kSq8 = 2 };
// Where flat search runs: the CPU's kernels, or a GPU through OpenCL or CUDA.
// kAuto takes a CUDA device, else an OpenCL GPU, else the CPU.
// Where an index keeps its f32 rows: in memory, or in a file it maps (read for the exact rerank;
// the codes a walk scans and the graph stay in memory).
enum class VectorPlacement : uint32_t { kMemory = 0, kDisk = 1 };
enum class DeviceChoice : uint32_t { kCpu = 0, kOpenCl = 1, kCuda = 2, kAuto = 3 };

constexpr uint32_t kNoLabel = 0xffffffffu;

// Names as the JS API spells them; nullptr for a value outside the enum (IndexConfig::validate refuses it).
const char* metric_name(Metric m);
const char* kind_name(IndexKind k);
const char* storage_name(StorageKind s);
const char* device_name(DeviceChoice d);
const char* placement_name(VectorPlacement p);
// After a switch that names every enumerator: the value lies outside the enum. Configurations are
// validated where they enter (IndexConfig::validate), so this is a broken invariant: stop, rather
// than run as some other case.
[[noreturn]] void unreachable_enum(const char* type);

// Bytes per dimension in the codes a search scans: 4 (f32), 2 (f16), 1 (sq8).
size_t code_bytes(StorageKind s);
bool parse_device(const std::string& s, DeviceChoice* out);
bool parse_metric(const std::string& s, Metric* out);
bool parse_kind(const std::string& s, IndexKind* out);
bool parse_storage(const std::string& s, StorageKind* out);
bool parse_placement(const std::string& s, VectorPlacement* out);

struct HnswParams {
  uint32_t M = 16;
  uint32_t ef_construction = 200;
  uint32_t ef_search = 64;
  uint64_t seed = 42;
  // Layer 0 keeps a copy of each neighbour's sq8 codes (and l2 norm) beside the node's link list, so a
  // hop reads one contiguous block instead of one row per neighbour (Qdrant's inline storage). It costs
  // 2M rows of codes per node: for sq8 with the integer walk (l2, ip, cosine) only.
  bool inline_codes = false;
};

struct BqParams {
  uint32_t rerank_factor = 20;
};

struct IndexConfig {
  uint32_t dim = 0;
  Metric metric = Metric::kL2;
  IndexKind kind = IndexKind::kHnsw;
  StorageKind storage = StorageKind::kF32;
  HnswParams hnsw;
  BqParams bq;
  DeviceChoice device = DeviceChoice::kCpu;
  // Rows the device holds and scans per pass; a larger base is streamed from
  // host memory in tiles of this many rows. 0: as many as fit the device.
  uint32_t device_tile_rows = 0;
  // kDisk: the f32 rows live in the file at vectors_path, which the index creates (replacing
  // one there) and holds locked while open. Needs codes to walk: sq8 or f16 storage, or a bq index.
  VectorPlacement vectors = VectorPlacement::kMemory;
  std::string vectors_path;

  // Known enumerators, and parameters within the memory-safety guards (ragwire/limits.hpp).
  Status validate() const;
};

// An allow-list over labels: a bitset (bit label&7 of byte label>>3) or a
// sorted array of labels. Empty means "everything allowed".
struct AllowList {
  const uint8_t* bits = nullptr;
  size_t bits_len = 0;
  const uint32_t* sorted = nullptr;
  size_t sorted_len = 0;

  bool active() const { return bits != nullptr || sorted != nullptr; }
  bool allows(uint32_t label) const;
  // Number of labels the list allows (upper bound for a bitset).
  size_t cardinality() const;
};

struct SearchOptions {
  uint32_t ef_search = 0;      // 0: the index default
  uint32_t rerank_factor = 0;  // 0: the index default
  // HNSW: a filter allowing at most this many labels is answered by an exact
  // scan of the allowed rows instead of a graph walk.
  uint32_t filter_scan_threshold = 1000;
  // Exact: scan every row on f32, whatever the index kind.
  bool exact = false;
  // Flat on a device: false runs this search on the CPU's kernels over the
  // host rows the index keeps anyway (small batches are faster there).
  bool on_device = true;
  AllowList filter;
};

}  // namespace ragwire
