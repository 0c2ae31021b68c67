#pragma once
// sgm::train::ema — exponential moving average of a network's weights, as the
// paper's ExponentialMovingAverage (score_sde models/ema.py):
//
//   shadow ← d·shadow + (1 − d)·θ,   d = min(rate, (1 + n)/(10 + n))
//
// with n the number of updates so far counting this one (the paper increments its
// counter before using it), so the first update has d = min(rate, 2/11) and the
// average forgets its initial copy quickly. Paper rates: 0.999 (VE), 0.9999 (VP).
//
// The shadow holds every value of the list (trainable or not); values that are not
// trainable (fixed buffers) are copied rather than averaged. update() does not allocate.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "../error.hpp"
#include "../nn/parameter.hpp"
#include "kernels/optimizer_updates.hpp"

namespace sgm::train {

template <class Real>
class ema {
public:
    // Copies the current values.
    ema(const nn::parameter_list<Real>& params, double rate) : shadow_(params.flatten_values()), rate_(rate) {
        sgm::detail::require(rate >= 0 && rate <= 1, "ema: rate = ", rate, "; expected a value in [0, 1]");
    }

    // The decay of the n-th update (n = 1 for the first).
    [[nodiscard]] static double decay(double rate, std::size_t n) {
        return std::min(rate, (1.0 + double(n)) / (10.0 + double(n)));
    }
    // The decay the next update() will use.
    [[nodiscard]] double next_decay() const { return decay(rate_, updates_ + 1); }

    void update(const nn::parameter_list<Real>& params) {
        sgm::detail::require(params.value_count() == shadow_.size(), "ema::update: the parameter list has ",
                             params.value_count(), " values, the average has ", shadow_.size());
        const Real d = Real(next_decay());
        const Real keep = Real(1) - d;
        std::size_t offset = 0;
        for (const auto& e : params) {
            const auto& p = *e.tensor;
            const kernels::ema_update<Real> update{shadow_.data() + offset, p.value.data(), d, keep, p.trainable};
            for (std::size_t i = 0; i < p.size(); ++i) update(i);
            offset += p.size();
        }
        ++updates_;
    }

    // Flat, all parameters in list order.
    [[nodiscard]] const std::vector<Real>& shadow() const { return shadow_; }
    [[nodiscard]] std::size_t updates() const { return updates_; }
    [[nodiscard]] double rate() const { return rate_; }

    void set_state(std::size_t updates, std::vector<Real> shadow) {
        sgm::detail::require(shadow.size() == shadow_.size(), "ema::set_state: shadow has ", shadow.size(),
                             " values, expected ", shadow_.size());
        updates_ = updates;
        shadow_ = std::move(shadow);
    }

    // Loads the averaged weights into a network (e.g. for sampling or a checkpoint).
    void copy_to(const nn::parameter_list<Real>& params) const { params.assign_values(shadow_); }

private:
    std::vector<Real> shadow_;
    double rate_;
    std::size_t updates_ = 0;
};

}  // namespace sgm::train
