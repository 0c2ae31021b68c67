#pragma once
// DDPM++/NCSN++ self-attention block over the H·W positions of a C×H×W image:
//
//   h = GroupNorm(x)                      G groups, eps, affine (norm.weight, norm.bias)
//   q, k, v = W_q h + b_q, W_k h + b_k, W_v h + b_v      1×1 projections, C → C
//   A = softmax_j(q_iᵀ k_j / √C)          P × P, P = H·W, row i sums to 1
//   o_i = Σ_j A_ij v_j
//   y = x + W_o o + b_o                   (or (x + W_o o + b_o)/√2 with skip_rescale)
//
// Each sample is a C × P row-major matrix, so every step is one GEMM per sample.
// Samples are processed in fixed blocks of `sample_grain`; each block adds its
// parameter gradients into its own partial sum, and the partials are summed in
// block order, so results are bit-identical on any thread count. Reductions
// are plain loops and the softmax exponentials run on an aligned row buffer:
// Eigen's vectorized reductions and exp peel a head whose length depends on
// the address, which would make the bits depend on where buffers were allocated.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "cpu_context.hpp"
#include "eigen_maps.hpp"
#include "init.hpp"
#include "layer.hpp"
#include "parameter.hpp"

namespace sgm::nn {

template <class Real>
class self_attention {
public:
    using value_type = Real;

    // DDPM++'s group count: min(C/4, 32), at least 1.
    [[nodiscard]] static constexpr std::size_t default_groups(std::size_t channels) {
        return std::max<std::size_t>(1, std::min<std::size_t>(channels / 4, 32));
    }

    // groups == 0 picks default_groups(channels). The output projection starts
    // near zero (fan_avg scale 1e-10), so the block starts as the identity.
    self_attention(std::size_t channels, std::size_t height, std::size_t width, std::size_t groups = 0,
                   double eps = 1e-6, bool skip_rescale = false)
        : c_(channels), p_(height * width), g_(groups == 0 ? default_groups(channels) : groups), eps_(eps),
          out_scale_(skip_rescale ? Real(1 / std::sqrt(2.0)) : Real(1)),
          norm_weight_("norm.weight", {channels}, {init_rule::kind::ones}),
          norm_bias_("norm.bias", {channels}),
          q_weight_("q.weight", {channels, channels}, fan_avg_uniform(channels, channels)),
          q_bias_("q.bias", {channels}),
          k_weight_("k.weight", {channels, channels}, fan_avg_uniform(channels, channels)),
          k_bias_("k.bias", {channels}),
          v_weight_("v.weight", {channels, channels}, fan_avg_uniform(channels, channels)),
          v_bias_("v.bias", {channels}),
          out_weight_("out.weight", {channels, channels}, fan_avg_uniform(channels, channels, 1e-10)),
          out_bias_("out.bias", {channels}) {
        sgm::detail::require(channels > 0 && height > 0 && width > 0, "self_attention: shape ", channels, " × ",
                             height, " × ", width, " must be positive");
        sgm::detail::require(channels % g_ == 0, "self_attention: ", channels, " channels do not split into ", g_,
                             " groups; pass a group count that divides them");
        sgm::detail::require(eps > 0, "self_attention: eps ", eps, " must be positive");
        stacked_weight_.resize(3 * c_ * c_);
        stacked_bias_.resize(3 * c_);
    }

    [[nodiscard]] std::size_t channels() const { return c_; }
    [[nodiscard]] std::size_t positions() const { return p_; }
    [[nodiscard]] std::size_t groups() const { return g_; }
    [[nodiscard]] double eps() const { return eps_; }
    [[nodiscard]] Real output_scale() const { return out_scale_; }  // 1, or 1/√2 with skip_rescale
    [[nodiscard]] std::size_t input_size() const { return c_ * p_; }
    [[nodiscard]] std::size_t output_size() const { return c_ * p_; }

