#pragma once
// Class-conditional sampling flags: which class each sample is steered towards,
// by which time-conditioned classifier, and how strongly.
//
//   --class K|all  --classifier FILE|NAME  --guidance-scale W

#include <cstddef>
#include <string>
#include <vector>

#include <sgm/models/classifier_model.hpp>
#include <sgm/models/image_model.hpp>

#include "flags.hpp"

namespace cli {

struct guidance_choice {
    std::string classes;  // empty: unconditional
    std::string classifier = "mnist_classifier_vp";
    double scale = 1;

    void add_flags(flags& f) {
        f.add("--class", classes, "K|all",
              "steer every sample to class K, or with 'all' row r of the grid to class r (classifier guidance)");
        f.add("--classifier", classifier, "FILE|NAME", "time-conditioned classifier for --class");
        f.add("--guidance-scale", scale, "W", "guidance scale w: score + w * grad log p(class | x)", 0, 1e6);
    }

    [[nodiscard]] bool enabled() const { return !classes.empty(); }

    // The class of samples [first, first + n): K for all, or with "all" the row
    // (index / columns) modulo the number of classes.
    [[nodiscard]] std::vector<std::size_t> labels(std::size_t first, std::size_t n, std::size_t columns,
                                                  std::size_t class_count) const {
        std::vector<std::size_t> out(n);
        for (std::size_t i = 0; i < n; ++i)
            out[i] = classes == "all" ? ((first + i) / columns) % class_count : fixed_class(class_count);
        return out;
    }

    [[nodiscard]] std::size_t fixed_class(std::size_t class_count) const {
        std::size_t k = 0;
        try {
            std::size_t used = 0;
            k = std::stoul(classes, &used);
            if (used != classes.size()) throw std::invalid_argument(classes);
        } catch (const std::exception&) {
            throw usage_error("--class '" + classes + "': expected a class number or 'all'");
        }
        if (k >= class_count)
            throw usage_error("--class " + classes + " is out of range: the classifier has " +
                              std::to_string(class_count) + " classes (0 to " + std::to_string(class_count - 1) + ")");
        return k;
    }

    // The classifier must be time-conditioned on the model's SDE and see the model's pixel range.
    static void check_compatible(const sgm::models::classifier_spec& c, const sgm::models::image_model_spec& m,
                                 const std::string& name) {
        if (!c.network.time_conditioned || !c.sde)
            throw usage_error("--classifier '" + name +
                              "' is not time-conditioned; guidance needs one trained on noisy images "
                              "(sgm-train-classifier --time-conditioned)");
        if (c.sde->kind != m.sde.kind || c.sde->first != m.sde.first || c.sde->second != m.sde.second ||
            c.sde->end_time != m.sde.end_time)
            throw usage_error("--classifier '" + name + "' was trained on images noised by the " +
                              sgm::models::to_string(*c.sde) + " SDE, the model uses " +
                              sgm::models::to_string(m.sde));
        if (c.range != m.range)
            throw usage_error("--classifier '" + name + "' sees pixels in " + sgm::models::pixel_range_text(c.range) +
                              ", the model in " + sgm::models::pixel_range_text(m.range));
        if (c.dim() != m.dim())
            throw usage_error("--classifier '" + name + "' takes images of " + std::to_string(c.dim()) +
                              " values, the model " + std::to_string(m.dim()));
    }
};

}  // namespace cli
