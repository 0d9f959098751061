// The OpenCL backend (ocl-icd + any platform: PoCL on a CPU in CI, a GPU
// driver elsewhere). One context per device for the process, programs cached
// by build options, a queue and kernel objects per index.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "opencl_kernels.hpp"
#include "ragwire/device.hpp"

namespace ragwire::opencl {

namespace {

struct Registry {
  std::mutex mu;
  bool listed = false;
  std::vector<cl_device_id> ids;
  std::vector<DeviceInfo> infos;
  std::map<cl_device_id, cl_context> contexts;
  std::map<std::pair<cl_device_id, std::string>, cl_program> programs;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: drivers may be unloaded first at exit
  return *r;
}

std::string device_string(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "";
  std::string s(n, '\0');
  clGetDeviceInfo(d, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

void enumerate(Registry& r) {
  if (r.listed) return;
  r.listed = true;
  cl_uint np = 0;
  if (clGetPlatformIDs(0, nullptr, &np) != CL_SUCCESS || np == 0) return;
  std::vector<cl_platform_id> platforms(np);
  clGetPlatformIDs(np, platforms.data(), nullptr);
  for (cl_platform_id p : platforms) {
    cl_uint nd = 0;
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &nd) != CL_SUCCESS || nd == 0) continue;
    std::vector<cl_device_id> devs(nd);
    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, devs.data(), nullptr);
    for (cl_device_id d : devs) {
      DeviceInfo info;
      info.kind = DeviceKind::kOpenCl;
      info.name = device_string(d, CL_DEVICE_NAME);
      cl_ulong mem = 0, max_alloc = 0;
      cl_uint units = 0;
      cl_device_type type = 0;
      clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, nullptr);
      clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, nullptr);
      clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, nullptr);
      clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, nullptr);
      info.memory_bytes = mem;
      info.max_alloc_bytes = max_alloc;
      info.compute_units = units;
      info.gpu = (type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)) != 0;
      info.ordinal = (uint32_t)r.ids.size();
      r.ids.push_back(d);
      r.infos.push_back(info);
    }
  }
}

Status cl_error(cl_int err, const char* what) {
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES || err == CL_OUT_OF_HOST_MEMORY ||
      err == CL_INVALID_BUFFER_SIZE)
    return Status(Code::kDeviceOutOfMemory,
                  std::string("OpenCL ran out of device memory in ") + what + " (error " + std::to_string(err) + ")");
  return Status(Code::kDeviceKernel, std::string("OpenCL error ") + std::to_string(err) + " in " + what);
}

class OpenClBackend final : public DeviceBackend {
 public:
  OpenClBackend(const DeviceInfo& info, cl_context ctx, cl_command_queue queue, cl_kernel dist, cl_kernel sel)
      : info_(info), ctx_(ctx), queue_(queue), dist_(dist), sel_(sel) {}
  ~OpenClBackend() override {
    clReleaseKernel(dist_);
    clReleaseKernel(sel_);
    clReleaseCommandQueue(queue_);
  }
  const DeviceInfo& info() const override { return info_; }

  Status alloc(size_t bytes, DeviceBuffer* out) override {
    if (bytes > info_.max_alloc_bytes)
      return Status(Code::kDeviceOutOfMemory, "a buffer of " + std::to_string(bytes) + " bytes exceeds the largest " +
                                                  info_.name + " allocates (" + std::to_string(info_.max_alloc_bytes) +
                                                  ")");
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(ctx_, CL_MEM_READ_WRITE, bytes ? bytes : 4, nullptr, &err);
    if (err != CL_SUCCESS) return cl_error(err, "clCreateBuffer");
    out->handle = m;
    out->bytes = bytes;
    return Status::ok();
  }
  void release(DeviceBuffer* b) override {
    if (b->handle) clReleaseMemObject((cl_mem)b->handle);
    *b = DeviceBuffer();
  }
  Status write(DeviceBuffer* b, size_t offset, const void* src, size_t bytes) override {
    if (!bytes) return Status::ok();
    cl_int err = clEnqueueWriteBuffer(queue_, (cl_mem)b->handle, CL_TRUE, offset, bytes, src, 0, nullptr, nullptr);
    return err == CL_SUCCESS ? Status::ok() : cl_error(err, "clEnqueueWriteBuffer");
  }
  Status read(const DeviceBuffer& b, size_t offset, void* dst, size_t bytes) override {
    if (!bytes) return Status::ok();
    cl_int err = clEnqueueReadBuffer(queue_, (cl_mem)b.handle, CL_TRUE, offset, bytes, dst, 0, nullptr, nullptr);
    return err == CL_SUCCESS ? Status::ok() : cl_error(err, "clEnqueueReadBuffer");
  }
  Status copy(const DeviceBuffer& src, DeviceBuffer* dst, size_t bytes) override {
    if (!bytes) return Status::ok();
    cl_int err = clEnqueueCopyBuffer(queue_, (cl_mem)src.handle, (cl_mem)dst->handle, 0, 0, bytes, 0, nullptr, nullptr);
    return err == CL_SUCCESS ? Status::ok() : cl_error(err, "clEnqueueCopyBuffer");
  }
  Status fill_ones(DeviceBuffer* b, size_t bytes) override {
    if (!bytes) return Status::ok();
    cl_uchar ones = 0xff;
    cl_int err = clEnqueueFillBuffer(queue_, (cl_mem)b->handle, &ones, 1, 0, bytes, 0, nullptr, nullptr);
    return err == CL_SUCCESS ? Status::ok() : cl_error(err, "clEnqueueFillBuffer");
  }

