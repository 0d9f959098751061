// Which devices this build and machine have, and opening one by choice.
// A backend whose toolkit was not found at build time lists nothing and
// refuses to open with kNoDevice, saying why.
#include <unistd.h>

#include <fstream>
#include <thread>

#include "ragwire/device.hpp"

namespace ragwire {

const char* device_kind_name(DeviceKind k) {
  switch (k) {
    case DeviceKind::kCpu: return "cpu";
    case DeviceKind::kOpenCl: return "opencl";
    case DeviceKind::kCuda: return "cuda";
  }
  return "?";
}

#if !defined(RAGWIRE_HAVE_OPENCL)
namespace opencl {
std::vector<DeviceInfo> list() { return {}; }
Status open(Metric, StorageKind, bool, std::unique_ptr<DeviceBackend>*) {
  return Status(Code::kNoDevice,
                "this build has no OpenCL backend (built without ocl-icd-opencl-dev and opencl-headers, or with "
                "RAGWIRE_WITH_OPENCL=OFF)");
}
}  // namespace opencl
#endif

#if !defined(RAGWIRE_HAVE_CUDA)
namespace cuda {
std::vector<DeviceInfo> list() { return {}; }
Status open(Metric, StorageKind, std::unique_ptr<DeviceBackend>*) {
  return Status(Code::kNoDevice, "this build has no CUDA backend (built without nvcc, or with RAGWIRE_WITH_CUDA=OFF)");
}
}  // namespace cuda
#endif

namespace {

DeviceInfo cpu_info() {
  DeviceInfo d;
  d.kind = DeviceKind::kCpu;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) d.name = line.substr(colon + 2);
      break;
    }
  }
  if (d.name.empty()) d.name = "cpu";
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  d.memory_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
  d.max_alloc_bytes = d.memory_bytes;
  d.compute_units = std::thread::hardware_concurrency();
  return d;
}

}  // namespace

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> all{cpu_info()};
  for (DeviceInfo& d : cuda::list()) all.push_back(d);
  for (DeviceInfo& d : opencl::list()) all.push_back(d);
  return all;
}

Status open_device(DeviceChoice choice, Metric metric, StorageKind storage, std::unique_ptr<DeviceBackend>* out) {
  out->reset();
  if (choice != DeviceChoice::kCpu && storage == StorageKind::kSq8)
    return Status(Code::kInvalidArgument, "device search stores f32 or f16 rows; storage sq8 runs on the CPU only");
  switch (choice) {
    case DeviceChoice::kCpu: return Status::ok();
    case DeviceChoice::kOpenCl: return opencl::open(metric, storage, false, out);
    case DeviceChoice::kCuda: return cuda::open(metric, storage, out);
    case DeviceChoice::kAuto: {
      // A device that is there but fails (memory, kernels) is an error, not a silent CPU fallback.
      if (!cuda::list().empty()) return cuda::open(metric, storage, out);
      for (const DeviceInfo& d : opencl::list())
        if (d.gpu) return opencl::open(metric, storage, true, out);
      return Status::ok();
    }
  }
  return Status(Code::kInvalidArgument, "unknown device");
}

}  // namespace ragwire
