# Finds Thrust headers for the sgm::thrust target and sets SGM_CCCL_INCLUDE_DIR:
#  1. the CCCL headers shipped with the CUDA toolkit (Thrust 2/3; needed for CUDA), else
#  2. a system Thrust (Debian's libthrust-dev, 1.17), enough for the CPU systems.
# A CCCL directory must hold cuda/std next to thrust/, so that the toolkit's
# Thrust is never mixed with the system's older libcu++.
if(NOT SGM_CCCL_INCLUDE_DIR)
  find_package(CUDAToolkit QUIET)
  set(_sgm_cccl_hints "")
  foreach(dir IN LISTS CUDAToolkit_INCLUDE_DIRS)
    list(APPEND _sgm_cccl_hints "${dir}/cccl" "${dir}")
  endforeach()
  list(APPEND _sgm_cccl_hints /usr/local/cuda/include/cccl /usr/local/cuda/include)
  find_path(SGM_CCCL_INCLUDE_DIR NAMES cuda/std/version HINTS ${_sgm_cccl_hints} NO_DEFAULT_PATH)
  if(SGM_CCCL_INCLUDE_DIR AND NOT EXISTS "${SGM_CCCL_INCLUDE_DIR}/thrust/version.h")
    unset(SGM_CCCL_INCLUDE_DIR CACHE)
  endif()
  if(NOT SGM_CCCL_INCLUDE_DIR)
    find_path(SGM_CCCL_INCLUDE_DIR NAMES thrust/version.h)
  endif()
endif()
if(SGM_CCCL_INCLUDE_DIR)
  file(STRINGS "${SGM_CCCL_INCLUDE_DIR}/thrust/version.h" _sgm_thrust_version_line
       REGEX "^#define THRUST_VERSION [0-9]+")
  string(REGEX REPLACE "^#define THRUST_VERSION ([0-9]+).*" "\\1" SGM_THRUST_VERSION "${_sgm_thrust_version_line}")
  if(SGM_THRUST_VERSION LESS 101700)
    message(STATUS "sgm: Thrust ${SGM_THRUST_VERSION} in ${SGM_CCCL_INCLUDE_DIR} is older than 1.17; ignored")
    unset(SGM_CCCL_INCLUDE_DIR CACHE)
  endif()
endif()
