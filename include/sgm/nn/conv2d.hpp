#pragma once
// 2-D convolution (cross-correlation, as PyTorch's Conv2d) on NCHW batches.
//
//   y[b, o, i, j] = bias[o] + Σ_{c, u, v} W[o, c, u, v] · x[b, c, i·s + u − p, j·s + v − p]
//
// W has shape out × in × k × k; x outside the image reads as zero. The work is
// GEMMs over im2col matrices (rows (c, u, v), columns (image, i, j)) built for
// a chunk of images at a time, so that small images still give wide GEMMs; a
// 1×1, stride-1, unpadded convolution multiplies the activations directly.
//
// Determinism: the weight gradient sums over the batch in fixed chunks whose
// boundaries depend on n and the shape only; each chunk's partial sum is one
// GEMM, and partials are added to the gradient in chunk order. Everything else
// is computed per image. So results are bit-identical on any thread count.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "../error.hpp"
#include "cpu_context.hpp"
#include "eigen_maps.hpp"
#include "init.hpp"
#include "layer.hpp"
#include "parameter.hpp"

namespace sgm::nn {

struct conv2d_shape {
    std::size_t in_channels = 0, out_channels = 0, height = 0, width = 0;
    std::size_t kernel = 3, stride = 1, padding = 1;
};

namespace detail {

// Bounds of the output columns j whose input column j·s + v − p lies in [0, w).
struct tap_range {
    std::size_t lo, hi;
};
[[nodiscard]] inline tap_range valid_outputs(std::size_t v, std::size_t s, std::size_t p, std::size_t w,
                                             std::size_t out) {
    // j·s + v ≥ p  and  j·s + v − p ≤ w − 1
    const std::size_t lo = v >= p ? 0 : (p - v + s - 1) / s;
    const std::size_t hi = (w + p > v) ? std::min(out, (w + p - v - 1) / s + 1) : 0;
    return {std::min(lo, hi), hi};
}

// Writes the im2col matrix of one image (c × h × w) into rows (c, u, v) and
// columns [0, ho·wo) of `col`, whose rows are `ld` apart.
template <class Real>
void im2col(const Real* x, std::size_t c, std::size_t h, std::size_t w, std::size_t k, std::size_t s,
            std::size_t p, std::size_t ho, std::size_t wo, Real* col, std::size_t ld) {
    if (s == 1 && ho == h && wo == w) {
        // Same-size convolution: each row is the image shifted by (u − p, v − p),
        // one block copy whose wrapped-around border columns are then zeroed.
        for (std::size_t ch = 0; ch < c; ++ch)
            for (std::size_t u = 0; u < k; ++u) {
                const std::size_t i0 = u >= p ? 0 : p - u, i1 = std::min(h, h + p - u);
                for (std::size_t v = 0; v < k; ++v) {
                    Real* row = col + ((ch * k + u) * k + v) * ld;
                    const auto [lo, hi] = valid_outputs(v, s, p, w, w);
                    std::fill_n(row, i0 * w, Real(0));
                    std::fill_n(row + i1 * w, (h - i1) * w, Real(0));
                    if (i0 >= i1 || lo >= hi) {
                        std::fill_n(row + i0 * w, (i1 - i0) * w, Real(0));
                        continue;
                    }
                    // row[i·w + j] = x[ch, i + u − p, j + v − p], copied over q ∈ [i0·w + lo, (i1−1)·w + hi).
                    const std::size_t first = i0 * w + lo, last = (i1 - 1) * w + hi;
                    const Real* src = x + ch * h * w + (first + u * w + v) - (p * w + p);
                    std::memcpy(row + first, src, (last - first) * sizeof(Real));
                    for (std::size_t i = i0; i < i1; ++i) {
                        std::fill_n(row + i * w, lo, Real(0));
                        std::fill_n(row + i * w + hi, w - hi, Real(0));
                    }
                }
            }
        return;
    }
    for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t u = 0; u < k; ++u)
            for (std::size_t v = 0; v < k; ++v) {
                Real* row = col + ((ch * k + u) * k + v) * ld;
                const auto [lo, hi] = valid_outputs(v, s, p, w, wo);
                for (std::size_t i = 0; i < ho; ++i) {
                    Real* d = row + i * wo;
                    const std::size_t iy = i * s + u;  // input row + p
                    if (iy < p || iy - p >= h) {
                        std::fill_n(d, wo, Real(0));
                        continue;
                    }
                    const Real* src = x + (ch * h + (iy - p)) * w;  // j ≥ lo: j·s + v ≥ p
                    std::fill_n(d, lo, Real(0));
                    if (s == 1)
                        std::memcpy(d + lo, src + (lo + v - p), (hi - lo) * sizeof(Real));
                    else
                        for (std::size_t j = lo; j < hi; ++j) d[j] = src[j * s + v - p];
                    std::fill_n(d + hi, wo - hi, Real(0));
                }
            }
}

// The adjoint of im2col: adds rows (c, u, v) of `col` back into the image dx.
template <class Real>
void col2im(const Real* col, std::size_t ld, std::size_t c, std::size_t h, std::size_t w, std::size_t k,
            std::size_t s, std::size_t p, std::size_t ho, std::size_t wo, Real* dx) {
    for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t u = 0; u < k; ++u)
            for (std::size_t v = 0; v < k; ++v) {
                const Real* row = col + ((ch * k + u) * k + v) * ld;
                const auto [lo, hi] = valid_outputs(v, s, p, w, wo);
                for (std::size_t i = 0; i < ho; ++i) {
                    const std::size_t iy = i * s + u;
                    if (iy < p || iy - p >= h) continue;
                    Real* dst = dx + (ch * h + (iy - p)) * w;
                    const Real* d = row + i * wo;
                    for (std::size_t j = lo; j < hi; ++j) dst[j * s + v - p] += d[j];
                }
            }
}

}  // namespace detail

