# The CUDA backend, compiled by nvcc into one object linked into the core with
# the static CUDA runtime (no libcudart.so needed at run time; without a
# driver the backend lists no device). CMake's CUDA language support is not
# used: cmake 3.25 predates nvcc 13. RAGWIRE_CUDA_ARCHS picks the targets
# (default: sm_80 and sm_90 code, plus compute_90 PTX for newer GPUs).
set(RAGWIRE_CUDA_ARCHS "80;90" CACHE STRING "CUDA SM architectures to compile for")
if(RAGWIRE_WITH_CUDA)
  find_program(RAGWIRE_NVCC nvcc HINTS /usr/local/cuda/bin /usr/local/bin ENV CUDA_HOME PATH_SUFFIXES bin)
endif()
if(RAGWIRE_WITH_CUDA AND RAGWIRE_NVCC)
  get_filename_component(_nvcc_real ${RAGWIRE_NVCC} REALPATH)
  # /usr/local/bin/nvcc may be a wrapper script: ask nvcc where it lives.
  execute_process(COMMAND ${RAGWIRE_NVCC} --dryrun -c -x cu /dev/null -o /dev/null
    ERROR_VARIABLE _nvcc_dry OUTPUT_QUIET)
  string(REGEX MATCH "TOP=([^\n]*)" _top "${_nvcc_dry}")
  set(_cuda_root "${CMAKE_MATCH_1}")
  if(NOT _cuda_root)
    get_filename_component(_cuda_root ${_nvcc_real} DIRECTORY)
    get_filename_component(_cuda_root ${_cuda_root} DIRECTORY)
  endif()
  find_library(RAGWIRE_CUDART_STATIC cudart_static HINTS ${_cuda_root}/lib64 ${_cuda_root}/lib ${_cuda_root}/targets/x86_64-linux/lib NO_DEFAULT_PATH)
  if(RAGWIRE_CUDART_STATIC)
    set(_gencode "")
    foreach(_arch ${RAGWIRE_CUDA_ARCHS})
      list(APPEND _gencode -gencode arch=compute_${_arch},code=sm_${_arch})
    endforeach()
    list(GET RAGWIRE_CUDA_ARCHS -1 _last)
    list(APPEND _gencode -gencode arch=compute_${_last},code=compute_${_last})
    set(RAGWIRE_CUDA_OBJ ${CMAKE_CURRENT_BINARY_DIR}/cuda_backend.o)
    add_custom_command(OUTPUT ${RAGWIRE_CUDA_OBJ}
      COMMAND ${RAGWIRE_NVCC} -O3 -std=c++17 -Xcompiler -fPIC -Xcompiler -Werror=switch ${_gencode}
        -I${CMAKE_CURRENT_SOURCE_DIR}/include -c ${CMAKE_CURRENT_SOURCE_DIR}/src/device/cuda_backend.cu -o ${RAGWIRE_CUDA_OBJ}
      DEPENDS src/device/cuda_backend.cu src/device/cuda_kernels.cuh include/ragwire/device.hpp include/ragwire/status.hpp
        include/ragwire/config.hpp include/ragwire/limits.hpp
      COMMENT "nvcc cuda_backend.cu (${RAGWIRE_CUDA_ARCHS})" VERBATIM)
    list(APPEND CORE_SOURCES ${RAGWIRE_CUDA_OBJ})
    list(APPEND CORE_DEFS RAGWIRE_HAVE_CUDA)
    list(APPEND CORE_LIBS ${RAGWIRE_CUDART_STATIC} ${CMAKE_DL_LIBS} rt)
    message(STATUS "ragwire: CUDA backend on (${RAGWIRE_NVCC}, ${RAGWIRE_CUDART_STATIC}, sm ${RAGWIRE_CUDA_ARCHS})")
  else()
    message(STATUS "ragwire: nvcc found but not libcudart_static, no CUDA backend")
  endif()
elseif(RAGWIRE_WITH_CUDA)
  message(STATUS "ragwire: nvcc not found, no CUDA backend")
else()
  message(STATUS "ragwire: CUDA backend off (RAGWIRE_WITH_CUDA=OFF)")
endif()
