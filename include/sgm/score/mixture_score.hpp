#pragma once
// sgm::mixture_score — the exact score (and log-density) of a Gaussian mixture
// perturbed by an affine SDE. Component k at time t is N(m(t)μ_k, m(t)²Σ_k + s(t)²I),
// so with Σ_k = Q_k diag(λ_k) Q_kᵀ and v = m²λ_k + s²:
//   log N_k(x) = −½ Σ_j u_j² v_j − ½ Σ_j log v_j − (D/2) log 2π,  u = (Q_kᵀ(x − mμ_k)) / v
//   ∇ log p_t(x) = −Σ_k r_k(x) Q_k u_k,  r_k = softmax_k(log π_k + log N_k(x))  (log-sum-exp).
// Its Jacobian is symmetric: with s_k = −Q_k u_k and P_k = Q_k diag(1/v) Q_kᵀ,
//   ∂s/∂x = Σ_k r_k (s_k s_kᵀ − P_k) − s sᵀ,
// so score_vjp (= the JVP) costs about two score evaluations.
// Works on every backend; time may differ per sample.

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../batch_view.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../error.hpp"
#include "gaussian_mixture.hpp"

namespace sgm {

template <backend Backend, affine_sde SDE>
class mixture_score {
public:
    using backend_type = Backend;
    using value_type = typename Backend::value_type;
    using Real = value_type;

    mixture_score(const gaussian_mixture<Real>& mixture, SDE sde, Backend be = Backend{})
        : be_(std::move(be)), sde_(sde), dim_(mixture.dim()), components_(mixture.components()),
          diagonal_(mixture.is_diagonal()) {
        std::vector<Real> log_weights(components_);
        for (std::size_t c = 0; c < components_; ++c) log_weights[c] = std::log(mixture.weights()[c]);
        upload(log_weights, log_weights_);
        upload(mixture.means(), means_);
        upload(mixture.eigenvalues(), eigenvalues_);
        if (!diagonal_) {
            upload(mixture.eigenvectors(), eigenvectors_);
            // Q_kᵀ as well, so that the projection Q_kᵀ(x − mμ_k) reads memory contiguously.
            const std::size_t d = dim_;
            std::vector<Real> transposed(mixture.eigenvectors().size());
            for (std::size_t c = 0; c < components_; ++c)
                for (std::size_t i = 0; i < d; ++i)
                    for (std::size_t j = 0; j < d; ++j)
                        transposed[(c * d + j) * d + i] = mixture.eigenvectors()[(c * d + i) * d + j];
            upload(transposed, eigenvectors_t_);
        }
    }

    [[nodiscard]] std::size_t dim() const { return dim_; }
    [[nodiscard]] std::size_t components() const { return components_; }
    // The components are the classes of sgm::class_gradient_model.
    [[nodiscard]] std::size_t classes() const { return components_; }
    [[nodiscard]] const SDE& sde() const { return sde_; }

    void score(batch_view<const Real> x, const Real* t, batch_view<Real> out) {
        check_shapes(x, out.size, out.dim, "score");
        prepare(x, t);
        const std::size_t k_count = components_, d = dim_;
        const Real* u = Backend::data(u_);
        const Real* resp = Backend::data(log_joint_);
        const Real* q = diagonal_ ? nullptr : Backend::data(eigenvectors_);
        Real* o = out.data;
        be_.for_each_index(x.size * d, [=] SGM_HOST_DEVICE(std::size_t idx) {
            const std::size_t b = idx / d, i = idx % d;
            Real total = 0;
            for (std::size_t c = 0; c < k_count; ++c) {
                const Real grad = rotated(u, q, b, c, i, d, k_count);
                total += resp[b * k_count + c] * grad;
            }
            o[idx] = -total;
        });
    }

    // log p_t(x) per sample, written to out[0..B) (backend memory).
    void log_density(batch_view<const Real> x, const Real* t, Real* out) {
        check_shapes(x, x.size, x.dim, "log_density");
        prepare(x, t);
        const Real* lse = Backend::data(log_norm_);
        be_.for_each_index(x.size, [=] SGM_HOST_DEVICE(std::size_t b) { out[b] = lse[b]; });
    }

