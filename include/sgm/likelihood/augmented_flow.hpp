#pragma once
// The probability-flow ODE augmented with the change of log-density: over the state
// [x (B × D) | a (B × A)],
//   dx/dt = F(x,t) = f(x,t) − ½ g(t)² s(x,t)
//   da/dt = ∇·F(x,t)   (one accumulator per sample for the exact trace, one per probe
//                       for Hutchinson, so the spread over probes gives a standard error)
// The model is called on "rows": sample b paired with direction v (a unit vector or a
// probe), P rows per sample, in chunks of at most max_values values. Copies share one
// workspace (odeint copies systems freely).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "../batch_view.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/differentiable_score_model.hpp"
#include "../config.hpp"
#include "../error.hpp"
#include "../random/philox_normal.hpp"
#include "../sde/drift_derivative.hpp"
#include "../sde/reverse_time.hpp"
#include "divergence_estimator.hpp"

namespace sgm {

namespace detail {
// Row r of a (rows × D) block holds e_{r mod D}. (A free function: nvcc forbids
// device lambdas in constructors.)
template <class Backend>
void fill_unit_directions(const Backend& be, typename Backend::value_type* v, std::size_t rows, std::size_t d) {
    using Real = typename Backend::value_type;
    be.for_each_index(rows * d, [=] SGM_HOST_DEVICE(std::size_t i) { v[i] = (i / d) % d == i % d ? Real(1) : Real(0); });
}
}  // namespace detail

template <backend Backend, differentiable_drift_sde SDE, differentiable_score_model Model>
class augmented_flow {
public:
    using Real = typename Backend::value_type;
    using vector = typename Backend::vector;

    struct setup {
        std::size_t size, dim;
        divergence_estimator estimator;
        std::size_t probes;            // K (Hutchinson only)
        random::noise_key key;         // probes: draw first_probe_draw + k of each sample
        std::uint32_t first_probe_draw;
        std::size_t max_values;        // cap on rows × D per model call
        bool check_finite;
        std::size_t position_offset;   // the batch's position in the caller's batch (messages)
    };

    augmented_flow(const Backend& be, const SDE& sde, Model& model, const setup& s)
        : w_(std::make_shared<workspace>(be, sde, &model, s)) {
        workspace& w = *w_;
        const std::size_t d = s.dim;
        const bool exact = s.estimator == divergence_estimator::exact;
        w.rows_per_sample = exact ? d : s.probes;
        w.accumulators = exact ? 1 : s.probes;
        const std::size_t total_rows = s.size * w.rows_per_sample;
        // Exact chunks hold whole samples (a multiple of D rows), so the unit vectors of
        // every chunk are the same and are written once.
        const std::size_t cap_rows = std::max<std::size_t>(1, s.max_values / d);
        w.chunk_rows = exact ? d * std::max<std::size_t>(1, cap_rows / d) : cap_rows;
        w.chunk_rows = std::min(w.chunk_rows, total_rows);
        w.times = be.make_vector(w.chunk_rows);
        if (w.rows_per_sample > 1) w.rows_x = be.make_vector(w.chunk_rows * d);
        w.rows_score = be.make_vector(w.chunk_rows * d);
        w.rows_product = be.make_vector(w.chunk_rows * d);
        w.score = be.make_vector(s.size * d);
        w.row_trace = be.make_vector(total_rows);
        w.drift_trace = be.make_vector(s.size);
        if (exact) {
            w.directions = be.make_vector(w.chunk_rows * d);
            w.trace_sum = be.make_vector(s.size);
            detail::fill_unit_directions(be, Backend::data(w.directions), w.chunk_rows, d);
        } else {
            w.directions = be.make_vector(total_rows * d);
            detail::fill_probes(be, Backend::data(w.directions), s.size, s.probes, d, s.key, s.first_probe_draw,
                                s.estimator == divergence_estimator::rademacher);
        }
    }

    [[nodiscard]] std::size_t state_size() const { return w_->s.size * (w_->s.dim + w_->accumulators); }
    [[nodiscard]] std::size_t accumulators() const { return w_->accumulators; }
    [[nodiscard]] std::size_t nfe() const { return w_->nfe; }
    void set_step(std::size_t step) const { w_->step = step; }