    void collect(parameter_list<Real>& list, const std::string& prefix) {
        for (auto* p : {&norm_weight_, &norm_bias_, &q_weight_, &q_bias_, &k_weight_, &k_bias_, &v_weight_,
                        &v_bias_, &out_weight_, &out_bias_})
            list.add(*p, prefix);
    }

    // x and y must not overlap; x stays alive and unchanged until backward.
    void forward(const cpu_context& ctx, const Real* x, Real* y, std::size_t n) {
        grow(n);
        input_ = x;
        batch_ = n;
        // Stack W_q, W_k, W_v (3C × C) so the three projections are one GEMM.
        const std::size_t cc = c_ * c_;
        std::copy_n(q_weight_.value.data(), cc, stacked_weight_.data());
        std::copy_n(k_weight_.value.data(), cc, stacked_weight_.data() + cc);
        std::copy_n(v_weight_.value.data(), cc, stacked_weight_.data() + 2 * cc);
        std::copy_n(q_bias_.value.data(), c_, stacked_bias_.data());
        std::copy_n(k_bias_.value.data(), c_, stacked_bias_.data() + c_);
        std::copy_n(v_bias_.value.data(), c_, stacked_bias_.data() + 2 * c_);

        const chunking blocks{n, sample_grain};
        ctx.for_each(blocks.count(), [&](std::size_t blk) {
            Real* h = scratch(blk);
            Real* row = rows_.data() + blk * padded_positions();
            for (std::size_t b = blocks.begin(blk); b < blocks.end(blk); ++b) forward_sample(b, x, y, h, row);
        });
    }

    void backward(const cpu_context& ctx, const Real* dy, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "self_attention::backward: batch ", n, " differs from the forward's ",
                             batch_);
        const bool params = wants_parameter_grads(g);
        if (dx == nullptr && !params) return;
        const chunking blocks{n, sample_grain};
        ctx.for_each(blocks.count(), [&](std::size_t blk) {
            Real* partial = params ? partials_.data() + blk * partial_size() : nullptr;
            if (partial != nullptr) std::fill_n(partial, partial_size(), Real(0));
            for (std::size_t b = blocks.begin(blk); b < blocks.end(blk); ++b)
                backward_sample(b, dy, dx, scratch(blk), partial);
        });
        if (params) reduce_partials(ctx, blocks.count());
    }

private:
    static constexpr std::size_t sample_grain = 4;

    using vector_map = Eigen::Map<const Eigen::Matrix<Real, Eigen::Dynamic, 1>>;
    using aligned_row = Eigen::Map<Eigen::Array<Real, Eigen::Dynamic, 1>, Eigen::AlignedMax>;

    [[nodiscard]] std::size_t cp() const { return c_ * p_; }
    // Per sample: q, k, v (3CP), A (P²), o (CP), and a mean and 1/std per group.
    [[nodiscard]] Real* qkv(std::size_t b) { return qkv_.data() + b * 3 * cp(); }
    [[nodiscard]] Real* attention(std::size_t b) { return attention_.data() + b * p_ * p_; }
    [[nodiscard]] Real* mixed(std::size_t b) { return mixed_.data() + b * cp(); }
    [[nodiscard]] Real* stats(std::size_t b) { return stats_.data() + b * 2 * g_; }
    // Per block: h (CP), dO / dH (CP), dq, dk, dv (3CP), dA (P²).
    [[nodiscard]] std::size_t scratch_size() const { return 5 * cp() + p_ * p_; }
    [[nodiscard]] Real* scratch(std::size_t blk) { return scratch_.data() + blk * scratch_size(); }
    // One softmax row per block, padded so that every block's row stays aligned.
    [[nodiscard]] std::size_t padded_positions() const { return (p_ + 15) / 16 * 16; }
    // Per block partial gradients: [W_q; W_k; W_v] (3C²), W_o (C²), [b_q; b_k; b_v] (3C), b_o (C),
    // norm weight (C), norm bias (C).
    [[nodiscard]] std::size_t partial_size() const { return 4 * c_ * c_ + 6 * c_; }

    [[nodiscard]] Real row_sum(const Real* r) const {
        Real s = 0;
        for (std::size_t j = 0; j < p_; ++j) s += r[j];
        return s;
    }

