#pragma once
// What a trained classifier says of images in [0, 1]: its most probable class for
// each, at t = 0 when it is time-conditioned. For checking generated images
// against a request (a class, or the class of the image they complete).

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <sgm/data/scaling.hpp>
#include <sgm/error.hpp>
#include <sgm/models/classifier_model.hpp>

namespace cli {

using classifier = sgm::models::loaded_classifier<float>;

// images: n × dim values in [0, 1] (clipped there first).
[[nodiscard]] inline std::vector<std::size_t> predict_classes(classifier& c, std::vector<float> images, std::size_t n) {
    auto& net = c.network;
    const std::size_t d = net.input_size(), k = net.classes(), chunk = 250;
    sgm::detail::require(images.size() == n * d, "classifier: ", images.size(), " values for ", n,
                         " images; it takes ", d, " values per image");
    sgm::data::clip_to_range(std::span<float>(images), sgm::data::pixel_range::unit);
    sgm::data::to_range(std::span<float>(images), c.spec.range);
    std::vector<float> logits(chunk * k), times(chunk, 0.0f);
    std::vector<std::size_t> out(n);
    for (std::size_t b0 = 0; b0 < n; b0 += chunk) {
        const std::size_t m = std::min(chunk, n - b0);
        net.forward(images.data() + b0 * d, times.data(), logits.data(), m);
        for (std::size_t i = 0; i < m; ++i) {
            const float* p = logits.data() + i * k;
            out[b0 + i] = static_cast<std::size_t>(std::max_element(p, p + k) - p);
        }
    }
    return out;
}

}  // namespace cli
