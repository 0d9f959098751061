// The UCX entry points the transport calls, each forwarding to libucp / libucs opened at first use,
// so that the engine loads on a machine without UCX. RAGWIRE_UCX_LIBDIR names a directory holding
// libucs.so.0 and libucp.so.0 (a UCX built elsewhere, e.g. /opt/ucx/lib); by default the loader's
// search path finds them.
#include <ucp/api/ucp.h>

#include <cstdlib>
#include <string>

#include "ragwire/shared_library.hpp"
#include "ucx_library.hpp"

namespace ragwire::ucx {

namespace {

std::string in_libdir(const char* soname) {
  const char* dir = std::getenv("RAGWIRE_UCX_LIBDIR");
  return dir && *dir ? std::string(dir) + "/" + soname : soname;
}

constexpr const char* kHint = "install UCX, e.g. Debian libucx0, or set RAGWIRE_UCX_LIBDIR to the directory holding it";

}  // namespace

const SharedLibrary& ucs() {
  static const SharedLibrary* lib = new SharedLibrary({in_libdir("libucs.so.0")}, kHint);  // never closed
  return *lib;
}

const SharedLibrary& ucp() {
  // libucs first: libucp needs it, and from RAGWIRE_UCX_LIBDIR the loader finds it by soname only once loaded.
  static const SharedLibrary* lib = ucs().loaded() ? new SharedLibrary({in_libdir("libucp.so.0")}, kHint) : nullptr;
  return lib ? *lib : ucs();
}

const std::string& library_error() { return ucp().error(); }

}  // namespace ragwire::ucx

#define RAGWIRE_RESOLVE(lib, name) \
  static const auto fn = reinterpret_cast<decltype(&::name)>(ragwire::ucx::lib().symbol(#name))

extern "C" {

const char* ucs_status_string(ucs_status_t status) {
  RAGWIRE_RESOLVE(ucs, ucs_status_string);
  return fn ? fn(status) : "UCX is not loaded";
}

void ucp_get_version(unsigned* major, unsigned* minor, unsigned* release) {
  RAGWIRE_RESOLVE(ucp, ucp_get_version);
  if (fn) return fn(major, minor, release);
  *major = *minor = *release = 0;
}

ucs_status_t ucp_config_read(const char* env_prefix, const char* filename, ucp_config_t** config) {
  RAGWIRE_RESOLVE(ucp, ucp_config_read);
  return fn ? fn(env_prefix, filename, config) : UCS_ERR_UNSUPPORTED;
}

void ucp_config_release(ucp_config_t* config) {
  RAGWIRE_RESOLVE(ucp, ucp_config_release);
  if (fn) fn(config);
}

ucs_status_t ucp_init_version(unsigned major, unsigned minor, const ucp_params_t* params, const ucp_config_t* config,
                              ucp_context_h* context) {
  RAGWIRE_RESOLVE(ucp, ucp_init_version);
  return fn ? fn(major, minor, params, config, context) : UCS_ERR_UNSUPPORTED;
}

void ucp_cleanup(ucp_context_h context) {
  RAGWIRE_RESOLVE(ucp, ucp_cleanup);
  if (fn) fn(context);
}

ucs_status_t ucp_worker_create(ucp_context_h context, const ucp_worker_params_t* params, ucp_worker_h* worker) {
  RAGWIRE_RESOLVE(ucp, ucp_worker_create);
  return fn ? fn(context, params, worker) : UCS_ERR_UNSUPPORTED;
}

void ucp_worker_destroy(ucp_worker_h worker) {
  RAGWIRE_RESOLVE(ucp, ucp_worker_destroy);
  if (fn) fn(worker);
}

ucs_status_t ucp_worker_get_address(ucp_worker_h worker, ucp_address_t** address, size_t* length) {
  RAGWIRE_RESOLVE(ucp, ucp_worker_get_address);
  return fn ? fn(worker, address, length) : UCS_ERR_UNSUPPORTED;
}

void ucp_worker_release_address(ucp_worker_h worker, ucp_address_t* address) {
  RAGWIRE_RESOLVE(ucp, ucp_worker_release_address);
  if (fn) fn(worker, address);
}

ucs_status_t ucp_worker_get_efd(ucp_worker_h worker, int* fd) {
  RAGWIRE_RESOLVE(ucp, ucp_worker_get_efd);
  return fn ? fn(worker, fd) : UCS_ERR_UNSUPPORTED;
}

ucs_status_t ucp_worker_arm(ucp_worker_h worker) {
  RAGWIRE_RESOLVE(ucp, ucp_worker_arm);
  return fn ? fn(worker) : UCS_ERR_UNSUPPORTED;
}

unsigned ucp_worker_progress(ucp_worker_h worker) {
  RAGWIRE_RESOLVE(ucp, ucp_worker_progress);
  return fn ? fn(worker) : 0;
}

ucs_status_t ucp_worker_set_am_recv_handler(ucp_worker_h worker, const ucp_am_handler_param_t* param) {
  RAGWIRE_RESOLVE(ucp, ucp_worker_set_am_recv_handler);
  return fn ? fn(worker, param) : UCS_ERR_UNSUPPORTED;
}

ucs_status_t ucp_ep_create(ucp_worker_h worker, const ucp_ep_params_t* params, ucp_ep_h* ep) {
  RAGWIRE_RESOLVE(ucp, ucp_ep_create);
  return fn ? fn(worker, params, ep) : UCS_ERR_UNSUPPORTED;
}

ucs_status_ptr_t ucp_ep_close_nbx(ucp_ep_h ep, const ucp_request_param_t* param) {
  RAGWIRE_RESOLVE(ucp, ucp_ep_close_nbx);
  return fn ? fn(ep, param) : UCS_STATUS_PTR(UCS_ERR_UNSUPPORTED);
}

ucs_status_ptr_t ucp_am_send_nbx(ucp_ep_h ep, unsigned id, const void* header, size_t header_length, const void* buffer,
                                 size_t count, const ucp_request_param_t* param) {
  RAGWIRE_RESOLVE(ucp, ucp_am_send_nbx);
  return fn ? fn(ep, id, header, header_length, buffer, count, param) : UCS_STATUS_PTR(UCS_ERR_UNSUPPORTED);
}

ucs_status_ptr_t ucp_am_recv_data_nbx(ucp_worker_h worker, void* data_desc, void* buffer, size_t count,
                                      const ucp_request_param_t* param) {
  RAGWIRE_RESOLVE(ucp, ucp_am_recv_data_nbx);
  return fn ? fn(worker, data_desc, buffer, count, param) : UCS_STATUS_PTR(UCS_ERR_UNSUPPORTED);
}

ucs_status_t ucp_request_check_status(void* request) {
  RAGWIRE_RESOLVE(ucp, ucp_request_check_status);
  return fn ? fn(request) : UCS_ERR_UNSUPPORTED;
}

void ucp_request_free(void* request) {
  RAGWIRE_RESOLVE(ucp, ucp_request_free);
  if (fn) fn(request);
}

}  // extern "C"
