#pragma once
// sgm::data::image_set — a set of images held as one contiguous array, sample-major
// NCHW (count × channels × height × width), with optional integer labels.
// Each image flattened is one sample of dimension dim() = channels·height·width,
// so pixels() can be handed to batch<B>::from_host(pixels, size(), dim(), be).

#include <cstddef>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "../error.hpp"

namespace sgm::data {

template <class Real>
class image_set {
public:
    using value_type = Real;

    image_set() = default;

    // pixels: count·channels·height·width values; labels: empty (unlabeled) or one
    // non-negative label per image. Channels, height and width must be >= 1; count may be 0.
    image_set(std::size_t count, std::size_t channels, std::size_t height, std::size_t width,
              std::vector<Real> pixels, std::vector<int> labels = {})
        : count_(count), channels_(channels), height_(height), width_(width),
          pixels_(std::move(pixels)), labels_(std::move(labels)) {
        using sgm::detail::require;
        require(channels_ >= 1 && height_ >= 1 && width_ >= 1, "image_set: shape channels = ", channels_,
                ", height = ", height_, ", width = ", width_, "; expected each >= 1");
        constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
        require(height_ <= max / width_ && channels_ <= max / (height_ * width_), "image_set: image shape ",
                channels_, "x", height_, "x", width_, " overflows the size type");
        const std::size_t d = dim();
        require(count_ <= max / d, "image_set: ", count_, " images of ", d, " values overflow the size type");
        require(pixels_.size() == count_ * d, "image_set: got ", pixels_.size(), " pixel values, expected count·",
                "channels·height·width = ", count_, "·", channels_, "·", height_, "·", width_, " = ", count_ * d);
        require(labels_.empty() || labels_.size() == count_, "image_set: got ", labels_.size(),
                " labels for ", count_, " images; expected none or one per image");
        for (std::size_t i = 0; i < labels_.size(); ++i)
            require(labels_[i] >= 0, "image_set: label[", i, "] = ", labels_[i], "; expected a value >= 0");
    }

    [[nodiscard]] std::size_t size() const { return count_; }
    [[nodiscard]] bool empty() const { return count_ == 0; }
    [[nodiscard]] std::size_t channels() const { return channels_; }
    [[nodiscard]] std::size_t height() const { return height_; }
    [[nodiscard]] std::size_t width() const { return width_; }
    // Values per image.
    [[nodiscard]] std::size_t dim() const { return channels_ * height_ * width_; }

    [[nodiscard]] std::span<const Real> pixels() const { return pixels_; }
    [[nodiscard]] std::span<Real> pixels() { return pixels_; }
    [[nodiscard]] bool has_labels() const { return !labels_.empty(); }
    [[nodiscard]] const std::vector<int>& labels() const { return labels_; }

    // Image i, dim() values in CHW order.
    [[nodiscard]] std::span<const Real> sample(std::size_t i) const {
        check_index(i, "sample");
        return std::span<const Real>(pixels_).subspan(i * dim(), dim());
    }
    [[nodiscard]] std::span<Real> sample(std::size_t i) {
        check_index(i, "sample");
        return std::span<Real>(pixels_).subspan(i * dim(), dim());
    }
    [[nodiscard]] int label(std::size_t i) const {
        sgm::detail::require(has_labels(), "image_set::label: the set has no labels");
        check_index(i, "label");
        return labels_[i];
    }

    // Held-out split: {images [0, first_count), images [first_count, size())}, in order.
    // Deterministic; use the first part for training and the second as the test set
    // (or the reverse), and keep the split fixed across runs.
    [[nodiscard]] std::pair<image_set, image_set> split(std::size_t first_count) const {
        sgm::detail::require(first_count <= count_, "image_set::split: first_count = ", first_count,
                             " exceeds the ", count_, " images in the set");
        const auto cut = static_cast<std::ptrdiff_t>(first_count * dim());
        const auto at = static_cast<std::ptrdiff_t>(first_count);
        std::vector<int> head_labels, tail_labels;
        if (has_labels()) {
            head_labels.assign(labels_.begin(), labels_.begin() + at);
            tail_labels.assign(labels_.begin() + at, labels_.end());
        }
        return {image_set(first_count, channels_, height_, width_,
                          std::vector<Real>(pixels_.begin(), pixels_.begin() + cut), std::move(head_labels)),
                image_set(count_ - first_count, channels_, height_, width_,
                          std::vector<Real>(pixels_.begin() + cut, pixels_.end()), std::move(tail_labels))};
    }

    // The images at `indices`, in that order; an index may repeat (bootstrap resampling).
    [[nodiscard]] image_set subset(std::span<const std::size_t> indices) const {
        for (std::size_t k = 0; k < indices.size(); ++k)
            sgm::detail::require(indices[k] < count_, "image_set::subset: indices[", k, "] = ", indices[k],
                                 " is out of range for a set of ", count_, " images");
        const std::size_t d = dim();
        std::vector<Real> pixels;
        pixels.reserve(indices.size() * d);
        std::vector<int> labels;
        if (has_labels()) labels.reserve(indices.size());
        for (const std::size_t i : indices) {
            const auto first = pixels_.begin() + static_cast<std::ptrdiff_t>(i * d);
            pixels.insert(pixels.end(), first, first + static_cast<std::ptrdiff_t>(d));
            if (has_labels()) labels.push_back(labels_[i]);
        }
        return image_set(indices.size(), channels_, height_, width_, std::move(pixels), std::move(labels));
    }

private:
    void check_index(std::size_t i, const char* what) const {
        sgm::detail::require(i < count_, "image_set::", what, ": index ", i, " is out of range for a set of ",
                             count_, " images");
    }

    std::size_t count_ = 0;
    std::size_t channels_ = 1;
    std::size_t height_ = 1;
    std::size_t width_ = 1;
    std::vector<Real> pixels_;
    std::vector<int> labels_;
};

}  // namespace sgm::data
