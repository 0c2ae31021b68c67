#pragma once
// A run of consecutive test-split images for the tools that complete images
// (inpainting, colorization): pixels in [0, 1] and labels, checked against the
// model's image size.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <sgm/error.hpp>

#include "datasets.hpp"
#include "flags.hpp"

namespace cli {

struct test_images {
    std::vector<float> pixels;  // count × dim in [0, 1]
    std::vector<int> labels;    // empty when the data set has none
    std::size_t count = 0, dim = 0;
};

// Test images [first, first + count) of `dataset`; their size must be `model_dim`.
[[nodiscard]] inline test_images load_test_images(const std::string& dataset, const std::filesystem::path& dir,
                                                  std::size_t first, std::size_t count, std::size_t model_dim) {
    auto test = load_dataset<float>(dataset, dir, "test");
    if (test.dim() != model_dim)
        throw sgm::error("the model takes images of " + std::to_string(model_dim) + " values; " + dataset +
                         "'s have " + std::to_string(test.dim()) + " (" + std::to_string(test.channels()) + "x" +
                         std::to_string(test.height()) + "x" + std::to_string(test.width()) + ")");
    if (count == 0 || first + count > test.size())
        throw usage_error("images " + std::to_string(first) + " to " + std::to_string(first + count) +
                          " are outside the test split (" + std::to_string(test.size()) + " images)");
    test_images out;
    out.count = count;
    out.dim = test.dim();
    const auto all = test.pixels();
    out.pixels.assign(all.begin() + std::ptrdiff_t(first * out.dim), all.begin() + std::ptrdiff_t((first + count) * out.dim));
    if (test.has_labels())
        out.labels.assign(test.labels().begin() + std::ptrdiff_t(first),
                          test.labels().begin() + std::ptrdiff_t(first + count));
    return out;
}

}  // namespace cli