    // Posterior class probabilities p_t(k | x), B × K (backend memory).
    void component_posterior(batch_view<const Real> x, const Real* t, Real* out) {
        check_shapes(x, x.size, x.dim, "component_posterior");
        prepare(x, t);
        const Real* resp = Backend::data(log_joint_);
        be_.for_each_index(x.size * components_, [=] SGM_HOST_DEVICE(std::size_t i) { out[i] = resp[i]; });
    }

    // ∇ₓ log p_t(k = labels[b] | x_b): the component's score minus the mixture's,
    //   ∇ log π_k N_k(x) − ∇ log Σ_c π_c N_c(x) = s_k(x) − Σ_c r_c s_c(x).
    // The exact guidance gradient when the component is the class (sgm::class_gradient_model).
    void log_prob_gradient(batch_view<const Real> x, const Real* t, std::span<const std::size_t> labels,
                           batch_view<Real> out) {
        check_shapes(x, out.size, out.dim, "log_prob_gradient");
        detail::require(labels.size() == x.size, "mixture_score::log_prob_gradient: ", labels.size(),
                        " labels for ", x.size, " samples; expected one per sample");
        std::vector<Real> host(labels.size());
        for (std::size_t b = 0; b < labels.size(); ++b) {
            detail::require(labels[b] < components_, "mixture_score::log_prob_gradient: label[", b, "] = ",
                            labels[b], "; expected a component in [0, ", components_, ")");
            host[b] = Real(labels[b]);
        }
        prepare(x, t);
        be_.copy_from_host(std::span<const Real>(host), labels_);
        const std::size_t k_count = components_, d = dim_;
        const Real* u = Backend::data(u_);
        const Real* resp = Backend::data(log_joint_);
        const Real* label = Backend::data(labels_);
        const Real* q = diagonal_ ? nullptr : Backend::data(eigenvectors_);
        Real* o = out.data;
        be_.for_each_index(x.size * d, [=] SGM_HOST_DEVICE(std::size_t idx) {
            const std::size_t b = idx / d, i = idx % d;
            const std::size_t y = static_cast<std::size_t>(label[b]);
            Real mixture = 0, component = 0;
            for (std::size_t c = 0; c < k_count; ++c) {
                const Real grad = rotated(u, q, b, c, i, d, k_count);
                mixture += resp[b * k_count + c] * grad;
                if (c == y) component = grad;
            }
            o[idx] = mixture - component;  // s_k = −grad_k
        });
    }

    // The scores and vᵀ ∂s/∂x per sample (sgm::vjp_score_model); exact.
    void score_vjp(batch_view<const Real> x, const Real* t, batch_view<const Real> v, batch_view<Real> score_out,
                   batch_view<Real> vjp_out) {
        check_shapes(x, score_out.size, score_out.dim, "score_vjp");
        check_shapes(x, vjp_out.size, vjp_out.dim, "score_vjp");
        check_shapes(x, v.size, v.dim, "score_vjp");
        prepare(x, t);
        jacobian_terms(x.size, v.data);
        const std::size_t k_count = components_, d = dim_;
        const Real* resp = Backend::data(log_joint_);
        const Real* sk = Backend::data(component_scores_);
        const Real* dots = Backend::data(component_dots_);
        const Real* w = Backend::data(projected_);
        const Real* q = diagonal_ ? nullptr : Backend::data(eigenvectors_);
        Real* so = score_out.data;
        Real* jo = vjp_out.data;
        be_.for_each_index(x.size * d, [=] SGM_HOST_DEVICE(std::size_t idx) {
            const std::size_t b = idx / d, i = idx % d;
            Real s = 0, sv = 0, jv = 0;
            for (std::size_t c = 0; c < k_count; ++c) {
                const std::size_t bc = b * k_count + c;
                const Real r = resp[bc];
                const Real* wc = w + bc * d;
                Real pv = 0;  // (P_k v)_i = (Q_k w_k)_i
                if (q == nullptr) {
                    pv = wc[i];
                } else {
                    const Real* row = q + (c * d + i) * d;
                    for (std::size_t j = 0; j < d; ++j) pv += row[j] * wc[j];
                }
                const Real ski = sk[bc * d + i];
                s += r * ski;
                sv += r * dots[bc];
                jv += r * (ski * dots[bc] - pv);
            }
            so[idx] = s;
            jo[idx] = jv - s * sv;
        });
    }

