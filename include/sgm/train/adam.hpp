#pragma once
// sgm::train::adam — Adam (Kingma & Ba) with the paper's learning-rate warm-up and
// global gradient-norm clipping (score_sde's optimization_manager):
//
//   lr_k   = lr · min(1, (k + 1)/warmup)                 k = 0, 1, ... (updates done before)
//   c      = grad_clip / max(‖g‖, grad_clip)              ‖g‖ over all trainable values
//   m ← β₁ m + (1 − β₁) c g,   v ← β₂ v + (1 − β₂) (c g)²
//   θ ← θ − lr_k · (m / (1 − β₁^(k+1))) / (sqrt(v / (1 − β₂^(k+1))) + ε)
//
// This is torch.optim.Adam (weight decay 0) applied after clip_grad_norm_. Two
// differences from the paper's code, both deliberate: its ramp is step/warmup, so its
// first update has learning rate 0 (here (k + 1)/warmup); and torch divides by
// ‖g‖ + 1e-6 when clipping (here by ‖g‖ exactly).
//
// Only trainable parameters are updated; their grads are read, never changed. step()
// does not allocate.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "../error.hpp"
#include "../nn/parameter.hpp"
#include "kernels/optimizer_updates.hpp"

namespace sgm::train {

struct adam_options {
    double learning_rate = 2e-4, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
    std::size_t warmup = 5000;   // linear ramp of the learning rate over the first `warmup` steps (0 = none)
    double grad_clip = 1.0;      // clip the global gradient norm to this (<= 0 or inf = no clipping)
};

// Throws sgm::error naming the first bad option.
inline void check_adam_options(const adam_options& options) {
    using sgm::detail::require;
    require(std::isfinite(options.learning_rate) && options.learning_rate >= 0, "adam: learning_rate = ",
            options.learning_rate, "; expected a finite value >= 0");
    require(options.beta1 >= 0 && options.beta1 < 1, "adam: beta1 = ", options.beta1, "; expected [0, 1)");
    require(options.beta2 >= 0 && options.beta2 < 1, "adam: beta2 = ", options.beta2, "; expected [0, 1)");
    require(std::isfinite(options.epsilon) && options.epsilon > 0, "adam: epsilon = ", options.epsilon,
            "; expected a finite value > 0");
    require(!std::isnan(options.grad_clip), "adam: grad_clip is NaN; expected a value (<= 0 or inf: none)");
}

// The learning rate of the update that follows `step` earlier ones (with warm-up).
[[nodiscard]] inline double scheduled_learning_rate(const adam_options& options, std::size_t step) {
    if (options.warmup == 0) return options.learning_rate;
    return options.learning_rate * std::min(1.0, double(step + 1) / double(options.warmup));
}

// The clipping factor c for a gradient norm (1 when clipping is off).
[[nodiscard]] inline double clip_factor(const adam_options& options, double norm) {
    if (options.grad_clip > 0 && std::isfinite(options.grad_clip))
        return options.grad_clip / std::max(norm, options.grad_clip);
    return 1;
}

// Adam moments restored from a checkpoint: `count` values each, finite, v >= 0.
template <class Real>
void check_moments(const char* where, const std::vector<Real>& m, const std::vector<Real>& v, std::size_t count) {
    using sgm::detail::require;
    require(m.size() == count, where, ": first moment has ", m.size(), " values, expected ", count,
            " (trainable values)");
    require(v.size() == count, where, ": second moment has ", v.size(), " values, expected ", count,
            " (trainable values)");
    for (std::size_t i = 0; i < count; ++i) {
        require(std::isfinite(m[i]), where, ": first moment[", i, "] = ", m[i], "; expected a finite value");
        require(std::isfinite(v[i]) && v[i] >= 0, where, ": second moment[", i, "] = ", v[i],
                "; expected a finite value >= 0");
    }
}

template <class Real>
class adam {
public:
    adam(const nn::parameter_list<Real>& params, adam_options options = {})
        : options_(options), m_(params.trainable_count(), Real(0)), v_(params.trainable_count(), Real(0)) {
        check_adam_options(options);
    }

    // One update from the parameters' grad (trainable parameters only); returns the global
    // gradient norm before clipping. Throws sgm::error naming the parameter if a grad is non-finite.
    double step(const nn::parameter_list<Real>& params) {
        sgm::detail::require(params.trainable_count() == m_.size(), "adam::step: the parameter list has ",
                             params.trainable_count(), " trainable values, the optimizer was built for ",
                             m_.size());
        const double norm = gradient_norm(params);
        const double clip = clip_factor(options_, norm);

        const double b1 = options_.beta1, b2 = options_.beta2;
        const double k = double(steps_ + 1);
        const double step_size = learning_rate(steps_) / (1 - std::pow(b1, k));
        const double root_correction = std::sqrt(1 - std::pow(b2, k));
        const Real eps = Real(options_.epsilon);

        std::size_t offset = 0;
        for (const auto& e : params) {
            auto& p = *e.tensor;
            if (!p.trainable) continue;
            const kernels::adam_update<Real> update{p.value.data(), p.grad.data(), m_.data() + offset,
                                                    v_.data() + offset, clip, b1, b2, step_size, root_correction,
                                                    eps};
            for (std::size_t i = 0; i < p.size(); ++i) update(i);
            offset += p.size();
        }
        ++steps_;
        return norm;
    }

    [[nodiscard]] std::size_t steps() const { return steps_; }

    // The learning rate of the update that follows `step` earlier ones (with warm-up).
    [[nodiscard]] double learning_rate(std::size_t step) const { return scheduled_learning_rate(options_, step); }

    [[nodiscard]] const adam_options& options() const { return options_; }

    // Moments, flat over trainable parameters in list order, for checkpoints.
    [[nodiscard]] const std::vector<Real>& first_moment() const { return m_; }
    [[nodiscard]] const std::vector<Real>& second_moment() const { return v_; }

    void set_state(std::size_t steps, std::vector<Real> m, std::vector<Real> v) {
        check_moments("adam::set_state", m, v, m_.size());
        steps_ = steps;
        m_ = std::move(m);
        v_ = std::move(v);
    }

private:
    // ‖g‖ in double over trainable values; the first non-finite entry is an error.
    double gradient_norm(const nn::parameter_list<Real>& params) const {
        double sum = 0;
        for (const auto& e : params) {
            const auto& p = *e.tensor;
            if (!p.trainable) continue;
            for (std::size_t i = 0; i < p.size(); ++i) {
                const double g = double(p.grad[i]);
                if (!std::isfinite(g))
                    throw sgm::error(sgm::detail::concat("adam::step: non-finite gradient ", g, " in parameter '",
                                                         e.name, "' at index ", i, " (update ", steps_, ")"));
                sum += g * g;
            }
        }
        sgm::detail::require(std::isfinite(sum), "adam::step: the gradient norm overflows (update ", steps_, ")");
        return std::sqrt(sum);
    }

    adam_options options_;
    std::vector<Real> m_, v_;
    std::size_t steps_ = 0;
};

}  // namespace sgm::train
