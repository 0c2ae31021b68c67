#pragma once
// The probability-flow ODE right-hand side dx/dt = f(x,t) − ½ g(t)² s(x,t) as an
// odeint system over a backend vector holding B × D values. Copies share one
// workspace (odeint copies systems freely).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "../batch_view.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../error.hpp"
#include "../sde/reverse_time.hpp"

namespace sgm {

template <backend Backend, sde SDE, score_model Model>
class probability_flow {
public:
    using Real = typename Backend::value_type;
    using vector = typename Backend::vector;

    // first_sample: the global index of the batch's first sample, for error messages.
    probability_flow(const Backend& be, const SDE& sde, Model& model, std::size_t size, std::size_t dim,
                     bool check_finite = true, std::uint64_t first_sample = 0)
        : shared_(std::make_shared<workspace>(workspace{be, sde, &model, size, dim, check_finite, first_sample,
                                                        be.make_vector(size), be.make_vector(size * dim), 0, 0})) {
        detail::require(model.dim() == dim, "probability_flow: the score model expects dim ", model.dim(),
                        " but the state has dim ", dim);
    }

    void operator()(const vector& x, vector& dxdt, Real t) const {
        workspace& w = *shared_;
        detail::require(std::isfinite(t), "probability flow: non-finite time ", t);
        Real* times = Backend::data(w.times);
        w.be.for_each_index(w.size, [=] SGM_HOST_DEVICE(std::size_t b) { times[b] = t; });
        Real* s = Backend::data(w.score);
        w.model->score(batch_view<const Real>{Backend::data(x), w.size, w.dim}, times,
                       batch_view<Real>{s, w.size, w.dim});
        ++w.nfe;
        const std::size_t n = w.size * w.dim;
        if (w.check_finite) {
            const std::size_t bad =
                w.be.find_first(n, [=] SGM_HOST_DEVICE(std::size_t i) { return !std::isfinite(s[i]); });
            if (bad != n)
                throw error(detail::concat("probability flow: non-finite score in sample ",
                                           w.first_sample + bad / w.dim, " (batch position ", bad / w.dim,
                                           ", coordinate ", bad % w.dim, ") at step ", w.step, ", t = ", t,
                                           " (score evaluation ", w.nfe, ")"));
        }
        const reverse_time rev{w.sde};
        const Real* xs = Backend::data(x);
        Real* out = Backend::data(dxdt);
        w.be.for_each_index(n, [=] SGM_HOST_DEVICE(std::size_t i) { out[i] = rev.ode_drift(xs[i], s[i], t); });
    }

    [[nodiscard]] std::size_t nfe() const { return shared_->nfe; }
    // The solver's current step number, quoted in error messages.
    void set_step(std::size_t step) const { shared_->step = step; }

private:
    struct workspace {
        Backend be;
        SDE sde;
        Model* model;
        std::size_t size, dim;
        bool check_finite;
        std::uint64_t first_sample;
        vector times, score;
        std::size_t nfe;
        std::size_t step;
    };
    std::shared_ptr<workspace> shared_;
};

}  // namespace sgm