  Status distances(const DistanceJob& j) override {
    cl_mem none = (cl_mem)j.queries->handle;  // any valid buffer for unused arguments
    cl_mem qn = j.qnorms ? (cl_mem)j.qnorms->handle : none, xn = j.rnorms ? (cl_mem)j.rnorms->handle : none;
    cl_mem mask = j.mask ? (cl_mem)j.mask->handle : none;
    cl_ulong q0 = j.q0, row0 = j.row0, ld = j.ld;
    cl_uint nq = (cl_uint)j.nq, nrows = (cl_uint)j.nrows, use_mask = j.mask ? 1 : 0, id0 = j.id0, dim = j.dim;
    int a = 0;
    cl_int err = CL_SUCCESS;
    err |= clSetKernelArg(dist_, a++, sizeof(cl_mem), &j.queries->handle);
    err |= clSetKernelArg(dist_, a++, sizeof(cl_mem), &qn);
    err |= clSetKernelArg(dist_, a++, sizeof q0, &q0);
    err |= clSetKernelArg(dist_, a++, sizeof nq, &nq);
    err |= clSetKernelArg(dist_, a++, sizeof(cl_mem), &j.rows->handle);
    err |= clSetKernelArg(dist_, a++, sizeof(cl_mem), &xn);
    err |= clSetKernelArg(dist_, a++, sizeof row0, &row0);
    err |= clSetKernelArg(dist_, a++, sizeof nrows, &nrows);
    err |= clSetKernelArg(dist_, a++, sizeof(cl_mem), &mask);
    err |= clSetKernelArg(dist_, a++, sizeof use_mask, &use_mask);
    err |= clSetKernelArg(dist_, a++, sizeof id0, &id0);
    err |= clSetKernelArg(dist_, a++, sizeof dim, &dim);
    err |= clSetKernelArg(dist_, a++, sizeof(cl_mem), &j.out->handle);
    err |= clSetKernelArg(dist_, a++, sizeof ld, &ld);
    if (err != CL_SUCCESS) return cl_error(err, "clSetKernelArg(distances)");
    size_t global[2] = {(j.nrows + 63) / 64 * 16, (j.nq + 63) / 64 * 16}, local[2] = {16, 16};
    err = clEnqueueNDRangeKernel(queue_, dist_, 2, nullptr, global, local, 0, nullptr, nullptr);
    return err == CL_SUCCESS ? Status::ok() : cl_error(err, "the distance kernel's launch");
  }

  Status select(const SelectJob& j) override {
    cl_ulong ld = j.ld, q0 = j.q0;
    cl_uint ncols = (cl_uint)j.ncols, id0 = j.id0, keep = j.keep;
    int a = 0;
    cl_int err = CL_SUCCESS;
    err |= clSetKernelArg(sel_, a++, sizeof(cl_mem), &j.dist->handle);
    err |= clSetKernelArg(sel_, a++, sizeof ld, &ld);
    err |= clSetKernelArg(sel_, a++, sizeof ncols, &ncols);
    err |= clSetKernelArg(sel_, a++, sizeof id0, &id0);
    err |= clSetKernelArg(sel_, a++, sizeof(cl_mem), &j.best_dist->handle);
    err |= clSetKernelArg(sel_, a++, sizeof(cl_mem), &j.best_id->handle);
    err |= clSetKernelArg(sel_, a++, sizeof(cl_mem), &j.scratch_dist->handle);
    err |= clSetKernelArg(sel_, a++, sizeof(cl_mem), &j.scratch_id->handle);
    err |= clSetKernelArg(sel_, a++, sizeof q0, &q0);
    err |= clSetKernelArg(sel_, a++, sizeof keep, &keep);
    if (err != CL_SUCCESS) return cl_error(err, "clSetKernelArg(select_topk)");
    size_t global = j.nq * 256, local = 256;
    err = clEnqueueNDRangeKernel(queue_, sel_, 1, nullptr, &global, &local, 0, nullptr, nullptr);
    return err == CL_SUCCESS ? Status::ok() : cl_error(err, "the selection kernel's launch");
  }

