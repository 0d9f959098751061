// The OpenCL entry points the backend calls, each forwarding to the ICD loader (libOpenCL.so.1)
// opened at first use. Without it the engine still loads: clGetPlatformIDs answers "no platform",
// so no OpenCL device is listed, and opening one says which library is missing.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "opencl_library.hpp"
#include "ragwire/shared_library.hpp"

namespace ragwire::opencl {

const SharedLibrary& library() {
  static const SharedLibrary* lib = new SharedLibrary(  // never closed: drivers may still run at exit
      SharedLibrary::names_from("RAGWIRE_OPENCL_LIBRARY", {"libOpenCL.so.1", "libOpenCL.so"}),
      "install the OpenCL ICD loader, e.g. Debian ocl-icd-libopencl1, or set RAGWIRE_OPENCL_LIBRARY to its path");
  return *lib;
}

}  // namespace ragwire::opencl

namespace {
constexpr cl_int kNoPlatform = -1001;  // CL_PLATFORM_NOT_FOUND_KHR, what an ICD loader with no platform answers
}

#define RAGWIRE_RESOLVE(name) \
  static const auto fn = reinterpret_cast<decltype(&::name)>(ragwire::opencl::library().symbol(#name))

extern "C" {

cl_int clGetPlatformIDs(cl_uint num_entries, cl_platform_id* platforms, cl_uint* num_platforms) {
  RAGWIRE_RESOLVE(clGetPlatformIDs);
  if (!fn) {
    if (num_platforms) *num_platforms = 0;
    return kNoPlatform;
  }
  return fn(num_entries, platforms, num_platforms);
}

cl_int clGetDeviceIDs(cl_platform_id platform, cl_device_type type, cl_uint num_entries, cl_device_id* devices,
                      cl_uint* num_devices) {
  RAGWIRE_RESOLVE(clGetDeviceIDs);
  return fn ? fn(platform, type, num_entries, devices, num_devices) : CL_INVALID_PLATFORM;
}

cl_int clGetDeviceInfo(cl_device_id device, cl_device_info name, size_t size, void* value, size_t* size_ret) {
  RAGWIRE_RESOLVE(clGetDeviceInfo);
  return fn ? fn(device, name, size, value, size_ret) : CL_INVALID_DEVICE;
}

cl_context clCreateContext(const cl_context_properties* properties, cl_uint num_devices, const cl_device_id* devices,
                           void(CL_CALLBACK* notify)(const char*, const void*, size_t, void*), void* user_data,
                           cl_int* err) {
  RAGWIRE_RESOLVE(clCreateContext);
  if (fn) return fn(properties, num_devices, devices, notify, user_data, err);
  if (err) *err = CL_INVALID_PLATFORM;
  return nullptr;
}

cl_command_queue clCreateCommandQueue(cl_context context, cl_device_id device, cl_command_queue_properties properties,
                                      cl_int* err) {
  RAGWIRE_RESOLVE(clCreateCommandQueue);
  if (fn) return fn(context, device, properties, err);
  if (err) *err = CL_INVALID_CONTEXT;
  return nullptr;
}

cl_program clCreateProgramWithSource(cl_context context, cl_uint count, const char** strings, const size_t* lengths,
                                     cl_int* err) {
  RAGWIRE_RESOLVE(clCreateProgramWithSource);
  if (fn) return fn(context, count, strings, lengths, err);
  if (err) *err = CL_INVALID_CONTEXT;
  return nullptr;
}

cl_int clBuildProgram(cl_program program, cl_uint num_devices, const cl_device_id* devices, const char* options,
                      void(CL_CALLBACK* notify)(cl_program, void*), void* user_data) {
  RAGWIRE_RESOLVE(clBuildProgram);
  return fn ? fn(program, num_devices, devices, options, notify, user_data) : CL_INVALID_PROGRAM;
}

cl_int clGetProgramBuildInfo(cl_program program, cl_device_id device, cl_program_build_info name, size_t size,
                             void* value, size_t* size_ret) {
  RAGWIRE_RESOLVE(clGetProgramBuildInfo);
  return fn ? fn(program, device, name, size, value, size_ret) : CL_INVALID_PROGRAM;
}

cl_kernel clCreateKernel(cl_program program, const char* name, cl_int* err) {
  RAGWIRE_RESOLVE(clCreateKernel);
  if (fn) return fn(program, name, err);
  if (err) *err = CL_INVALID_PROGRAM;
  return nullptr;
}

cl_int clSetKernelArg(cl_kernel kernel, cl_uint index, size_t size, const void* value) {
  RAGWIRE_RESOLVE(clSetKernelArg);
  return fn ? fn(kernel, index, size, value) : CL_INVALID_KERNEL;
}

cl_int clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint work_dim, const size_t* offset,
                              const size_t* global, const size_t* local, cl_uint num_wait, const cl_event* wait,
                              cl_event* event) {
  RAGWIRE_RESOLVE(clEnqueueNDRangeKernel);
  return fn ? fn(queue, kernel, work_dim, offset, global, local, num_wait, wait, event) : CL_INVALID_COMMAND_QUEUE;
}

cl_int clEnqueueWriteBuffer(cl_command_queue queue, cl_mem buffer, cl_bool blocking, size_t offset, size_t size,
                            const void* ptr, cl_uint num_wait, const cl_event* wait, cl_event* event) {
  RAGWIRE_RESOLVE(clEnqueueWriteBuffer);
  return fn ? fn(queue, buffer, blocking, offset, size, ptr, num_wait, wait, event) : CL_INVALID_COMMAND_QUEUE;
}

cl_int clEnqueueReadBuffer(cl_command_queue queue, cl_mem buffer, cl_bool blocking, size_t offset, size_t size,
                           void* ptr, cl_uint num_wait, const cl_event* wait, cl_event* event) {
  RAGWIRE_RESOLVE(clEnqueueReadBuffer);
  return fn ? fn(queue, buffer, blocking, offset, size, ptr, num_wait, wait, event) : CL_INVALID_COMMAND_QUEUE;
}

cl_int clEnqueueFillBuffer(cl_command_queue queue, cl_mem buffer, const void* pattern, size_t pattern_size,
                           size_t offset, size_t size, cl_uint num_wait, const cl_event* wait, cl_event* event) {
  RAGWIRE_RESOLVE(clEnqueueFillBuffer);
  return fn ? fn(queue, buffer, pattern, pattern_size, offset, size, num_wait, wait, event) : CL_INVALID_COMMAND_QUEUE;
}

cl_int clEnqueueCopyBuffer(cl_command_queue queue, cl_mem src, cl_mem dst, size_t src_offset, size_t dst_offset,
                           size_t size, cl_uint num_wait, const cl_event* wait, cl_event* event) {
  RAGWIRE_RESOLVE(clEnqueueCopyBuffer);
  return fn ? fn(queue, src, dst, src_offset, dst_offset, size, num_wait, wait, event) : CL_INVALID_COMMAND_QUEUE;
}

cl_mem clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size, void* host_ptr, cl_int* err) {
  RAGWIRE_RESOLVE(clCreateBuffer);
  if (fn) return fn(context, flags, size, host_ptr, err);
  if (err) *err = CL_INVALID_CONTEXT;
  return nullptr;
}

cl_int clFinish(cl_command_queue queue) {
  RAGWIRE_RESOLVE(clFinish);
  return fn ? fn(queue) : CL_INVALID_COMMAND_QUEUE;
}

cl_int clReleaseKernel(cl_kernel kernel) {
  RAGWIRE_RESOLVE(clReleaseKernel);
  return fn ? fn(kernel) : CL_INVALID_KERNEL;
}

cl_int clReleaseCommandQueue(cl_command_queue queue) {
  RAGWIRE_RESOLVE(clReleaseCommandQueue);
  return fn ? fn(queue) : CL_INVALID_COMMAND_QUEUE;
}

cl_int clReleaseProgram(cl_program program) {
  RAGWIRE_RESOLVE(clReleaseProgram);
  return fn ? fn(program) : CL_INVALID_PROGRAM;
}

cl_int clReleaseMemObject(cl_mem mem) {
  RAGWIRE_RESOLVE(clReleaseMemObject);
  return fn ? fn(mem) : CL_INVALID_MEM_OBJECT;
}

}  // extern "C"
