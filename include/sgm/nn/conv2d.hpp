#pragma once
// 2-D convolution (cross-correlation, as PyTorch's Conv2d) on NCHW batches.
//
//   y[b, o, i, j] = bias[o] + Σ_{c, u, v} W[o, c, u, v] · x[b, c, i·s + u − p, j·s + v − p]
//
// W has shape out × in × k × k; x outside the image reads as zero. All work is
// GEMMs (Eigen), on chunks of images at a time so that small images still give
// wide products, by one of three methods fixed by the shape (y and dW by the
// in-channel count, dx by the out-channel count, the channels each sums over):
//   pointwise  1×1, stride 1, no padding: W times the activations directly.
//   shifted    stride 1, k = 2p + 1 (same size), 8+ channels summed over: the
//              images are laid out with p zero rows and columns between them
//              (a "padded plane"), where tap (u, v) of every output pixel is the
//              input at one fixed offset, so the convolution is k² GEMMs over
//              shifted views of the plane, with no im2col copy.
//   unrolled   anything else: im2col (rows (c, u, v), columns (image, i, j)),
//              one GEMM, and col2im or a flipped-kernel im2col for dx.
//
// Determinism: the weight gradient sums over the batch in fixed chunks whose
// boundaries depend on n and the shape only; each chunk's partial sum is a
// fixed sequence of GEMMs, and partials are added in chunk order before the
// total goes into the gradient. Everything else is computed per chunk. So
// results are bit-identical on any thread count.

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

// The padded plane of `images` images of c channels (h × w each, padding p):
// per channel, p zero rows, then each image's h rows followed by p zero rows;
// each row holds w values then p zeros (stride w + p), and one spare zero row
// absorbs the reads past the end. Output pixel (image, i, j) is column
// out_column(image, i) + j of the shifted GEMMs; its tap (u, v) reads the plane
// at that column + u·stride + v.
struct padded_plane {
    std::size_t h, w, p, images;
    [[nodiscard]] std::size_t stride() const { return w + p; }
    [[nodiscard]] std::size_t size() const { return (images * (h + p) + p + 1) * stride(); }
    [[nodiscard]] std::size_t columns() const { return ((images - 1) * (h + p) + h - 1) * stride() + w; }
    [[nodiscard]] std::size_t out_column(std::size_t image, std::size_t i) const {
        return (image * (h + p) + i) * stride();
    }
    [[nodiscard]] std::size_t offset(std::size_t u, std::size_t v) const { return u * stride() + v; }
};

// Lays out `images` consecutive images of x (c × h × w each) as padded planes,
// channel ch at plane + ch·ld.
template <class Real>
void fill_plane(const Real* x, std::size_t c, const padded_plane& pl, std::size_t ld, Real* plane) {
    const std::size_t hw = pl.h * pl.w, st = pl.stride();
    for (std::size_t ch = 0; ch < c; ++ch) {
        Real* dst = plane + ch * ld;
        std::fill_n(dst, pl.size(), Real(0));
        for (std::size_t g = 0; g < pl.images; ++g)
            for (std::size_t i = 0; i < pl.h; ++i)
                std::memcpy(dst + (pl.p + g * (pl.h + pl.p) + i) * st + pl.p, x + (g * c + ch) * hw + i * pl.w,
                            pl.w * sizeof(Real));
    }
}

// Σ p[0..n) in a fixed order: 16 interleaved partial sums (which the compiler
// can vectorize), combined pairwise.
template <class Real>
[[nodiscard]] Real lane_sum(const Real* p, std::size_t n) {
    constexpr std::size_t lanes = 16;
    Real acc[lanes] = {};
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes)
        for (std::size_t l = 0; l < lanes; ++l) acc[l] += p[i + l];
    for (std::size_t l = 0; i < n; ++i, ++l) acc[l] += p[i];
    for (std::size_t width = lanes / 2; width > 0; width /= 2)
        for (std::size_t l = 0; l < width; ++l) acc[l] += acc[l + width];
    return acc[0];
}

template <class Real>
using strided_map = Eigen::Map<const row_matrix<Real>, 0, Eigen::OuterStride<>>;

