// sgm-train-cuda: train.cpp compiled by nvcc, so that --device cuda (the
// default here) trains the U-Net on an NVIDIA GPU.
#include "train.cpp"
