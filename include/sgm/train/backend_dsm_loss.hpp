#pragma once
// sgm::train::backend_dsm_loss — any of the denoising score-matching losses
// (continuous_dsm_loss, smld_loss, ddpm_loss) with the batch, the noise, the
// perturbation and the residual in a backend's memory, for a score model whose
// network runs there (nn::backend_unet, nn::backend_mlp).
//
//   backend_dsm_loss loss(continuous_dsm_loss(sde), gpu{});
//   double value = loss(model, x0_on_device, n, key, true);
//
// The loss draws the same times, noise levels and noise as the host loss for
// the same batch_key, so the two agree up to the network's rounding. The host
// computes each sample's scalar coefficients (t, mean, std, a, c, weight; 6·n
// values, one upload per batch) with the wrapped loss's own coefficients();
// the noise is drawn on the backend; only the n per-sample sums of squares
// come back to the host, for the loss value and its non-finite check.

#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "../concepts/backend.hpp"
#include "../error.hpp"
#include "../nn/layer.hpp"
#include "batch_key.hpp"
#include "dsm_options.hpp"
#include "kernels/dsm.hpp"

namespace sgm::train {

template <class Loss, class Backend>
class backend_dsm_loss {
public:
    using value_type = typename Backend::value_type;
    using Real = value_type;
    static_assert(std::is_same_v<typename Loss::value_type, Real>,
                  "backend_dsm_loss: the loss's value type must be the backend's");

    explicit backend_dsm_loss(Loss loss, Backend be = Backend{}) : loss_(std::move(loss)), be_(std::move(be)) {}

    [[nodiscard]] const Loss& host_loss() const { return loss_; }

    // x0: n samples of model.dim() values in backend memory. Returns the batch
    // mean; with compute_gradients, adds the parameter gradients (model.backward).
    template <class Model>
    double operator()(Model& model, const Real* x0, std::size_t n, batch_key key, bool compute_gradients) {
        return evaluate(model, x0, n, key, compute_gradients, nullptr);
    }

    // As operator(), and writes loss_b to per_sample[b] (n values, host memory) unless it is null.
    template <class Model>
    double evaluate(Model& model, const Real* x0, std::size_t n, batch_key key, bool compute_gradients,
                    double* per_sample) {
        static_assert(std::is_same_v<typename Model::value_type, Real>,
                      "backend_dsm_loss: the model's value type must be the loss's");
        const std::size_t d = model.dim();
        detail::require_batch("backend_dsm_loss", x0, n, d);
        grow(n, d);
        const double rho = loss_.reduction() == dsm_reduction::mean ? 1.0 / double(d) : 1.0;
        for (std::size_t b = 0; b < n; ++b) {
            const dsm_coefficients<Real> k = loss_.coefficients(key, b);
            const Real row[] = {k.t, k.mean, k.std, k.a, k.c, Real(2 * k.w * rho * double(k.a) / double(n))};
            for (std::size_t c = 0; c < kernels::dsm_columns; ++c) coef_host_[c * n + b] = row[c];
            weight_[b] = k.w;
        }
        be_.copy_from_host({coef_host_.data(), kernels::dsm_columns * n}, coef_);
        const Real* coef = Backend::data(coef_);
        const std::size_t blocks = (d + 3) / 4;
        be_.for_each_index(n * blocks, kernels::dsm_perturb<Real>{x0, coef, data(x_), data(z_), step_seed(key),
                                                                   key.first_sample, noise_draw, n, d, blocks});
        model.forward(data(x_), coef + kernels::dsm_t * n, data(score_), n);
        be_.for_each_index(n, kernels::dsm_residual_squares<Real>{data(score_), data(z_), coef, data(squares_), n, d});
        sgm::copy_to_host(be_, squares_, std::span<Real>(squares_host_));
        const std::vector<Real>& squares = squares_host_;
        double total = 0;
        for (std::size_t b = 0; b < n; ++b) {
            const double loss = weight_[b] * rho * double(squares[b]);
            if (!std::isfinite(loss))
                throw sgm::error(sgm::detail::concat("backend_dsm_loss: non-finite loss ", loss, " at step ",
                                                     key.step, ", sample ", key.first_sample + b, " (t = ",
                                                     coef_host_[kernels::dsm_t * n + b], ")"));
            if (per_sample != nullptr) per_sample[b] = loss;
            total += loss;
        }
        if (compute_gradients) {
            be_.for_each_index(n * d,
                               kernels::dsm_score_gradient<Real>{data(score_), data(z_), coef, data(dscore_), n, d});
            model.backward(data(dscore_), nullptr, n, nn::gradients::parameters_only);
        }
        return total / double(n);
    }

private:
    static Real* data(typename Backend::vector& v) { return Backend::data(v); }

    // Buffers for n samples of d values; they only grow. The squares vector is
    // sized exactly, since its host copy is read in full.
    void grow(std::size_t n, std::size_t d) {
        if (n != batch_) {
            squares_ = be_.make_vector(n);
            coef_ = be_.make_vector(kernels::dsm_columns * n);
            coef_host_.resize(kernels::dsm_columns * n);
            squares_host_.resize(n);
            weight_.resize(n);
            batch_ = n;
        }
        if (n * d > values_) {
            for (auto* v : {&x_, &z_, &score_, &dscore_}) *v = be_.make_vector(n * d);
            values_ = n * d;
        }
    }

    Loss loss_;
    Backend be_;
    typename Backend::vector x_, z_, score_, dscore_, squares_, coef_;
    std::vector<Real> coef_host_, squares_host_;
    std::vector<double> weight_;
    std::size_t batch_ = 0, values_ = 0;
};

}  // namespace sgm::train