    void grow(std::size_t n) {
        if (n <= capacity_) return;
        const std::size_t blocks = chunking{n, sample_grain}.count();
        qkv_.resize(n * 3 * cp());
        attention_.resize(n * p_ * p_);
        mixed_.resize(n * cp());
        stats_.resize(n * 2 * g_);
        scratch_.resize(blocks * scratch_size());
        partials_.resize(blocks * partial_size());
        rows_.resize(blocks * padded_positions());
        capacity_ = n;
    }

    // h = γ (x − μ_g)/σ_g + β for one sample; stores μ_g and 1/σ_g.
    void normalize(std::size_t b, const Real* x, Real* h) {
        const std::size_t per_group = cp() / g_, rows = c_ / g_;
        Real* st = stats(b);
        for (std::size_t gr = 0; gr < g_; ++gr) {
            const Real* xs = x + gr * per_group;
            double sum = 0;
            for (std::size_t i = 0; i < per_group; ++i) sum += xs[i];
            const double mean = sum / static_cast<double>(per_group);
            double sq = 0;
            for (std::size_t i = 0; i < per_group; ++i) sq += (xs[i] - mean) * (xs[i] - mean);
            const Real mu = static_cast<Real>(mean);
            const Real rstd = static_cast<Real>(1 / std::sqrt(sq / static_cast<double>(per_group) + eps_));
            st[2 * gr] = mu;
            st[2 * gr + 1] = rstd;
            for (std::size_t r = gr * rows; r < (gr + 1) * rows; ++r) {
                const Real a = norm_weight_.value[r] * rstd, c = norm_bias_.value[r];
                const Real* xr = x + r * p_;
                Real* hr = h + r * p_;
                for (std::size_t j = 0; j < p_; ++j) hr[j] = (xr[j] - mu) * a + c;
            }
        }
    }

    // h from the stored statistics (backward recomputes it rather than keep it).
    void renormalize(std::size_t b, const Real* x, Real* h) {
        const std::size_t rows = c_ / g_;
        const Real* st = stats(b);
        for (std::size_t r = 0; r < c_; ++r) {
            const Real mu = st[2 * (r / rows)], a = norm_weight_.value[r] * st[2 * (r / rows) + 1];
            const Real c = norm_bias_.value[r];
            for (std::size_t j = 0; j < p_; ++j) h[r * p_ + j] = (x[r * p_ + j] - mu) * a + c;
        }
    }

    void forward_sample(std::size_t b, const Real* x, Real* y, Real* h, Real* row) {
        const Real* xs = x + b * cp();
        normalize(b, xs, h);
        auto proj = detail::map(qkv(b), 3 * c_, p_);
        proj.noalias() = detail::map(static_cast<const Real*>(stacked_weight_.data()), 3 * c_, c_) *
                         detail::map(static_cast<const Real*>(h), c_, p_);
        proj.colwise() += vector_map(stacked_bias_.data(), static_cast<Eigen::Index>(3 * c_));
        const auto q = detail::map(static_cast<const Real*>(qkv(b)), c_, p_);
        const auto k = detail::map(static_cast<const Real*>(qkv(b) + cp()), c_, p_);
        const auto v = detail::map(static_cast<const Real*>(qkv(b) + 2 * cp()), c_, p_);
        auto a = detail::map(attention(b), p_, p_);
        a.noalias() = q.transpose() * k;
        const Real scale = Real(1 / std::sqrt(static_cast<double>(c_)));
        aligned_row e(row, static_cast<Eigen::Index>(p_));
        for (std::size_t i = 0; i < p_; ++i) {
            Real* ai = attention(b) + i * p_;
            Real top = ai[0];
            for (std::size_t j = 1; j < p_; ++j) top = std::max(top, ai[j]);
            std::copy_n(ai, p_, row);
            e = ((e - top) * scale).exp();
            Real total = 0;
            for (std::size_t j = 0; j < p_; ++j) total += row[j];
            for (std::size_t j = 0; j < p_; ++j) ai[j] = row[j] / total;
        }
        auto o = detail::map(mixed(b), c_, p_);
        o.noalias() = v * a.transpose();
        auto out = detail::map(y + b * cp(), c_, p_);
        out.noalias() = detail::map(static_cast<const Real*>(out_weight_.value.data()), c_, c_) * o;
        out += detail::map(xs, c_, p_);
        out.colwise() += vector_map(out_bias_.value.data(), static_cast<Eigen::Index>(c_));
        if (out_scale_ != Real(1)) out *= out_scale_;
    }