    // After prepare: s_k (B×K×D), w_k = diag(1/v) Q_kᵀ v (B×K×D) and s_kᵀ v (B×K).
    // An implementation step, public for nvcc like prepare.
    void jacobian_terms(std::size_t size, const Real* v) {
        reserve_jacobian(size);
        const std::size_t k_count = components_, d = dim_;
        const Real* u = Backend::data(u_);
        const Real* lambda = Backend::data(eigenvalues_);
        const Real* q = diagonal_ ? nullptr : Backend::data(eigenvectors_);
        const Real* qt = diagonal_ ? nullptr : Backend::data(eigenvectors_t_);
        const Real* kernel = Backend::data(kernel_);
        Real* sk = Backend::data(component_scores_);
        Real* w = Backend::data(projected_);
        be_.for_each_index(size * k_count * d, [=] SGM_HOST_DEVICE(std::size_t idx) {
            const std::size_t j = idx % d, c = (idx / d) % k_count, b = idx / (d * k_count);
            const Real m = kernel[2 * b];
            const Real var = m * m * lambda[c * d + j] + kernel[2 * b + 1];
            const Real* uc = u + (b * k_count + c) * d;
            const Real* vb = v + b * d;
            Real grad = 0, proj = 0;
            if (q == nullptr) {
                grad = uc[j];
                proj = vb[j];
            } else {
                const Real* row = q + (c * d + j) * d;     // row j of Q_k
                const Real* column = qt + (c * d + j) * d;  // column j of Q_k
                for (std::size_t l = 0; l < d; ++l) {
                    grad += row[l] * uc[l];
                    proj += column[l] * vb[l];
                }
            }
            sk[idx] = -grad;
            w[idx] = proj / var;
        });
        be_.sum_segments(
            size * k_count, d,
            [=] SGM_HOST_DEVICE(std::size_t idx) { return sk[idx] * v[(idx / (d * k_count)) * d + idx % d]; },
            Backend::data(component_dots_));
    }

    // (Q_c u_c)_i for sample b — minus component c's score at coordinate i (Q = I
    // when q is null: diagonal covariances).
    SGM_HOST_DEVICE static Real rotated(const Real* u, const Real* q, std::size_t b, std::size_t c, std::size_t i,
                                        std::size_t d, std::size_t k_count) {
        const Real* uc = u + (b * k_count + c) * d;
        if (q == nullptr) return uc[i];
        const Real* row = q + (c * d + i) * d;
        Real grad = 0;
        for (std::size_t j = 0; j < d; ++j) grad += row[j] * uc[j];
        return grad;
    }

