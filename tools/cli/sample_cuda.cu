// sgm-sample-cuda: sample.cpp compiled by nvcc, so that --device cuda (the
// default here) runs the network and the sampler on an NVIDIA GPU.
#include "sample.cpp"