    void backward_sample(std::size_t b, const Real* dy, Real* dx, Real* work, Real* partial) {
        const std::size_t cc = c_ * c_;
        const auto c = static_cast<Eigen::Index>(c_);
        Real* h = work;
        Real* d_mid = work + cp();          // dO, then dH
        Real* d_proj = work + 2 * cp();     // dq, dk, dv
        Real* d_att = work + 5 * cp();      // dA, then dS
        const auto d_out = detail::map(dy + b * cp(), c_, p_);
        const auto wo = detail::map(static_cast<const Real*>(out_weight_.value.data()), c_, c_);
        const auto o = detail::map(static_cast<const Real*>(mixed(b)), c_, p_);
        const auto q = detail::map(static_cast<const Real*>(qkv(b)), c_, p_);
        const auto k = detail::map(static_cast<const Real*>(qkv(b) + cp()), c_, p_);
        const auto v = detail::map(static_cast<const Real*>(qkv(b) + 2 * cp()), c_, p_);
        const auto a = detail::map(static_cast<const Real*>(attention(b)), p_, p_);

        // Output projection.
        if (partial != nullptr) {
            detail::map(partial + 3 * cc, c_, c_).noalias() += out_scale_ * (d_out * o.transpose());
            Real* db = partial + 4 * cc + 3 * c_;
            for (std::size_t r = 0; r < c_; ++r) db[r] += out_scale_ * row_sum(dy + b * cp() + r * p_);
        }
        auto d_o = detail::map(d_mid, c_, p_);
        d_o.noalias() = out_scale_ * (wo.transpose() * d_out);

        // o = v Aᵀ.
        auto d_proj_all = detail::map(d_proj, 3 * c_, p_);
        auto dv = d_proj_all.bottomRows(c);
        dv.noalias() = d_o * a;
        auto ds = detail::map(d_att, p_, p_);
        ds.noalias() = d_o.transpose() * v;
        // Softmax rows: dS_ij = A_ij (dA_ij − Σ_l A_il dA_il) / √C.
        const Real scale = Real(1 / std::sqrt(static_cast<double>(c_)));
        for (std::size_t i = 0; i < p_; ++i) {
            Real* di = d_att + i * p_;
            const Real* ai = attention(b) + i * p_;
            Real dot = 0;
            for (std::size_t j = 0; j < p_; ++j) dot += ai[j] * di[j];
            for (std::size_t j = 0; j < p_; ++j) di[j] = scale * ai[j] * (di[j] - dot);
        }
        // S = qᵀ k.
        d_proj_all.topRows(c).noalias() = k * ds.transpose();
        d_proj_all.middleRows(c, c).noalias() = q * ds;

        // Projections of h.
        renormalize(b, input_ + b * cp(), h);
        const auto hm = detail::map(static_cast<const Real*>(h), c_, p_);
        if (partial != nullptr) {
            detail::map(partial, 3 * c_, c_).noalias() += d_proj_all * hm.transpose();
            Real* db = partial + 4 * cc;
            for (std::size_t r = 0; r < 3 * c_; ++r) db[r] += row_sum(d_proj + r * p_);
        }
        auto d_h = detail::map(d_mid, c_, p_);
        d_h.noalias() = detail::map(static_cast<const Real*>(stacked_weight_.data()), 3 * c_, c_).transpose() *
                        d_proj_all;

        // Group norm: dx = r (γ dH − mean_g(γ dH) − x̂ mean_g(γ dH x̂)), x̂ = (x − μ) r.
        const Real* xs = input_ + b * cp();
        const Real* st = stats(b);
        const std::size_t rows = c_ / g_;
        const Real inv_m = Real(1) / static_cast<Real>(rows * p_);
        Real* d_gamma = partial == nullptr ? nullptr : partial + 4 * cc + 4 * c_;
        Real* d_beta = partial == nullptr ? nullptr : partial + 4 * cc + 5 * c_;
        for (std::size_t gr = 0; gr < g_; ++gr) {
            const Real mu = st[2 * gr], rstd = st[2 * gr + 1];
            Real sum = 0, sum_xhat = 0;
            for (std::size_t r = gr * rows; r < (gr + 1) * rows; ++r) {
                const Real gamma = norm_weight_.value[r];
                Real dg = 0, dbeta = 0;
                for (std::size_t j = 0; j < p_; ++j) {
                    const Real xhat = (xs[r * p_ + j] - mu) * rstd, dh = d_mid[r * p_ + j];
                    dg += dh * xhat;
                    dbeta += dh;
                }
                if (d_gamma != nullptr) {
                    d_gamma[r] += dg;
                    d_beta[r] += dbeta;
                }
                sum += gamma * dbeta;
                sum_xhat += gamma * dg;
            }
            if (dx == nullptr) continue;
            const Real mean_d = sum * inv_m, mean_dx = sum_xhat * inv_m;
            for (std::size_t r = gr * rows; r < (gr + 1) * rows; ++r) {
                const Real gamma = norm_weight_.value[r];
                for (std::size_t j = 0; j < p_; ++j) {
                    const std::size_t i = r * p_ + j;
                    const Real xhat = (xs[i] - mu) * rstd;
                    dx[b * cp() + i] = out_scale_ * dy[b * cp() + i] +
                                       rstd * (gamma * d_mid[i] - mean_d - xhat * mean_dx);
                }
            }
        }
    }