template <class Real>
class conv2d {
public:
    using value_type = Real;

    // Weight and bias ~ U(±1/√(in·k·k)), PyTorch's default.
    explicit conv2d(conv2d_shape shape, bool bias = true)
        : conv2d(shape, bias, fan_in_uniform(shape.in_channels * shape.kernel * shape.kernel),
                 fan_in_uniform(shape.in_channels * shape.kernel * shape.kernel)) {}

    // Explicit initialization rules (e.g. fan_avg_uniform(fan_in(), fan_out(), scale)
    // with a zero bias, as DDPM++ does).
    conv2d(conv2d_shape shape, bool bias, init_rule weight_init, init_rule bias_init = {})
        : s_(checked(shape)), has_bias_(bias),
          ho_((s_.height + 2 * s_.padding - s_.kernel) / s_.stride + 1),
          wo_((s_.width + 2 * s_.padding - s_.kernel) / s_.stride + 1),
          weight_("weight", {s_.out_channels, s_.in_channels, s_.kernel, s_.kernel}, weight_init),
          bias_("bias", {bias ? s_.out_channels : 0}, bias_init) {}

    // Changes the rules nn::initialize will apply (the bias defaults to zeros).
    void set_init(init_rule weight_init, init_rule bias_init = {}) {
        weight_.init = weight_init;
        bias_.init = bias_init;
    }

    [[nodiscard]] const conv2d_shape& shape() const { return s_; }
    [[nodiscard]] std::size_t output_height() const { return ho_; }
    [[nodiscard]] std::size_t output_width() const { return wo_; }
    [[nodiscard]] std::size_t input_size() const { return s_.in_channels * s_.height * s_.width; }
    [[nodiscard]] std::size_t output_size() const { return s_.out_channels * ho_ * wo_; }
    [[nodiscard]] std::size_t fan_in() const { return s_.in_channels * s_.kernel * s_.kernel; }
    [[nodiscard]] std::size_t fan_out() const { return s_.out_channels * s_.kernel * s_.kernel; }
    parameter<Real>& weight() { return weight_; }
    parameter<Real>& bias() { return bias_; }

    void collect(parameter_list<Real>& list, const std::string& prefix) {
        list.add(weight_, prefix);
        if (has_bias_) list.add(bias_, prefix);
    }

