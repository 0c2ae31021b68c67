# Finds the CCCL (Thrust/CUB/libcu++) headers shipped with the CUDA toolkit and
# sets SGM_CCCL_INCLUDE_DIR. Debian's separate, older Thrust is deliberately not
# searched: only a directory holding cuda/std next to thrust/ qualifies.
if(NOT SGM_CCCL_INCLUDE_DIR)
  find_package(CUDAToolkit QUIET)
  set(_sgm_cccl_hints "")
  if(CUDAToolkit_INCLUDE_DIRS)
    foreach(dir IN LISTS CUDAToolkit_INCLUDE_DIRS)
      list(APPEND _sgm_cccl_hints "${dir}/cccl" "${dir}")
    endforeach()
  endif()
  list(APPEND _sgm_cccl_hints /usr/local/cuda/include/cccl /usr/local/cuda/include)
  find_path(SGM_CCCL_INCLUDE_DIR NAMES thrust/version.h cuda/std/version
    HINTS ${_sgm_cccl_hints} NO_DEFAULT_PATH)
  if(SGM_CCCL_INCLUDE_DIR AND NOT EXISTS "${SGM_CCCL_INCLUDE_DIR}/cuda/std/version")
    unset(SGM_CCCL_INCLUDE_DIR CACHE)
  endif()
endif()
