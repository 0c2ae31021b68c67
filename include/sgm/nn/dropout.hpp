#pragma once
// Inverted dropout: in training, each value is kept with probability 1 − rate
// and scaled by 1/(1 − rate), so E[y] = x; otherwise y = x.
//
// The keep decision of element e of global sample s is a pure function of
//   (mode.seed, mode.step, stream, s = mode.first_sample + b, e):
//   keep ⇔ random::uniform<double>(dropout_key(seed, step), s, stream, e) < 1 − rate.
// The step goes into the Philox key (a 64-bit mix of seed and step, see
// dropout_key) and the layer's stream id into the draw, so every layer and
// every step has its own masks, a sample's mask does not depend on its position
// in the batch or on the thread count, and a resumed run draws the same masks.
// One Philox call gives the uniforms of four consecutive elements (the counter
// layout of random::uniform), so the mask costs a quarter of a call per value.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../random/mix64.hpp"
#include "../random/philox_uniform.hpp"
#include "cpu_context.hpp"
#include "layer.hpp"
#include "parameter.hpp"

namespace sgm::nn {


// The Philox key of the dropout masks of training step `step`. For a fixed seed
// it is one-to-one in the step; the constant keeps it apart from the key `seed`
// that the diffusion noise uses directly.
[[nodiscard]] constexpr std::uint64_t dropout_key(std::uint64_t seed, std::uint64_t step) {
    return random::mix64(random::mix64(seed ^ 0x6a09e667f3bcc909ULL) + step);
}

namespace detail {
// The Philox words behind random::uniform(key, sample, draw, 4·block + k), k = 0..3.
inline r123::Philox4x32::ctr_type uniform_words(std::uint64_t key, std::uint64_t sample, std::uint32_t draw,
                                                std::uint64_t block) {
    r123::Philox4x32 rng;
    const r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(block), draw,
                                             static_cast<std::uint32_t>(sample),
                                             static_cast<std::uint32_t>(sample >> 32)}};
    const r123::Philox4x32::key_type k = {{static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)}};
    return rng(ctr, k);
}
// random::uniform<double>'s map of a word to (0, 1) (its clamp never acts in double).
[[nodiscard]] inline double unit_interval(std::uint32_t word) {
    return (static_cast<double>(word) + 0.5) * 2.3283064365386963e-10;
}
}  // namespace detail

template <class Real>
class dropout {
public:
    using value_type = Real;

    // stream: this layer's id among the network's dropout layers (the Philox draw).
    explicit dropout(double rate, std::uint32_t stream = 0) : rate_(rate), stream_(stream) {
        sgm::detail::require(rate >= 0 && rate < 1, "dropout: rate ", rate, " must lie in [0, 1)");
    }

    [[nodiscard]] double rate() const { return rate_; }
    [[nodiscard]] std::uint32_t stream() const { return stream_; }
    void collect(parameter_list<Real>&, const std::string&) {}

    // n samples of sample_size values each; y may be x.
    void forward(const cpu_context& ctx, const Real* x, Real* y, std::size_t n, std::size_t sample_size,
                 const pass_mode& mode) {
        const std::size_t count = n * sample_size;
        batch_ = n;
        sample_size_ = sample_size;
        active_ = mode.training && rate_ > 0;
        if (!active_) {
            if (y != x) std::copy_n(x, count, y);
            return;
        }
        if (mask_.size() < count) mask_.resize(count);
        const double keep = 1.0 - rate_;
        const Real scale = static_cast<Real>(1.0 / keep);
        const std::uint64_t key = dropout_key(mode.seed, mode.step), first = mode.first_sample;
        const std::uint32_t stream = stream_;
        std::uint8_t* mask = mask_.data();
        const chunking parts{count, grain};
        ctx.for_each(parts.count(), [&](std::size_t c) {
            const std::size_t begin = parts.begin(c), end = parts.end(c);
            // Mask first, one Philox call per four elements of a sample ...
            for (std::size_t i = begin; i < end;) {
                const std::size_t b = i / sample_size, stop = std::min(end, (b + 1) * sample_size);
                for (std::size_t e = i - b * sample_size; i < stop;) {
                    const auto words = detail::uniform_words(key, first + b, stream, e / 4);
                    for (std::size_t k = e % 4; k < 4 && i < stop; ++k, ++e, ++i)
                        mask[i] = detail::unit_interval(words.v[k]) < keep;
                }
            }
            // ... then a loop the compiler vectorizes.
            for (std::size_t i = begin; i < end; ++i) y[i] = mask[i] ? x[i] * scale : Real(0);
        });
    }

    // dx = dy · mask / (1 − rate) after a training forward, dy otherwise; dx may be dy.
    void backward(const cpu_context& ctx, const Real* dy, Real* dx, std::size_t n, std::size_t sample_size,
                  gradients = {}) {
        if (dx == nullptr) return;
        sgm::detail::require(n == batch_ && sample_size == sample_size_, "dropout::backward: ", n, " × ",
                             sample_size, " values differ from the last forward's ", batch_, " × ", sample_size_);
        const std::size_t count = n * sample_size;
        if (!active_) {
            if (dx != dy) std::copy_n(dy, count, dx);
            return;
        }
        const Real scale = static_cast<Real>(1.0 / (1.0 - rate_));
        const std::uint8_t* mask = mask_.data();
        const chunking parts{count, grain};
        ctx.for_each(parts.count(), [&](std::size_t c) {
            for (std::size_t i = parts.begin(c); i < parts.end(c); ++i) dx[i] = mask[i] ? dy[i] * scale : Real(0);
        });
    }

private:
    static constexpr std::size_t grain = 1 << 14;

    double rate_;
    std::uint32_t stream_;
    std::vector<std::uint8_t> mask_;  // 1 = kept, for the last training forward
    std::size_t batch_ = 0, sample_size_ = 0;
    bool active_ = false;
};

}  // namespace sgm::nn