  Status finish() override {
    cl_int err = clFinish(queue_);
    return err == CL_SUCCESS ? Status::ok() : cl_error(err, "clFinish");
  }

 private:
  DeviceInfo info_;
  cl_context ctx_;
  cl_command_queue queue_;
  cl_kernel dist_, sel_;
};

// The program for these options on this device, built once per process.
Status program_for(Registry& r, cl_device_id dev, cl_context ctx, const std::string& options, cl_program* out) {
  auto key = std::make_pair(dev, options);
  auto it = r.programs.find(key);
  if (it != r.programs.end()) {
    *out = it->second;
    return Status::ok();
  }
  const char* src = kernel_source();
  cl_int err = CL_SUCCESS;
  cl_program prog = clCreateProgramWithSource(ctx, 1, &src, nullptr, &err);
  if (err != CL_SUCCESS) return cl_error(err, "clCreateProgramWithSource");
  err = clBuildProgram(prog, 1, &dev, options.c_str(), nullptr, nullptr);
  if (err != CL_SUCCESS) {
    size_t n = 0;
    clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n);
    std::string log(n, '\0');
    if (n) clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
    while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
    if (log.size() > 2000) log = log.substr(0, 2000) + "...";
    clReleaseProgram(prog);
    return Status(Code::kDeviceKernel, "the OpenCL kernels failed to build (error " + std::to_string(err) +
                                           ", options '" + options + "'): " + log);
  }
  r.programs[key] = prog;
  *out = prog;
  return Status::ok();
}

}  // namespace

std::vector<DeviceInfo> list() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  enumerate(r);
  return r.infos;
}

Status open(Metric metric, StorageKind storage, bool gpu_only, std::unique_ptr<DeviceBackend>* out) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  enumerate(r);
  int pick = -1;
  for (size_t i = 0; i < r.infos.size() && pick < 0; i++)
    if (r.infos[i].gpu) pick = (int)i;
  if (pick < 0 && !gpu_only && !r.infos.empty()) pick = 0;
  if (pick < 0)
    return Status(Code::kNoDevice,
                  "no OpenCL device found (no platform or no device; is an ICD such as pocl-opencl-icd installed?)");
  cl_device_id dev = r.ids[(size_t)pick];
  cl_int err = CL_SUCCESS;
  cl_context ctx;
  auto found = r.contexts.find(dev);
  if (found != r.contexts.end()) {
    ctx = found->second;
  } else {
    ctx = clCreateContext(nullptr, 1, &dev, nullptr, nullptr, &err);
    if (err != CL_SUCCESS)
      return Status(Code::kNoDevice,
                    "cannot open OpenCL device " + r.infos[(size_t)pick].name + " (error " + std::to_string(err) + ")");
    r.contexts[dev] = ctx;
  }
  int m = 0;
  switch (metric) {
    case Metric::kL2: m = 0; break;
    case Metric::kIp: m = 1; break;
    case Metric::kCosine: m = 2; break;
    case Metric::kL1: m = 3; break;
  }
  std::string options =
      "-cl-std=CL1.2 -DMETRIC=" + std::to_string(m) + " -DROW_F16=" + (storage == StorageKind::kF16 ? "1" : "0");
  // Extra options for the kernel compiler (tests use it to make a build fail).
  if (const char* extra = std::getenv("RAGWIRE_OPENCL_BUILD_OPTIONS")) options += std::string(" ") + extra;
  cl_program prog = nullptr;
  RAGWIRE_RETURN_IF_ERROR(program_for(r, dev, ctx, options, &prog));
  cl_command_queue queue = clCreateCommandQueue(ctx, dev, 0, &err);
  if (err != CL_SUCCESS) return cl_error(err, "clCreateCommandQueue");
  cl_kernel dist = clCreateKernel(prog, "distances", &err);
  if (err != CL_SUCCESS) {
    clReleaseCommandQueue(queue);
    return cl_error(err, "clCreateKernel(distances)");
  }
  cl_kernel sel = clCreateKernel(prog, "select_topk", &err);
  if (err != CL_SUCCESS) {
    clReleaseKernel(dist);
    clReleaseCommandQueue(queue);
    return cl_error(err, "clCreateKernel(select_topk)");
  }
  out->reset(new OpenClBackend(r.infos[(size_t)pick], ctx, queue, dist, sel));
  return Status::ok();
}

}  // namespace ragwire::opencl
