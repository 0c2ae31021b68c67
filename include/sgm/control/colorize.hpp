#pragma once
// Colorization (Song et al. 2021, appendix I.3): colour images whose gray value
// (the mean of their channels) is given. In the gray_first basis decoupled
// channel 0 is √C · gray, so colorization is imputation of channels 1 … C−1 there
// with the model's score seen through sgm::decoupled_score; the result is mapped
// back to the channels. gray: count × pixels host values.

#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "../concepts/backend.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../error.hpp"
#include "../sample/ode_sampler.hpp"
#include "../sample/pc_sampler.hpp"
#include "channel_transform.hpp"
#include "decoupled_score.hpp"
#include "impute.hpp"
#include "imputation_target.hpp"

namespace sgm {

// The imputation target in the gray_first basis: channel 0 known (√C · gray), the rest missing.
template <backend Backend>
imputation_target<Backend> colorization_target(std::span<const typename Backend::value_type> gray, std::size_t count,
                                               std::size_t channels, const Backend& be = Backend{}) {
    using Real = typename Backend::value_type;
    detail::require(count >= 1 && !gray.empty() && gray.size() % count == 0, "colorize: ", gray.size(),
                    " gray values do not split into ", count, " images");
    detail::require(channels >= 2, "colorize: ", channels, " channels; expected at least 2");
    const std::size_t pixels = gray.size() / count, d = channels * pixels;
    const Real root_c = Real(std::sqrt(double(channels)));
    std::vector<Real> mask(count * d, Real(0)), values(count * d, Real(0));
    for (std::size_t b = 0; b < count; ++b)
        for (std::size_t p = 0; p < pixels; ++p) {
            mask[b * d + p] = Real(1);
            values[b * d + p] = root_c * gray[b * pixels + p];
        }
    return imputation_target<Backend>(mask, values, count, d, be);
}

template <backend Backend, affine_sde SDE, score_model Model, class Predictor, class Corrector>
    requires std::same_as<typename Model::backend_type, Backend>
sample_result<Backend> colorize_pc(const SDE& sde, Model& model, const Predictor& predictor,
                                   const Corrector& corrector, std::span<const typename Backend::value_type> gray,
                                   std::size_t count, std::size_t channels, const pc_options& options,
                                   const Backend& be = Backend{}) {
    const auto transform = channel_transform<typename Backend::value_type>::gray_first(channels);
    decoupled_score<Model> decoupled(model, transform, be);
    auto result = impute_pc(sde, decoupled, predictor, corrector, colorization_target(gray, count, channels, be),
                            options, be);
    result.samples = transform.to_channels(result.samples, be);
    return result;
}

template <backend Backend, affine_sde SDE, score_model Model>
    requires std::same_as<typename Model::backend_type, Backend>
sample_result<Backend> colorize_ode(const SDE& sde, Model& model, std::span<const typename Backend::value_type> gray,
                                    std::size_t count, std::size_t channels, const ode_options& options,
                                    const Backend& be = Backend{}) {
    const auto transform = channel_transform<typename Backend::value_type>::gray_first(channels);
    decoupled_score<Model> decoupled(model, transform, be);
    auto result = impute_ode(sde, decoupled, colorization_target(gray, count, channels, be), options, be);
    result.samples = transform.to_channels(result.samples, be);
    return result;
}

}  // namespace sgm