    void forward(const cpu_context& ctx, const Real* x, Real* y, std::size_t n) {
        input_ = x;
        batch_ = n;
        if (n == 0) return;
        const plan pl = make_plan(ctx, n);
        const std::size_t co = s_.out_channels, kk = fan_in(), hwo = ho_ * wo_;
        const auto w = detail::map(weight_.value.data(), co, kk);
        ctx.for_each(pl.tasks, [&](std::size_t t) {
            for (std::size_t c = pl.first_chunk(t); c < pl.first_chunk(t + 1); ++c) {
                const std::size_t b0 = pl.chunks.begin(c), m = pl.chunks.end(c) - b0;
                if (pointwise()) {
                    for (std::size_t b = b0; b < b0 + m; ++b) {
                        Real* yb = y + b * co * hwo;
                        fill_bias(yb, hwo, hwo);
                        detail::map(yb, co, hwo).noalias() += w * detail::map(x + b * input_size(), kk, hwo);
                    }
                    continue;
                }
                const std::size_t ld = m * hwo;
                Real* col = col_.data() + t * col_stride_;
                for (std::size_t j = 0; j < m; ++j)
                    detail::im2col(x + (b0 + j) * input_size(), s_.in_channels, s_.height, s_.width, s_.kernel,
                                   s_.stride, s_.padding, ho_, wo_, col + j * hwo, ld);
                // One image: straight into y; several: into a co × (m·hwo) block, then scattered.
                Real* out = m == 1 ? y + b0 * co * hwo : tmp_.data() + t * tmp_stride_;
                fill_bias(out, ld, ld);
                detail::map(out, co, ld).noalias() += w * detail::map(static_cast<const Real*>(col), kk, ld);
                if (m > 1)
                    for (std::size_t j = 0; j < m; ++j)
                        for (std::size_t o = 0; o < co; ++o)
                            std::memcpy(y + ((b0 + j) * co + o) * hwo, out + o * ld + j * hwo, hwo * sizeof(Real));
            }
        });
    }

    void backward(const cpu_context& ctx, const Real* dy, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "conv2d::backward: batch ", n, " differs from the last forward's ", batch_);
        if (n == 0) return;
        const plan pl = make_plan(ctx, n);
        if (dx != nullptr) input_gradient(ctx, pl, dy, dx);
        if (wants_parameter_grads(g)) parameter_gradients(ctx, pl, dy);
    }

