// The CUDA backend: one stream per index on the first CUDA device, buffers
// from cudaMalloc, the kernels of cuda_kernels.cuh. Linked with the static
// CUDA runtime; without a driver or a GPU, list() is empty and open() says why.
#include <cuda_runtime.h>

#include <string>

#include "cuda_kernels.cuh"
#include "ragwire/device.hpp"

namespace ragwire::cuda {

namespace {

namespace k = ragwire::cuda_kernels;

Status cuda_error(cudaError_t err, const char* what) {
  if (err == cudaErrorMemoryAllocation)
    return Status(Code::kDeviceOutOfMemory, std::string("CUDA ran out of device memory in ") + what);
  return Status(Code::kDeviceKernel, std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

class CudaBackend final : public DeviceBackend {
 public:
  CudaBackend(const DeviceInfo& info, cudaStream_t stream) : info_(info), stream_(stream) {}
  ~CudaBackend() override {
    cudaSetDevice((int)info_.ordinal);
    cudaStreamDestroy(stream_);
  }
  const DeviceInfo& info() const override { return info_; }

  Status alloc(size_t bytes, DeviceBuffer* out) override {
    cudaSetDevice((int)info_.ordinal);
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, bytes ? bytes : 4);
    if (err != cudaSuccess) {
      cudaGetLastError();  // clear the sticky-free allocation error
      if (err == cudaErrorMemoryAllocation)
        return Status(Code::kDeviceOutOfMemory,
                      "CUDA could not allocate " + std::to_string(bytes) + " bytes on " + info_.name);
      return cuda_error(err, "cudaMalloc");
    }
    out->handle = p;
    out->bytes = bytes;
    return Status::ok();
  }
  void release(DeviceBuffer* b) override {
    if (b->handle) {
      cudaSetDevice((int)info_.ordinal);
      cudaStreamSynchronize(stream_);
      cudaFree(b->handle);
    }
    *b = DeviceBuffer();
  }
  Status write(DeviceBuffer* b, size_t offset, const void* src, size_t bytes) override {
    if (!bytes) return Status::ok();
    cudaSetDevice((int)info_.ordinal);
    cudaError_t err = cudaMemcpyAsync((char*)b->handle + offset, src, bytes, cudaMemcpyHostToDevice, stream_);
    if (err == cudaSuccess) err = cudaStreamSynchronize(stream_);
    return err == cudaSuccess ? Status::ok() : cuda_error(err, "cudaMemcpy (to the device)");
  }
  Status read(const DeviceBuffer& b, size_t offset, void* dst, size_t bytes) override {
    if (!bytes) return Status::ok();
    cudaSetDevice((int)info_.ordinal);
    cudaError_t err = cudaMemcpyAsync(dst, (const char*)b.handle + offset, bytes, cudaMemcpyDeviceToHost, stream_);
    if (err == cudaSuccess) err = cudaStreamSynchronize(stream_);
    return err == cudaSuccess ? Status::ok() : cuda_error(err, "cudaMemcpy (from the device)");
  }
  Status copy(const DeviceBuffer& src, DeviceBuffer* dst, size_t bytes) override {
    if (!bytes) return Status::ok();
    cudaSetDevice((int)info_.ordinal);
    cudaError_t err = cudaMemcpyAsync(dst->handle, src.handle, bytes, cudaMemcpyDeviceToDevice, stream_);
    return err == cudaSuccess ? Status::ok() : cuda_error(err, "cudaMemcpy (device to device)");
  }
  Status fill_ones(DeviceBuffer* b, size_t bytes) override {
    if (!bytes) return Status::ok();
    cudaSetDevice((int)info_.ordinal);
    cudaError_t err = cudaMemsetAsync(b->handle, 0xff, bytes, stream_);
    return err == cudaSuccess ? Status::ok() : cuda_error(err, "cudaMemset");
  }

  Status distances(const DistanceJob& j) override {
    cudaSetDevice((int)info_.ordinal);
    dim3 grid((unsigned)((j.nrows + k::kBN - 1) / k::kBN), (unsigned)((j.nq + k::kBM - 1) / k::kBM));
    const float* Q = (const float*)j.queries->handle;
    const float* qn = j.qnorms ? (const float*)j.qnorms->handle : nullptr;
    const float* xn = j.rnorms ? (const float*)j.rnorms->handle : nullptr;
    const uint8_t* mask = j.mask ? (const uint8_t*)j.mask->handle : nullptr;
    float* D = (float*)j.out->handle;
    bool f16 = j.storage == StorageKind::kF16;
#define RAGWIRE_LAUNCH(M)                                                                                         \
  if (f16)                                                                                                        \
    k::distances<M, true><<<grid, k::kThreads, 0, stream_>>>(Q, qn, j.q0, (int)j.nq, j.rows->handle, xn, j.row0,  \
                                                             (int)j.nrows, mask, j.id0, (int)j.dim, D, j.ld);     \
  else                                                                                                            \
    k::distances<M, false><<<grid, k::kThreads, 0, stream_>>>(Q, qn, j.q0, (int)j.nq, j.rows->handle, xn, j.row0, \
                                                              (int)j.nrows, mask, j.id0, (int)j.dim, D, j.ld);
    switch (j.metric) {
      case Metric::kL2: RAGWIRE_LAUNCH(0) break;
      case Metric::kIp: RAGWIRE_LAUNCH(1) break;
      case Metric::kCosine: RAGWIRE_LAUNCH(2) break;
      case Metric::kL1: RAGWIRE_LAUNCH(3) break;
    }
#undef RAGWIRE_LAUNCH
    cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? Status::ok() : cuda_error(err, "the distance kernel's launch");
  }

  Status select(const SelectJob& j) override {
    cudaSetDevice((int)info_.ordinal);
    k::select_topk<<<(unsigned)j.nq, k::kWG, 0, stream_>>>(
        (const float*)j.dist->handle, j.ld, (uint32_t)j.ncols, j.id0, (float*)j.best_dist->handle,
        (uint32_t*)j.best_id->handle, (float*)j.scratch_dist->handle, (uint32_t*)j.scratch_id->handle, j.q0, j.keep);
    cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? Status::ok() : cuda_error(err, "the selection kernel's launch");
  }

  Status finish() override {
    cudaSetDevice((int)info_.ordinal);
    cudaError_t err = cudaStreamSynchronize(stream_);
    return err == cudaSuccess ? Status::ok() : cuda_error(err, "a device kernel");
  }

 private:
  DeviceInfo info_;
  cudaStream_t stream_;
};

}  // namespace

std::vector<DeviceInfo> list() {
  std::vector<DeviceInfo> out;
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return out;
  }
  for (int i = 0; i < n; i++) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    DeviceInfo d;
    d.kind = DeviceKind::kCuda;
    d.name = p.name;
    d.memory_bytes = p.totalGlobalMem;
    d.max_alloc_bytes = p.totalGlobalMem;
    d.compute_units = (uint32_t)p.multiProcessorCount;
    d.gpu = true;
    d.ordinal = (uint32_t)i;
    out.push_back(d);
  }
  return out;
}