    // Sums the block partials in block order, then adds them into the parameter grads.
    void reduce_partials(const cpu_context& ctx, std::size_t blocks) {
        const std::size_t size = partial_size();
        Real* first = partials_.data();
        const chunking parts{size, reduce_grain};
        ctx.for_each(parts.count(), [&](std::size_t c) {
            for (std::size_t i = parts.begin(c); i < parts.end(c); ++i) {
                Real acc = first[i];
                for (std::size_t blk = 1; blk < blocks; ++blk) acc += partials_[blk * size + i];
                first[i] = acc;
            }
        });
        const std::size_t cc = c_ * c_;
        const std::array<std::pair<parameter<Real>*, std::size_t>, 10> layout{{
            {&q_weight_, 0}, {&k_weight_, cc}, {&v_weight_, 2 * cc}, {&out_weight_, 3 * cc},
            {&q_bias_, 4 * cc}, {&k_bias_, 4 * cc + c_}, {&v_bias_, 4 * cc + 2 * c_},
            {&out_bias_, 4 * cc + 3 * c_}, {&norm_weight_, 4 * cc + 4 * c_}, {&norm_bias_, 4 * cc + 5 * c_}}};
        for (const auto& [param, offset] : layout)
            for (std::size_t i = 0; i < param->size(); ++i) param->grad[i] += first[offset + i];
    }

    static constexpr std::size_t reduce_grain = 1 << 14;

    std::size_t c_, p_, g_;
    double eps_;
    Real out_scale_;
    parameter<Real> norm_weight_, norm_bias_, q_weight_, q_bias_, k_weight_, k_bias_, v_weight_, v_bias_,
        out_weight_, out_bias_;
    std::vector<Real> stacked_weight_, stacked_bias_;
    std::vector<Real> qkv_, attention_, mixed_, stats_, scratch_, partials_;
    std::vector<Real, Eigen::aligned_allocator<Real>> rows_;
    const Real* input_ = nullptr;
    std::size_t capacity_ = 0, batch_ = 0;
};

}  // namespace sgm::nn