    // Fills u (B×K×D), then the responsibilities r (B×K, in log_joint_) and log p (B).
    // An implementation step, public only because nvcc forbids device lambdas in
    // private member functions.
    void prepare(batch_view<const Real> x, const Real* t) {
        reserve(x.size);
        const std::size_t k_count = components_, d = dim_;
        const SDE sde = sde_;
        const Real* xs = x.data;
        const Real* mu = Backend::data(means_);
        const Real* lambda = Backend::data(eigenvalues_);
        const Real* qt = diagonal_ ? nullptr : Backend::data(eigenvectors_t_);
        const Real* log_w = Backend::data(log_weights_);
        Real* u = Backend::data(u_);
        Real* joint = Backend::data(log_joint_);
        Real* log_norm = Backend::data(log_norm_);

        // The kernel's m(t_b) and s(t_b)² once per sample, not once per coordinate.
        Real* kernel = Backend::data(kernel_);
        be_.for_each_index(x.size, [=] SGM_HOST_DEVICE(std::size_t b) {
            const Real s = sde.marginal_std(t[b]);
            kernel[2 * b] = sde.mean_coefficient(t[b]);
            kernel[2 * b + 1] = s * s;
        });
        be_.for_each_index(x.size * k_count * d, [=] SGM_HOST_DEVICE(std::size_t idx) {
            const std::size_t j = idx % d, c = (idx / d) % k_count, b = idx / (d * k_count);
            const Real m = kernel[2 * b];
            const Real v = m * m * lambda[c * d + j] + kernel[2 * b + 1];
            Real y;
            if (qt == nullptr) {
                y = xs[b * d + j] - m * mu[c * d + j];
            } else {
                y = 0;
                const Real* column = qt + (c * d + j) * d;  // column j of Q_k
                for (std::size_t l = 0; l < d; ++l) y += column[l] * (xs[b * d + l] - m * mu[c * d + l]);
            }
            u[idx] = y / v;
        });
        be_.sum_segments(
            x.size * k_count, d,
            [=] SGM_HOST_DEVICE(std::size_t idx) {
                const std::size_t j = idx % d, c = (idx / d) % k_count, b = idx / (d * k_count);
                const Real m = kernel[2 * b];
                const Real v = m * m * lambda[c * d + j] + kernel[2 * b + 1];
                return u[idx] * u[idx] * v + std::log(v);
            },
            joint);
        be_.for_each_index(x.size, [=] SGM_HOST_DEVICE(std::size_t b) {
            constexpr Real log_two_pi = Real(1.8378770664093454835606594728112);
            Real* row = joint + b * k_count;
            Real best = 0;
            for (std::size_t c = 0; c < k_count; ++c) {
                row[c] = log_w[c] - Real(0.5) * row[c] - Real(0.5) * Real(d) * log_two_pi;
                best = c == 0 ? row[c] : (row[c] > best ? row[c] : best);
            }
            Real sum = 0;
            for (std::size_t c = 0; c < k_count; ++c) sum += std::exp(row[c] - best);
            const Real lse = best + std::log(sum);
            log_norm[b] = lse;
            for (std::size_t c = 0; c < k_count; ++c) row[c] = std::exp(row[c] - lse);
        });
    }

private:
    void upload(const std::vector<Real>& host, typename Backend::vector& dst) {
        dst = be_.make_vector(host.size());
        be_.copy_from_host(std::span<const Real>(host), dst);
    }

    void check_shapes(batch_view<const Real> x, std::size_t out_size, std::size_t out_dim,
                      const char* what) const {
        detail::require(x.dim == dim_, "mixture_score::", what, ": samples have dim ", x.dim,
                        ", expected the mixture's dim ", dim_);
        detail::require(out_size == x.size && out_dim == x.dim, "mixture_score::", what, ": output is ",
                        out_size, "x", out_dim, ", expected ", x.size, "x", x.dim);
    }

    // Grows the workspace; smaller batches reuse it, so steady-state calls do not allocate.
    void reserve(std::size_t size) {
        if (size <= capacity_) return;
        u_ = be_.make_vector(size * components_ * dim_);
        log_joint_ = be_.make_vector(size * components_);
        log_norm_ = be_.make_vector(size);
        kernel_ = be_.make_vector(2 * size);
        labels_ = be_.make_vector(size);
        capacity_ = size;
    }

    // The Jacobian products' own workspace, allocated on their first use only.
    void reserve_jacobian(std::size_t size) {
        if (size <= jacobian_capacity_) return;
        component_scores_ = be_.make_vector(size * components_ * dim_);
        projected_ = be_.make_vector(size * components_ * dim_);
        component_dots_ = be_.make_vector(size * components_);
        jacobian_capacity_ = size;
    }

    Backend be_;
    SDE sde_;
    std::size_t dim_, components_;
    bool diagonal_;
    typename Backend::vector log_weights_, means_, eigenvalues_, eigenvectors_, eigenvectors_t_;
    // Workspace, sized for the largest batch.
    typename Backend::vector u_, log_joint_, log_norm_, kernel_, labels_, component_scores_, projected_, component_dots_;
    std::size_t capacity_ = 0, jacobian_capacity_ = 0;
};

}  // namespace sgm