Status open(Metric metric, StorageKind storage, std::unique_ptr<DeviceBackend>* out) {
  (void)metric;
  (void)storage;  // every (metric, storage) kernel is compiled in
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess || n == 0) {
    cudaGetLastError();
    return Status(Code::kNoDevice,
                  std::string("no CUDA device: ") + (err != cudaSuccess ? cudaGetErrorString(err) : "none found"));
  }
  std::vector<DeviceInfo> devs = list();
  if (devs.empty()) return Status(Code::kNoDevice, "no CUDA device answers cudaGetDeviceProperties");
  const DeviceInfo& info = devs[0];
  cudaSetDevice((int)info.ordinal);
  // Some memory is the driver's: leave room for it in what the engine may plan on.
  size_t free_b = 0, total_b = 0;
  DeviceInfo planned = info;
  if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) planned.memory_bytes = free_b;
  // A tiny launch: a GPU this binary has no code for fails here, not mid-search.
  int* probe = nullptr;
  err = cudaMalloc(&probe, sizeof(int));
  if (err != cudaSuccess) return cuda_error(err, "cudaMalloc (probe)");
  k::probe<<<1, 1>>>(probe);
  err = cudaGetLastError();
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  cudaFree(probe);
  if (err != cudaSuccess)
    return Status(Code::kDeviceKernel, std::string("the CUDA kernels do not run on ") + info.name + ": " +
                                           cudaGetErrorString(err) +
                                           " (rebuild with RAGWIRE_CUDA_ARCHS naming its compute capability)");
  cudaStream_t stream;
  err = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  if (err != cudaSuccess) return cuda_error(err, "cudaStreamCreate");
  out->reset(new CudaBackend(planned, stream));
  return Status::ok();
}

}  // namespace ragwire::cuda
