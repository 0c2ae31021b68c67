#pragma once
// Compile-time configuration: the one place that looks at __CUDACC__.

#define SGM_VERSION_MAJOR 0
#define SGM_VERSION_MINOR 1
#define SGM_VERSION_PATCH 0
#define SGM_VERSION_STRING "0.1.0"

#if defined(__CUDACC__)
#define SGM_HOST_DEVICE __host__ __device__
#define SGM_CUDA_COMPILER 1
#else
#define SGM_HOST_DEVICE
#define SGM_CUDA_COMPILER 0
// Without nvcc, Thrust's default device system must be a CPU one; the explicit
// systems (cpp, tbb) used by sgm::backend::thrust_backend work either way.
#ifndef THRUST_DEVICE_SYSTEM
#define THRUST_DEVICE_SYSTEM THRUST_DEVICE_SYSTEM_CPP
#endif
#endif
