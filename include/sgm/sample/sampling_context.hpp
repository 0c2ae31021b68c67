#pragma once
// sgm::sampling_context — what predictors and correctors work through: the state,
// the score model (counting evaluations), counter-based noise and workspace. All
// buffers are allocated once per sampling run; steps do not allocate.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../error.hpp"
#include "../random/philox_normal.hpp"

namespace sgm {

template <backend Backend, sde SDE, score_model Model>
class sampling_context {
public:
    using backend_type = Backend;
    using sde_type = SDE;
    using value_type = typename Backend::value_type;
    using Real = value_type;

    // Noise draw 0 is reserved for the prior; steps use draws 1, 2, … in order.
    sampling_context(const Backend& be, const SDE& sde, Model& model, batch<Backend>& x,
                     random::noise_key key)
        : be_(be), sde_(sde), model_(model), x_(x), key_(key), score_(be.make_vector(x.size() * x.dim())),
          noise_(be.make_vector(x.size() * x.dim())), times_(be.make_vector(x.size())),
          norm_a_(be.make_vector(x.size())), norm_b_(be.make_vector(x.size())) {
        detail::require(model.dim() == x.dim(), "sampler: the score model expects dim ", model.dim(),
                        " but the state has dim ", x.dim());
    }

    [[nodiscard]] const Backend& backend() const { return be_; }
    [[nodiscard]] const SDE& sde() const { return sde_; }
    [[nodiscard]] std::size_t size() const { return x_.size(); }
    [[nodiscard]] std::size_t dim() const { return x_.dim(); }
    [[nodiscard]] std::size_t count() const { return x_.size() * x_.dim(); }
    [[nodiscard]] Real* x() { return x_.data(); }
    [[nodiscard]] batch<Backend>& state() { return x_; }
    [[nodiscard]] std::size_t nfe() const { return nfe_; }

    // Evaluates the score at the current state and time t for every sample.
    const Real* score(Real t) {
        Real* times = Backend::data(times_);
        be_.for_each_index(size(), [=] SGM_HOST_DEVICE(std::size_t b) { times[b] = t; });
        model_.score(static_cast<batch_view<const Real>>(x_.view()), times,
                     batch_view<Real>{Backend::data(score_), size(), dim()});
        ++nfe_;
        return Backend::data(score_);
    }

    // The next standard-normal draw, B × D.
    const Real* noise() {
        random::fill_normal(be_, Backend::data(noise_), size(), dim(), key_, next_draw_++);
        return Backend::data(noise_);
    }

    // out[b] = ‖v_b‖ for every sample b. When batch_averaged, every out[b] is
    // instead the mean of the norms over the batch (the paper code's rule).
    void sample_norms(const Real* v, Real* out, bool batch_averaged) const {
        be_.sum_segments(size(), dim(), [=] SGM_HOST_DEVICE(std::size_t i) { return v[i] * v[i]; }, out);
        const std::size_t n = size();
        if (!batch_averaged) {
            be_.for_each_index(n, [=] SGM_HOST_DEVICE(std::size_t b) { out[b] = std::sqrt(out[b]); });
            return;
        }
        be_.for_each_index(1, [=] SGM_HOST_DEVICE(std::size_t) {
            Real mean = 0;
            for (std::size_t b = 0; b < n; ++b) mean += std::sqrt(out[b]);
            out[0] = mean / Real(n);
        });
        be_.for_each_index(n, [=] SGM_HOST_DEVICE(std::size_t b) { out[b] = out[0]; });
    }

    // Two per-sample scratch vectors of length B.
    [[nodiscard]] Real* scratch_a() { return Backend::data(norm_a_); }
    [[nodiscard]] Real* scratch_b() { return Backend::data(norm_b_); }

    // Throws sgm::error naming the step, time and sample if the state holds a
    // non-finite value.
    void check_state(std::size_t step, Real t) const {
        const Real* x = x_.data();
        const std::size_t bad =
            be_.find_first(count(), [=] SGM_HOST_DEVICE(std::size_t i) { return !std::isfinite(x[i]); });
        if (bad == count()) return;
        const auto host = be_.to_host(x_.values());
        throw error(detail::concat("sampler: non-finite value ", host[bad], " in sample ",
                                   key_.first_sample + bad / dim(), " (batch position ", bad / dim(),
                                   ", coordinate ", bad % dim(), ") after step ", step, " at t = ", t));
    }

private:
    const Backend& be_;
    SDE sde_;
    Model& model_;
    batch<Backend>& x_;
    random::noise_key key_;
    std::uint32_t next_draw_ = 1;
    std::size_t nfe_ = 0;
    typename Backend::vector score_, noise_, times_, norm_a_, norm_b_;
};

}  // namespace sgm