    void operator()(const vector& state, vector& derivative, Real t) const {
        workspace& w = *w_;
        detail::require(std::isfinite(t), "likelihood: non-finite time ", t);
        const std::size_t b_count = w.s.size, d = w.s.dim, p = w.rows_per_sample, a = w.accumulators;
        const bool exact = w.s.estimator == divergence_estimator::exact;
        const Real* xs = Backend::data(state);
        Real* times = Backend::data(w.times);
        Real* rows_x = w.rows_per_sample > 1 ? Backend::data(w.rows_x) : nullptr;
        Real* rows_score = Backend::data(w.rows_score);
        Real* rows_product = Backend::data(w.rows_product);
        const Real* directions = Backend::data(w.directions);
        Real* score = Backend::data(w.score);
        Real* row_trace = Backend::data(w.row_trace);
        w.be.for_each_index(w.chunk_rows, [=] SGM_HOST_DEVICE(std::size_t r) { times[r] = t; });

        const std::size_t total_rows = b_count * p;
        for (std::size_t r0 = 0; r0 < total_rows; r0 += w.chunk_rows) {
            const std::size_t rows = std::min(w.chunk_rows, total_rows - r0);
            const Real* x_in = xs + r0 * d;  // one row per sample: the state itself
            if (p > 1) {
                w.be.for_each_index(rows * d, [=] SGM_HOST_DEVICE(std::size_t i) {
                    rows_x[i] = xs[((r0 + i / d) / p) * d + i % d];
                });
                x_in = rows_x;
            }
            const Real* v = exact ? directions : directions + r0 * d;
            detail::score_and_jacobian_product(*w.model, batch_view<const Real>{x_in, rows, d}, times,
                                               batch_view<const Real>{v, rows, d}, batch_view<Real>{rows_score, rows, d},
                                               batch_view<Real>{rows_product, rows, d});
            if (exact) {  // row r has v = e_{r mod D}: vᵀJv is the diagonal entry
                w.be.for_each_index(rows, [=] SGM_HOST_DEVICE(std::size_t r) {
                    row_trace[r0 + r] = rows_product[r * d + (r0 + r) % d];
                });
            } else {
                w.be.sum_segments(rows, d, [=] SGM_HOST_DEVICE(std::size_t i) { return v[i] * rows_product[i]; },
                                  row_trace + r0);
            }
            // Every row of a sample carries its score; keep the first row's.
            w.be.for_each_index(rows * d, [=] SGM_HOST_DEVICE(std::size_t i) {
                const std::size_t row = r0 + i / d;
                if (row % p == 0) score[(row / p) * d + i % d] = rows_score[i];
            });
        }
        ++w.nfe;
        if (w.s.check_finite) check_finite(score, b_count * d, d, "score", t);
        if (w.s.check_finite) check_finite(row_trace, total_rows, p, "Jacobian trace term", t);

        const reverse_time rev{w.sde};
        const SDE sde = w.sde;
        Real* dx = Backend::data(derivative);
        w.be.for_each_index(b_count * d, [=] SGM_HOST_DEVICE(std::size_t i) { dx[i] = rev.ode_drift(xs[i], score[i], t); });
        Real* drift_trace = Backend::data(w.drift_trace);
        w.be.sum_segments(b_count, d, [=] SGM_HOST_DEVICE(std::size_t i) { return drift_derivative(sde, xs[i], t); },
                          drift_trace);
        const Real g = sde.diffusion(t);
        const Real half_g2 = Real(0.5) * g * g;
        Real* da = dx + b_count * d;
        if (exact) {
            Real* trace_sum = Backend::data(w.trace_sum);
            w.be.sum_segments(b_count, d, [=] SGM_HOST_DEVICE(std::size_t i) { return row_trace[i]; }, trace_sum);
            w.be.for_each_index(b_count, [=] SGM_HOST_DEVICE(std::size_t b) {
                da[b] = drift_trace[b] - half_g2 * trace_sum[b];
            });
        } else {
            w.be.for_each_index(b_count * a, [=] SGM_HOST_DEVICE(std::size_t j) {
                da[j] = drift_trace[j / a] - half_g2 * row_trace[j];
            });
        }
    }

    // An implementation step, public only because nvcc forbids device lambdas in
    // private member functions.
    void check_finite(const Real* values, std::size_t n, std::size_t per_sample, const char* what, Real t) const {
        const workspace& w = *w_;
        const std::size_t bad = w.be.find_first(n, [=] SGM_HOST_DEVICE(std::size_t i) { return !std::isfinite(values[i]); });
        if (bad != n)
            throw error(detail::concat("likelihood: non-finite ", what, " in sample ", w.s.key.first_sample + bad / per_sample,
                                       " (batch position ", w.s.position_offset + bad / per_sample, ") at step ", w.step, ", t = ", t,
                                       " (evaluation ", w.nfe, ")"));
    }

private:
    struct workspace {
        workspace(const Backend& be_, const SDE& sde_, Model* model_, const setup& s_)
            : be(be_), sde(sde_), model(model_), s(s_) {}
        Backend be;
        SDE sde;
        Model* model;
        setup s;
        std::size_t rows_per_sample = 1, accumulators = 1, chunk_rows = 1;
        vector times, rows_x, rows_score, rows_product, directions, score, row_trace, drift_trace, trace_sum;
        std::size_t nfe = 0, step = 0;
    };
    std::shared_ptr<workspace> w_;
};

}  // namespace sgm
