#pragma once
// sgm::channel_transform — an orthonormal change of basis of the colour channels
// of every pixel, for colorization (Song et al. 2021, appendix I.3). Images are
// C × H × W per sample (channel-major); coordinate c' of a pixel in the new basis
// is Σ_c Q[c'][c] x_c, and back x_c = Σ_c' Q[c'][c] x'_c' since Q is orthonormal.
//
// gray_first(C) is the Helmert basis: row 0 = (1, …, 1)/√C, so decoupled channel
// 0 is √C times the gray value (the mean of the channels), and rows 1 … C−1 span
// the colour differences. Because the VE/VP/sub-VP SDEs act alike on every
// coordinate, an orthonormal transform commutes with the diffusion: sampling in
// the decoupled basis is sampling the original model.

#include <cmath>
#include <cstddef>
#include <vector>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../config.hpp"
#include "../error.hpp"

namespace sgm {

template <class Real>
class channel_transform {
public:
    // rows: C × C row-major; must be orthonormal to 1e-6.
    explicit channel_transform(std::vector<Real> rows) : rows_(std::move(rows)) {
        channels_ = static_cast<std::size_t>(std::lround(std::sqrt(double(rows_.size()))));
        detail::require(channels_ >= 1 && channels_ * channels_ == rows_.size(), "channel_transform: ", rows_.size(),
                        " values do not form a square C x C matrix");
        for (std::size_t a = 0; a < channels_; ++a)
            for (std::size_t b = 0; b < channels_; ++b) {
                double dot = 0;
                for (std::size_t c = 0; c < channels_; ++c)
                    dot += double(rows_[a * channels_ + c]) * double(rows_[b * channels_ + c]);
                const double expected = a == b ? 1.0 : 0.0;
                detail::require(std::abs(dot - expected) < 1e-6, "channel_transform: rows ", a, " and ", b,
                                " have dot product ", dot, "; expected ", expected, " (an orthonormal matrix)");
            }
    }

    // Helmert basis: row 0 the normalized mean, row k (1 ≤ k < C) ∝ (1, …, 1, −k, 0, …) with k ones.
    static channel_transform gray_first(std::size_t channels) {
        detail::require(channels >= 2, "channel_transform::gray_first: ", channels,
                        " channels; expected at least 2 to separate gray from colour");
        std::vector<Real> q(channels * channels, Real(0));
        for (std::size_t c = 0; c < channels; ++c) q[c] = Real(1 / std::sqrt(double(channels)));
        for (std::size_t k = 1; k < channels; ++k) {
            const double norm = std::sqrt(double(k) * double(k + 1));
            for (std::size_t c = 0; c < k; ++c) q[k * channels + c] = Real(1 / norm);
            q[k * channels + k] = Real(-double(k) / norm);
        }
        return channel_transform(std::move(q));
    }

    [[nodiscard]] std::size_t channels() const { return channels_; }
    [[nodiscard]] const std::vector<Real>& rows() const { return rows_; }

    // out = transform of in, per pixel: to the decoupled basis (inverse = false) or
    // back (inverse = true). in and out: backend memory, `count` samples of
    // C × pixels values; they must not overlap. q: the rows in backend memory.
    template <backend Backend>
    static void apply(const Backend& be, const Real* q, std::size_t channels, const Real* in, Real* out,
                      std::size_t count, std::size_t pixels, bool inverse) {
        const std::size_t d = channels * pixels;
        be.for_each_index(count * d, [=] SGM_HOST_DEVICE(std::size_t idx) {
            const std::size_t b = idx / d, c_out = (idx % d) / pixels, p = idx % pixels;
            const Real* x = in + b * d + p;
            Real sum = 0;
            for (std::size_t c = 0; c < channels; ++c)
                sum += (inverse ? q[c * channels + c_out] : q[c_out * channels + c]) * x[c * pixels];
            out[idx] = sum;
        });
    }

    // A batch of images (count × C·pixels) in the decoupled basis, or back.
    template <backend Backend>
    batch<Backend> to_decoupled(const batch<Backend>& x, const Backend& be = Backend{}) const {
        return transformed(x, be, false);
    }
    template <backend Backend>
    batch<Backend> to_channels(const batch<Backend>& x, const Backend& be = Backend{}) const {
        return transformed(x, be, true);
    }

private:
    template <backend Backend>
    batch<Backend> transformed(const batch<Backend>& x, const Backend& be, bool inverse) const {
        detail::require(x.dim() % channels_ == 0, "channel_transform: samples of dim ", x.dim(),
                        " do not split into ", channels_, " channels");
        auto q = be.make_vector(rows_.size());
        be.copy_from_host(std::span<const Real>(rows_), q);
        batch<Backend> out(x.size(), x.dim(), be);
        apply(be, Backend::data(q), channels_, x.data(), out.data(), x.size(), x.dim() / channels_, inverse);
        return out;
    }

    std::vector<Real> rows_;
    std::size_t channels_ = 0;
};

}  // namespace sgm