template <class Real>
[[nodiscard]] inline strided_map<Real> map_strided(const Real* p, std::size_t rows, std::size_t cols,
                                                   std::size_t ld) {
    return {p, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols),
            Eigen::OuterStride<>(static_cast<Eigen::Index>(ld))};
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
          forward_(choose_method(s_, s_.in_channels)), input_grad_(choose_method(s_, s_.out_channels)),
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
        if (forward_ == method::shifted) arrange_taps();
        ctx.for_each(pl.tasks, [&](std::size_t t) {
            for (std::size_t c = pl.first_chunk(t); c < pl.first_chunk(t + 1); ++c) {
                const std::size_t b0 = pl.chunks.begin(c), m = pl.chunks.end(c) - b0;
                switch (forward_) {
                    case method::pointwise: forward_pointwise(x, y, b0, m); break;
                    case method::shifted:
                        shifted_conv(x + b0 * input_size(), m, s_.in_channels, s_.out_channels, taps_.data(), true,
                                     y + b0 * output_size(), t);
                        break;
                    case method::unrolled: forward_unrolled(x, y, b0, m, t); break;
                }
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
    enum class method { pointwise, shifted, unrolled };

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

    // The shifted GEMMs' inner dimension is the channel count they sum over
    // (in for y and dW, out for dx): below 8 they are too thin and im2col's one
    // deep GEMM wins.
    static method choose_method(const conv2d_shape& s, std::size_t summed_channels) {
        if (s.kernel == 1 && s.stride == 1 && s.padding == 0) return method::pointwise;
        if (s.stride == 1 && s.kernel == 2 * s.padding + 1 && summed_channels >= 8) return method::shifted;
        return method::unrolled;
    }

    [[nodiscard]] detail::padded_plane plane(std::size_t images) const {
        return {s_.height, s_.width, s_.padding, images};
    }

    // Images per chunk: a power of two, GEMMs about `columns` wide at most
    // (Eigen's GEMM slows down on wider ones), and at most n/8 so that a batch
    // splits into several chunks.
    [[nodiscard]] std::size_t grain(std::size_t n) const {
        const bool shifted = forward_ == method::shifted || input_grad_ == method::shifted;
        // Unrolled stride 1 also builds im2col matrices of dy, h·w columns per image.
        const std::size_t per_image = shifted           ? (s_.height + s_.padding) * (s_.width + s_.padding)
                                      : s_.stride == 1 ? std::max(ho_ * wo_, s_.height * s_.width)
                                                       : ho_ * wo_;
        const std::size_t columns = shifted ? 512 : 1024;
        const std::size_t want = std::min(columns / per_image, std::max<std::size_t>(1, n / 8));
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
        std::size_t a = 0, b = 0, out = 0;
        const auto need = [](std::size_t& slot, std::size_t size) { slot = std::max(slot, size); };
        const detail::padded_plane pl = plane(g);
        if (forward_ == method::shifted) {  // forward and weight gradient
            need(a, ci * pl.size());
            need(b, co * pl.size());
            need(out, co * pl.columns());
        } else if (forward_ == method::unrolled) {
            need(a, ci * k2 * g * hwo);
            need(out, co * g * hwo);
        }
        if (input_grad_ == method::shifted) {
            need(a, co * pl.size());
            need(out, ci * pl.columns());
        } else if (input_grad_ == method::unrolled) {
            need(a, s_.stride == 1 ? co * k2 * g * hw : ci * k2 * g * hwo);
            need(out, std::max(ci * g * hw, co * g * hwo));
        }
        grow(a_, a_stride_, a, tasks);
        grow(b_, b_stride_, b, tasks);
        grow(out_, out_stride_, out, tasks);
        std::size_t unused = 0;
        grow(partial_, unused, co * ci * k2 + co, tasks);
        if (sum_.size() < co * ci * k2 + co) sum_.resize(co * ci * k2 + co);
        if (taps_.size() < co * ci * k2 && forward_ == method::shifted) taps_.resize(co * ci * k2);
        if (flipped_.size() < co * ci * k2 && input_grad_ != method::pointwise) flipped_.resize(co * ci * k2);
    }
    static void grow(std::vector<Real>& buffer, std::size_t& stride, std::size_t per_task, std::size_t tasks) {
        stride = std::max(stride, per_task);
        if (buffer.size() < stride * tasks) buffer.resize(stride * tasks);
    }

    // taps_[t][o][c] = W[o][c][t]: the shifted GEMMs' left factors.
    void arrange_taps() {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, k2 = s_.kernel * s_.kernel;
        for (std::size_t o = 0; o < co; ++o)
            for (std::size_t c = 0; c < ci; ++c)
                for (std::size_t t = 0; t < k2; ++t)
                    taps_[(t * co + o) * ci + c] = weight_.value[(o * ci + c) * k2 + t];
    }

    // With stride 1, dx is the convolution of dy with the kernel flipped in both
    // axes and transposed (in ↔ out), padding k − 1 − p. Shifted layout: [t][c][o];
    // unrolled: [c][o][t].
    void arrange_flipped() {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, k2 = s_.kernel * s_.kernel;
        const bool shifted = input_grad_ == method::shifted;
        for (std::size_t o = 0; o < co; ++o)
            for (std::size_t c = 0; c < ci; ++c)
                for (std::size_t t = 0; t < k2; ++t) {
                    const std::size_t f = k2 - 1 - t;
                    flipped_[shifted ? (f * ci + c) * co + o : (c * co + o) * k2 + f] =
                        weight_.value[(o * ci + c) * k2 + t];
                }
    }

    void fill_bias(Real* out, std::size_t cols, std::size_t ld) const {
        for (std::size_t o = 0; o < s_.out_channels; ++o)
            std::fill_n(out + o * ld, cols, has_bias_ ? bias_.value[o] : Real(0));
    }

    void forward_pointwise(const Real* x, Real* y, std::size_t b0, std::size_t m) {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, hw = ho_ * wo_;
        const auto w = detail::map(static_cast<const Real*>(weight_.value.data()), co, ci);
        for (std::size_t b = b0; b < b0 + m; ++b) {
            Real* yb = y + b * co * hw;
            fill_bias(yb, hw, hw);
            detail::map(yb, co, hw).noalias() += w * detail::map(x + b * ci * hw, ci, hw);
        }
    }

    void forward_unrolled(const Real* x, Real* y, std::size_t b0, std::size_t m, std::size_t t) {
        const std::size_t co = s_.out_channels, kk = fan_in(), hwo = ho_ * wo_, ld = m * hwo;
        Real* col = a_.data() + t * a_stride_;
        for (std::size_t j = 0; j < m; ++j)
            detail::im2col(x + (b0 + j) * input_size(), s_.in_channels, s_.height, s_.width, s_.kernel, s_.stride,
                           s_.padding, ho_, wo_, col + j * hwo, ld);
        // One image: straight into y; several: into a co × (m·hwo) block, then scattered.
        Real* out = m == 1 ? y + b0 * co * hwo : out_.data() + t * out_stride_;
        fill_bias(out, ld, ld);
        detail::map(out, co, ld).noalias() += detail::map(static_cast<const Real*>(weight_.value.data()), co, kk) *
                                              detail::map(static_cast<const Real*>(col), kk, ld);
        if (m > 1) scatter(out, co, hwo, m, y + b0 * co * hwo);
    }

    // Rows of a c × (m·hw) block back to m images of c × hw.
    static void scatter(const Real* block, std::size_t c, std::size_t hw, std::size_t m, Real* images) {
        for (std::size_t j = 0; j < m; ++j)
            for (std::size_t ch = 0; ch < c; ++ch)
                std::memcpy(images + (j * c + ch) * hw, block + ch * m * hw + j * hw, hw * sizeof(Real));
    }

    // m images of `in` (cin channels) convolved with taps [t][cout][cin] into
    // `out` (cout channels), through worker t's padded plane.
    void shifted_conv(const Real* in, std::size_t m, std::size_t cin, std::size_t cout, const Real* taps, bool bias,
                      Real* out, std::size_t t) {
        const detail::padded_plane pl = plane(m);
        const std::size_t ld = pl.size(), q = pl.columns(), k = s_.kernel, h = s_.height, w = s_.width;
        Real* planes = a_.data() + t * a_stride_;
        detail::fill_plane(in, cin, pl, ld, planes);
        Real* acc = out_.data() + t * out_stride_;
        auto result = detail::map(acc, cout, q);
        for (std::size_t u = 0; u < k; ++u)
            for (std::size_t v = 0; v < k; ++v) {
                const auto tap = detail::map(taps + (u * k + v) * cout * cin, cout, cin);
                const Real* view = planes + pl.offset(u, v);
                const auto shifted = detail::map_strided(view, cin, q, ld);
                if (u == 0 && v == 0)
                    result.noalias() = tap * shifted;
                else
                    result.noalias() += tap * shifted;
            }
        for (std::size_t g = 0; g < m; ++g)
            for (std::size_t o = 0; o < cout; ++o) {
                Real* dst = out + (g * cout + o) * h * w;
                const Real b = bias && has_bias_ ? bias_.value[o] : Real(0);
                for (std::size_t i = 0; i < h; ++i) {
                    const Real* src = acc + o * q + pl.out_column(g, i);
                    if (bias && has_bias_)
                        for (std::size_t j = 0; j < w; ++j) dst[i * w + j] = src[j] + b;
                    else
                        std::memcpy(dst + i * w, src, w * sizeof(Real));
                }
            }
    }

    void input_gradient(const cpu_context& ctx, const plan& pl, const Real* dy, Real* dx) {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, k = s_.kernel, k2 = k * k;
        const std::size_t hw = s_.height * s_.width, hwo = ho_ * wo_;
        const auto w = detail::map(static_cast<const Real*>(weight_.value.data()), co, ci * k2);
        if (input_grad_ != method::pointwise && s_.stride == 1) arrange_flipped();
        ctx.for_each(pl.tasks, [&](std::size_t t) {
            Real* col = a_.data() + t * a_stride_;
            for (std::size_t c = pl.first_chunk(t); c < pl.first_chunk(t + 1); ++c) {
                const std::size_t b0 = pl.chunks.begin(c), m = pl.chunks.end(c) - b0;
                if (input_grad_ == method::pointwise) {
                    for (std::size_t b = b0; b < b0 + m; ++b)
                        detail::map(dx + b * ci * hw, ci, hw).noalias() =
                            w.transpose() * detail::map(dy + b * co * hwo, co, hwo);
                } else if (input_grad_ == method::shifted) {
                    shifted_conv(dy + b0 * output_size(), m, co, ci, flipped_.data(), false, dx + b0 * input_size(), t);
                } else if (s_.stride == 1) {
                    const std::size_t ld = m * hw;
                    for (std::size_t j = 0; j < m; ++j)
                        detail::im2col(dy + (b0 + j) * co * hwo, co, ho_, wo_, k, std::size_t{1}, k - 1 - s_.padding,
                                       s_.height, s_.width, col + j * hw, ld);
                    Real* out = m == 1 ? dx + b0 * ci * hw : out_.data() + t * out_stride_;
                    detail::map(out, ci, ld).noalias() =
                        detail::map(static_cast<const Real*>(flipped_.data()), ci, co * k2) *
                        detail::map(static_cast<const Real*>(col), co * k2, ld);
                    if (m > 1) scatter(out, ci, hw, m, dx + b0 * ci * hw);
                } else {
                    const std::size_t ld = m * hwo;
                    const Real* dyc = gather(dy, b0, m, t);
                    detail::map(col, ci * k2, ld).noalias() = w.transpose() * detail::map(dyc, co, ld);
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
    const Real* gather(const Real* dy, std::size_t b0, std::size_t m, std::size_t t) {
        const std::size_t co = s_.out_channels, hwo = ho_ * wo_, ld = m * hwo;
        if (m == 1) return dy + b0 * co * hwo;
        Real* out = out_.data() + t * out_stride_;
        for (std::size_t j = 0; j < m; ++j)
            for (std::size_t o = 0; o < co; ++o)
                std::memcpy(out + o * ld + j * hwo, dy + ((b0 + j) * co + o) * hwo, hwo * sizeof(Real));
        return out;
    }

    // dW and db. Waves of `tasks` chunks run in parallel, each into its own
    // partial; partials are summed in chunk order, then added to the gradients.
    // A partial holds dWᵀ (x-side rows, co columns: the faster GEMM shape), as
    // [t][c][o] (shifted) or [c][t][o] (others), then db.
    void parameter_gradients(const cpu_context& ctx, const plan& pl, const Real* dy) {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, k2 = s_.kernel * s_.kernel;
        const std::size_t nw = co * ci * k2, per = nw + co, count = pl.chunks.count(), hwo = ho_ * wo_;
        for (std::size_t first = 0; first < count; first += pl.tasks) {
            const std::size_t wave = std::min(pl.tasks, count - first);
            ctx.for_each(wave, [&](std::size_t t) {
                const std::size_t c = first + t;
                const std::size_t b0 = pl.chunks.begin(c), m = pl.chunks.end(c) - b0;
                Real* part = partial_.data() + t * per;
                switch (forward_) {
                    case method::pointwise: weight_partial_pointwise(dy, b0, m, part); break;
                    case method::shifted: weight_partial_shifted(dy, b0, m, t, part); break;
                    case method::unrolled: weight_partial_unrolled(dy, b0, m, t, part); break;
                }
                if (has_bias_)
                    for (std::size_t o = 0; o < co; ++o) {
                        Real acc = 0;
                        for (std::size_t b = b0; b < b0 + m; ++b) acc += detail::lane_sum(dy + (b * co + o) * hwo, hwo);
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
        const bool shifted = forward_ == method::shifted;
        Real* gw = weight_.grad.data();
        for (std::size_t o = 0; o < co; ++o)
            for (std::size_t c = 0; c < ci; ++c)
                for (std::size_t t = 0; t < k2; ++t)
                    gw[(o * ci + c) * k2 + t] += sum_[(shifted ? t * ci + c : c * k2 + t) * co + o];
        if (has_bias_)
            for (std::size_t o = 0; o < co; ++o) bias_.grad[o] += sum_[nw + o];
    }

    void weight_partial_pointwise(const Real* dy, std::size_t b0, std::size_t m, Real* part) const {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, hw = ho_ * wo_;
        auto pw = detail::map(part, ci, co);
        for (std::size_t b = b0; b < b0 + m; ++b) {
            const auto dyb = detail::map(dy + b * co * hw, co, hw);
            const auto xb = detail::map(input_ + b * ci * hw, ci, hw);
            if (b == b0)
                pw.noalias() = xb * dyb.transpose();
            else
                pw.noalias() += xb * dyb.transpose();
        }
    }

    void weight_partial_unrolled(const Real* dy, std::size_t b0, std::size_t m, std::size_t t, Real* part) {
        const std::size_t co = s_.out_channels, kk = fan_in(), hwo = ho_ * wo_, ld = m * hwo;
        Real* col = a_.data() + t * a_stride_;
        for (std::size_t j = 0; j < m; ++j)
            detail::im2col(input_ + (b0 + j) * input_size(), s_.in_channels, s_.height, s_.width, s_.kernel, s_.stride,
                           s_.padding, ho_, wo_, col + j * hwo, ld);
        const Real* dyc = gather(dy, b0, m, t);
        detail::map(part, kk, co).noalias() =
            detail::map(static_cast<const Real*>(col), kk, ld) * detail::map(dyc, co, ld).transpose();
    }

    // dWᵀ for tap (u, v) = (x plane shifted by (u, v)) · (dy plane)ᵀ: dy's plane
    // is zero at every column that is not an output pixel.
    void weight_partial_shifted(const Real* dy, std::size_t b0, std::size_t m, std::size_t t, Real* part) {
        const std::size_t ci = s_.in_channels, co = s_.out_channels, k = s_.kernel, p = s_.padding;
        const detail::padded_plane pl = plane(m);
        const std::size_t ld = pl.size(), q = pl.columns();
        Real* px = a_.data() + t * a_stride_;
        Real* pd = b_.data() + t * b_stride_;
        detail::fill_plane(input_ + b0 * input_size(), ci, pl, ld, px);
        detail::fill_plane(dy + b0 * output_size(), co, pl, ld, pd);
        const auto d = detail::map_strided(static_cast<const Real*>(pd) + pl.offset(p, p), co, q, ld);
        for (std::size_t u = 0; u < k; ++u)
            for (std::size_t v = 0; v < k; ++v)
                detail::map(part + (u * k + v) * ci * co, ci, co).noalias() =
                    detail::map_strided(static_cast<const Real*>(px) + pl.offset(u, v), ci, q, ld) * d.transpose();
    }

    conv2d_shape s_;
    bool has_bias_;
    std::size_t ho_, wo_;
    method forward_, input_grad_;  // the weight gradient follows forward_
    parameter<Real> weight_, bias_;
    const Real* input_ = nullptr;
    std::size_t batch_ = 0;
    // Per-worker slices: a_ (im2col matrix or padded plane), b_ (dy's plane),
    // out_ (GEMM results before they are scattered to images).
    std::vector<Real> a_, b_, out_, partial_, sum_, taps_, flipped_;
    std::size_t a_stride_ = 0, b_stride_ = 0, out_stride_ = 0;
};

}  // namespace sgm::nn
