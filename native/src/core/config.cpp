#include "ragwire/config.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "ragwire/vector_storage.hpp"

namespace ragwire {

const char* code_name(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "RAGWIRE_ERR_INVALID_ARGUMENT";
    case Code::kDimMismatch: return "RAGWIRE_ERR_DIM_MISMATCH";
    case Code::kNonFinite: return "RAGWIRE_ERR_NON_FINITE";
    case Code::kDuplicateLabel: return "RAGWIRE_ERR_DUPLICATE_LABEL";
    case Code::kCorruptSnapshot: return "RAGWIRE_ERR_CORRUPT_SNAPSHOT";
    case Code::kIo: return "RAGWIRE_ERR_IO";
    case Code::kLimit: return "RAGWIRE_ERR_LIMIT";
    case Code::kInternal: return "RAGWIRE_ERR_INTERNAL";
    case Code::kNoDevice: return "RAGWIRE_ERR_DEVICE_UNAVAILABLE";
    case Code::kDeviceOutOfMemory: return "RAGWIRE_ERR_DEVICE_OUT_OF_MEMORY";
    case Code::kDeviceKernel: return "RAGWIRE_ERR_DEVICE_KERNEL";
  }
  return "RAGWIRE_ERR_INTERNAL";  // not a Code: a status is only ever made from an enumerator
}

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::kL2: return "l2";
    case Metric::kIp: return "ip";
    case Metric::kCosine: return "cosine";
    case Metric::kL1: return "l1";
  }
  return nullptr;
}
const char* kind_name(IndexKind k) {
  switch (k) {
    case IndexKind::kFlat: return "flat";
    case IndexKind::kHnsw: return "hnsw";
    case IndexKind::kBq: return "bq";
  }
  return nullptr;
}
const char* storage_name(StorageKind s) {
  switch (s) {
    case StorageKind::kF32: return "f32";
    case StorageKind::kF16: return "f16";
    case StorageKind::kSq8: return "sq8";
  }
  return nullptr;
}

size_t code_bytes(StorageKind s) {
  switch (s) {
    case StorageKind::kF32: return 4;
    case StorageKind::kF16: return 2;
    case StorageKind::kSq8: return 1;
  }
  unreachable_enum("StorageKind");
}

void unreachable_enum(const char* type) {
  std::fprintf(stderr, "ragwire: a %s outside the enum reached the engine\n", type);
  std::abort();
}

const char* device_name(DeviceChoice d) {
  switch (d) {
    case DeviceChoice::kCpu: return "cpu";
    case DeviceChoice::kOpenCl: return "opencl";
    case DeviceChoice::kCuda: return "cuda";
    case DeviceChoice::kAuto: return "auto";
  }
  return nullptr;
}

const char* placement_name(VectorPlacement p) {
  switch (p) {
    case VectorPlacement::kMemory: return "memory";
    case VectorPlacement::kDisk: return "disk";
  }
  return nullptr;
}

bool parse_placement(const std::string& s, VectorPlacement* out) {
  for (VectorPlacement p : {VectorPlacement::kMemory, VectorPlacement::kDisk})
    if (s == placement_name(p)) {
      *out = p;
      return true;
    }
  return false;
}

bool parse_device(const std::string& s, DeviceChoice* out) {
  for (DeviceChoice d : {DeviceChoice::kCpu, DeviceChoice::kOpenCl, DeviceChoice::kCuda, DeviceChoice::kAuto})
    if (s == device_name(d)) {
      *out = d;
      return true;
    }
  return false;
}

bool parse_metric(const std::string& s, Metric* out) {
  for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine, Metric::kL1})
    if (s == metric_name(m)) {
      *out = m;
      return true;
    }
  return false;
}
bool parse_kind(const std::string& s, IndexKind* out) {
  for (IndexKind k : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kBq})
    if (s == kind_name(k)) {
      *out = k;
      return true;
    }
  return false;
}
bool parse_storage(const std::string& s, StorageKind* out) {
  for (StorageKind k : {StorageKind::kF32, StorageKind::kF16, StorageKind::kSq8})
    if (s == storage_name(k)) {
      *out = k;
      return true;
    }
  return false;
}

Status IndexConfig::validate() const {
  // A snapshot's header is cast to these enums: a value no switch names is refused here, before any runs.
  if (metric_name(metric) == nullptr)
    return Status(Code::kInvalidArgument, "unknown metric " + std::to_string((uint32_t)metric));
  if (kind_name(kind) == nullptr)
    return Status(Code::kInvalidArgument, "unknown index kind " + std::to_string((uint32_t)kind));
  if (storage_name(storage) == nullptr)
    return Status(Code::kInvalidArgument, "unknown storage " + std::to_string((uint32_t)storage));
  if (device_name(device) == nullptr)
    return Status(Code::kInvalidArgument, "unknown device " + std::to_string((uint32_t)device));
  if (placement_name(vectors) == nullptr)
    return Status(Code::kInvalidArgument, "unknown vectors placement " + std::to_string((uint32_t)vectors));
  if (vectors == VectorPlacement::kDisk) {
    if (vectors_path.empty()) return Status(Code::kInvalidArgument, "vectors 'disk' needs a vectorsPath");
    if (storage == StorageKind::kF32 && kind != IndexKind::kBq)
      return Status(Code::kInvalidArgument,
                    "vectors 'disk' keeps codes in memory to walk: use storage 'sq8' or 'f16', or kind 'bq'");
    if (device != DeviceChoice::kCpu)
      return Status(Code::kInvalidArgument, "vectors 'disk' runs on the CPU (device 'cpu')");
  }
  RAGWIRE_RETURN_IF_ERROR(kGuards.dim.check("dim", dim));
  if (hnsw.inline_codes && (kind != IndexKind::kHnsw || storage != StorageKind::kSq8 || metric == Metric::kL1 ||
                            dim > VectorStorage::kIntWalkMaxDim))
    return Status(Code::kInvalidArgument,
                  "hnsw.inlineCodes is for kind 'hnsw' with storage 'sq8' and metric l2, ip or cosine (dim up to " +
                      std::to_string(VectorStorage::kIntWalkMaxDim) + ")");
  RAGWIRE_RETURN_IF_ERROR(kGuards.M.check("hnsw.M", hnsw.M));
  RAGWIRE_RETURN_IF_ERROR(kGuards.ef_construction.check("hnsw.efConstruction", hnsw.ef_construction));
  RAGWIRE_RETURN_IF_ERROR(kGuards.ef_search.check("hnsw.efSearch", hnsw.ef_search));
  RAGWIRE_RETURN_IF_ERROR(kGuards.rerank_factor.check("rerankFactor", bq.rerank_factor));
  return Status::ok();
}

bool AllowList::allows(uint32_t label) const {
  if (bits) {
    size_t byte = label >> 3;
    return byte < bits_len && (bits[byte] >> (label & 7)) & 1;
  }
  if (sorted) return std::binary_search(sorted, sorted + sorted_len, label);
  return true;
}

size_t AllowList::cardinality() const {
  if (sorted) return sorted_len;
  if (bits) {
    size_t c = 0, i = 0;
    for (; i + 8 <= bits_len; i += 8) {
      uint64_t w;
      std::memcpy(&w, bits + i, 8);
      c += (size_t)__builtin_popcountll(w);
    }
    for (; i < bits_len; i++) c += (size_t)__builtin_popcount(bits[i]);
    return c;
  }
  return SIZE_MAX;
}

}  // namespace ragwire