private:
    // Chunks of images (fixed by n and the shape) handed out to `tasks` workers
    // in contiguous runs; each worker owns one slice of the workspace.
    struct plan {
        chunking chunks;
        std::size_t tasks;
        [[nodiscard]] std::size_t first_chunk(std::size_t t) const { return t * chunks.count() / tasks; }
    };

    static conv2d_shape checked(const conv2d_shape& s) {
        sgm::detail::require(s.in_channels > 0 && s.out_channels > 0, "conv2d: channels ", s.in_channels, " -> ",
                             s.out_channels, " must be positive");
        sgm::detail::require(s.height > 0 && s.width > 0, "conv2d: image size ", s.height, "x", s.width,
                             " must be positive");
        sgm::detail::require(s.kernel > 0 && s.stride > 0, "conv2d: kernel ", s.kernel, " and stride ", s.stride,
                             " must be positive");
        sgm::detail::require(2 * s.padding <= s.kernel, "conv2d: padding ", s.padding,
                             " exceeds half the kernel size ", s.kernel);
        sgm::detail::require(s.height + 2 * s.padding >= s.kernel && s.width + 2 * s.padding >= s.kernel,
                             "conv2d: kernel ", s.kernel, " is larger than the padded image ",
                             s.height + 2 * s.padding, "x", s.width + 2 * s.padding);
        return s;
    }

    [[nodiscard]] bool pointwise() const { return s_.kernel == 1 && s_.stride == 1 && s_.padding == 0; }

    // Images per chunk: a power of two, GEMMs at most `wide_columns` wide (Eigen
    // is slower on wider ones), and at most n/8 so that a batch splits into
    // several chunks.
    [[nodiscard]] std::size_t grain(std::size_t n) const {
        const std::size_t hw = std::max(ho_ * wo_, s_.height * s_.width);
        const std::size_t want = std::min(wide_columns / hw, std::max<std::size_t>(1, n / 8));
        std::size_t g = 1;
        while (2 * g <= want) g *= 2;
        return g;
    }

    plan make_plan(const cpu_context& ctx, std::size_t n) {
        const chunking chunks{n, grain(n)};
        const std::size_t tasks = std::min<std::size_t>(static_cast<std::size_t>(std::max(1, ctx.threads())),
                                                        chunks.count());
        reserve(chunks.grain, tasks);
        return {chunks, tasks};
    }

    // Per-worker workspace for chunks of g images; grows only.
    void reserve(std::size_t g, std::size_t tasks) {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, k2 = s_.kernel * s_.kernel;
        const std::size_t hw = s_.height * s_.width, hwo = ho_ * wo_;
        const std::size_t col = pointwise() ? 0 : std::max(ci * k2 * g * hwo, direct_input_gradient() ? co * k2 * g * hw : 0);
        const std::size_t tmp = std::max(co * g * hwo, ci * g * hw);
        grow(col_, col_stride_, col, tasks);
        grow(tmp_, tmp_stride_, tmp, tasks);
        std::size_t unused = 0;
        grow(partial_, unused, co * ci * k2 + co, tasks);
        if (sum_.size() < co * ci * k2 + co) sum_.resize(co * ci * k2 + co);
        if (direct_input_gradient() && flipped_.size() < ci * co * k2) flipped_.resize(ci * co * k2);
    }
    static void grow(std::vector<Real>& buffer, std::size_t& stride, std::size_t per_task, std::size_t tasks) {
        stride = std::max(stride, per_task);
        if (buffer.size() < stride * tasks) buffer.resize(stride * tasks);
    }

    // Stride 1: dx is the convolution of dy with the flipped, transposed kernel
    // (padding k − 1 − p), an im2col + GEMM; otherwise a GEMM and col2im.
    [[nodiscard]] bool direct_input_gradient() const { return s_.stride == 1 && !pointwise(); }

    void fill_bias(Real* out, std::size_t cols, std::size_t ld) const {
        for (std::size_t o = 0; o < s_.out_channels; ++o)
            std::fill_n(out + o * ld, cols, has_bias_ ? bias_.value[o] : Real(0));
    }

    void input_gradient(const cpu_context& ctx, const plan& pl, const Real* dy, Real* dx) {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, k = s_.kernel, k2 = k * k;
        const std::size_t hw = s_.height * s_.width, hwo = ho_ * wo_;
        const auto w = detail::map(weight_.value.data(), co, ci * k2);
        if (direct_input_gradient())
            for (std::size_t o = 0; o < co; ++o)
                for (std::size_t c = 0; c < ci; ++c)
                    for (std::size_t t = 0; t < k2; ++t)
                        flipped_[(c * co + o) * k2 + (k2 - 1 - t)] = weight_.value[(o * ci + c) * k2 + t];
        ctx.for_each(pl.tasks, [&](std::size_t t) {
            Real* col = col_.data() + t * col_stride_;
            for (std::size_t c = pl.first_chunk(t); c < pl.first_chunk(t + 1); ++c) {
                const std::size_t b0 = pl.chunks.begin(c), m = pl.chunks.end(c) - b0;
                if (pointwise()) {
                    for (std::size_t b = b0; b < b0 + m; ++b)
                        detail::map(dx + b * ci * hw, ci, hw).noalias() =
                            w.transpose() * detail::map(dy + b * co * hwo, co, hwo);
                } else if (direct_input_gradient()) {
                    const std::size_t ld = m * hw;
                    for (std::size_t j = 0; j < m; ++j)
                        detail::im2col(dy + (b0 + j) * co * hwo, co, ho_, wo_, k, std::size_t{1}, k - 1 - s_.padding,
                                       s_.height, s_.width, col + j * hw, ld);
                    Real* out = m == 1 ? dx + b0 * ci * hw : tmp_.data() + t * tmp_stride_;
                    detail::map(out, ci, ld).noalias() = detail::map(static_cast<const Real*>(flipped_.data()), ci, co * k2) *
                                                        detail::map(static_cast<const Real*>(col), co * k2, ld);
                    if (m > 1)
                        for (std::size_t j = 0; j < m; ++j)
                            for (std::size_t i = 0; i < ci; ++i)
                                std::memcpy(dx + ((b0 + j) * ci + i) * hw, out + i * ld + j * hw, hw * sizeof(Real));
                } else {
                    const std::size_t ld = m * hwo;
                    Real* dyc = gather(dy, b0, m, t);
                    detail::map(col, ci * k2, ld).noalias() = w.transpose() * detail::map(static_cast<const Real*>(dyc), co, ld);
                    for (std::size_t j = 0; j < m; ++j) {
                        Real* dxb = dx + (b0 + j) * ci * hw;
                        std::fill_n(dxb, ci * hw, Real(0));
                        detail::col2im(static_cast<const Real*>(col + j * hwo), ld, ci, s_.height, s_.width, k,
                                       s_.stride, s_.padding, ho_, wo_, dxb);
                    }
                }
            }
        });
    }

    // dy of images [b0, b0 + m) as one co × (m·hwo) matrix (no copy for one image).
    Real* gather(const Real* dy, std::size_t b0, std::size_t m, std::size_t t) {
        const std::size_t co = s_.out_channels, hwo = ho_ * wo_, ld = m * hwo;
        if (m == 1) return const_cast<Real*>(dy + b0 * co * hwo);
        Real* out = tmp_.data() + t * tmp_stride_;
        for (std::size_t j = 0; j < m; ++j)
            for (std::size_t o = 0; o < co; ++o)
                std::memcpy(out + o * ld + j * hwo, dy + ((b0 + j) * co + o) * hwo, hwo * sizeof(Real));
        return out;
    }

    // dW = Σ_b dY_b col_bᵀ, db = Σ_b dY_b 1. Waves of `tasks` chunks run in
    // parallel, each into its own partial; partials are added in chunk order.
    void parameter_gradients(const cpu_context& ctx, const plan& pl, const Real* dy) {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, kk = fan_in(), hwo = ho_ * wo_;
        const std::size_t nw = co * kk, per = nw + co, count = pl.chunks.count();
        for (std::size_t first = 0; first < count; first += pl.tasks) {
            const std::size_t wave = std::min(pl.tasks, count - first);
            ctx.for_each(wave, [&](std::size_t t) {
                const std::size_t c = first + t;
                const std::size_t b0 = pl.chunks.begin(c), m = pl.chunks.end(c) - b0, ld = m * hwo;
                // The partial holds dWᵀ (kk × co): col · dyᵀ is the faster GEMM shape.
                Real* part = partial_.data() + t * per;
                auto pw = detail::map(part, kk, co);
                if (pointwise()) {
                    for (std::size_t b = b0; b < b0 + m; ++b) {
                        const auto dyb = detail::map(dy + b * co * hwo, co, hwo);
                        const auto xb = detail::map(input_ + b * ci * hwo, ci, hwo);
                        if (b == b0)
                            pw.noalias() = xb * dyb.transpose();
                        else
                            pw.noalias() += xb * dyb.transpose();
                    }
                } else {
                    Real* col = col_.data() + t * col_stride_;
                    for (std::size_t j = 0; j < m; ++j)
                        detail::im2col(input_ + (b0 + j) * input_size(), ci, s_.height, s_.width, s_.kernel,
                                       s_.stride, s_.padding, ho_, wo_, col + j * hwo, ld);
                    const Real* dyc = gather(dy, b0, m, t);
                    pw.noalias() = detail::map(static_cast<const Real*>(col), kk, ld) * detail::map(dyc, co, ld).transpose();
                }
                if (has_bias_)
                    for (std::size_t o = 0; o < co; ++o) {
                        Real acc = 0;
                        for (std::size_t b = b0; b < b0 + m; ++b) {
                            const Real* row = dy + (b * co + o) * hwo;
                            for (std::size_t i = 0; i < hwo; ++i) acc += row[i];
                        }
                        part[nw + o] = acc;
                    }
            });
            for (std::size_t t = 0; t < wave; ++t) {
                const Real* part = partial_.data() + t * per;
                if (first + t == 0)
                    std::copy_n(part, per, sum_.data());
                else
                    for (std::size_t i = 0; i < per; ++i) sum_[i] += part[i];
            }
        }
        // The batch's gradient is complete before it is added: grad += g exactly.
        Real* gw = weight_.grad.data();
        for (std::size_t o = 0; o < co; ++o)
            for (std::size_t i = 0; i < kk; ++i) gw[o * kk + i] += sum_[i * co + o];
        if (has_bias_)
            for (std::size_t o = 0; o < co; ++o) bias_.grad[o] += sum_[nw + o];
    }

    static constexpr std::size_t wide_columns = 1024;

    conv2d_shape s_;
    bool has_bias_;
    std::size_t ho_, wo_;
    parameter<Real> weight_, bias_;
    const Real* input_ = nullptr;
    std::size_t batch_ = 0;
    std::vector<Real> col_, tmp_, partial_, sum_, flipped_;
    std::size_t col_stride_ = 0, tmp_stride_ = 0;
};

}  // namespace sgm::nn
