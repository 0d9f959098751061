// Accelerators under flat search. A DeviceBackend (OpenCL or CUDA, each
// compiled only when its toolkit was found) offers a few primitives: buffers,
// copies, a tiled distance kernel (a matrix product plus norms for l2, ip and
// cosine; a direct kernel for l1) and a per-query top-k selection that merges
// into a running list. DeviceFlat (device_flat.hpp) drives them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ragwire/config.hpp"
#include "ragwire/status.hpp"

namespace ragwire {

enum class DeviceKind : uint32_t { kCpu = 0, kOpenCl = 1, kCuda = 2 };
const char* device_kind_name(DeviceKind k);

struct DeviceInfo {
  DeviceKind kind = DeviceKind::kCpu;
  std::string name;
  uint64_t memory_bytes = 0;     // global memory (the host's RAM for the CPU)
  uint64_t max_alloc_bytes = 0;  // largest single buffer
  uint32_t compute_units = 0;    // multiprocessors / compute units / threads
  bool gpu = false;              // a GPU or accelerator (PoCL's device is a CPU)
  uint32_t ordinal = 0;          // index among its backend's devices
};

// Everything this build and machine have: the CPU first, then OpenCL and CUDA devices.
std::vector<DeviceInfo> list_devices();

// An opaque device allocation (cl_mem or a device pointer).
struct DeviceBuffer {
  void* handle = nullptr;
  size_t bytes = 0;
};

// D[i * ld + j] = distance(query q0 + i, row row0 + j) for i < nq, j < nrows,
// lower = closer (l2: squared, ip and cosine: -dot, l1: Manhattan). A row whose
// id (id0 + j) has no bit in `mask` gets NaN, which selection never keeps.
struct DistanceJob {
  Metric metric;
  StorageKind storage;  // of `rows`: f32 or f16
  uint32_t dim;
  const DeviceBuffer* queries;  // f32, row-major
  const DeviceBuffer* qnorms;   // squared norms (l2 only, else null)
  size_t q0, nq;
  const DeviceBuffer* rows;
  const DeviceBuffer* rnorms;  // squared norms indexed like rows (l2 only, else null)
  size_t row0, nrows;
  const DeviceBuffer* mask;  // bit per id (LSB first), null: every row
  uint32_t id0;
  DeviceBuffer* out;
  size_t ld;
};

// For each query i < nq: the `keep` smallest of its running list (best_dist /
// best_id rows q0 + i, `keep` wide) and of D's row i (ncols wide, ids id0 + j)
// replace the running list. Unset slots hold NaN and id 0xFFFFFFFF.
struct SelectJob {
  const DeviceBuffer* dist;
  size_t ld, nq, ncols;
  uint32_t id0;
  DeviceBuffer* best_dist;
  DeviceBuffer* best_id;
  DeviceBuffer* scratch_dist;  // same shape as best_*, for the merge
  DeviceBuffer* scratch_id;
  size_t q0;
  uint32_t keep;
};

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  virtual const DeviceInfo& info() const = 0;
  // Fails with kDeviceOutOfMemory when the device refuses.
  virtual Status alloc(size_t bytes, DeviceBuffer* out) = 0;
  virtual void release(DeviceBuffer* b) = 0;
  virtual Status write(DeviceBuffer* b, size_t offset, const void* src, size_t bytes) = 0;
  virtual Status read(const DeviceBuffer& b, size_t offset, void* dst, size_t bytes) = 0;
  virtual Status copy(const DeviceBuffer& src, DeviceBuffer* dst, size_t bytes) = 0;
  // Sets every byte to 0xFF (NaN distances, empty ids).
  virtual Status fill_ones(DeviceBuffer* b, size_t bytes) = 0;
  virtual Status distances(const DistanceJob& job) = 0;
  virtual Status select(const SelectJob& job) = 0;
  // Waits for queued work; reports a failure of an earlier launch.
  virtual Status finish() = 0;
};

// Opens the device a choice names for an index of this metric and storage
// (building its kernels). kCpu, or kAuto with no GPU, leaves *out empty.
Status open_device(DeviceChoice choice, Metric metric, StorageKind storage, std::unique_ptr<DeviceBackend>* out);

namespace opencl {
std::vector<DeviceInfo> list();
// gpu_only: take a GPU or accelerator, never a CPU device (for kAuto).
Status open(Metric metric, StorageKind storage, bool gpu_only, std::unique_ptr<DeviceBackend>* out);
}  // namespace opencl

namespace cuda {
std::vector<DeviceInfo> list();
Status open(Metric metric, StorageKind storage, std::unique_ptr<DeviceBackend>* out);
}  // namespace cuda

}  // namespace ragwire
