// The GPU build of bench_backend_unet.cpp: the same program with nvcc, whose
// backend is then Thrust's CUDA system.
#include "bench_backend_unet.cpp"
