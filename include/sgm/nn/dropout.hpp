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

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../random/philox_uniform.hpp"
#include "cpu_context.hpp"
#include "layer.hpp"
#include "parameter.hpp"

namespace sgm::nn {

namespace detail {
// splitmix64's finalizer: a bijection of 64-bit words that mixes every bit.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
}  // namespace detail

// The Philox key of the dropout masks of training step `step`. For a fixed seed
// it is one-to-one in the step; the constant keeps it apart from the key `seed`
// that the diffusion noise uses directly.
[[nodiscard]] constexpr std::uint64_t dropout_key(std::uint64_t seed, std::uint64_t step) {
    return detail::mix64(detail::mix64(seed ^ 0x6a09e667f3bcc909ULL) + step);
}

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
        const std::uint64_t key = dropout_key(mode.seed, mode.step);
        const chunking parts{count, grain};
        ctx.for_each(parts.count(), [&](std::size_t c) {
            std::size_t b = parts.begin(c) / sample_size, e = parts.begin(c) % sample_size;
            for (std::size_t i = parts.begin(c); i < parts.end(c); ++i) {
                const bool kept = random::uniform<double>(key, mode.first_sample + b, stream_, e) < keep;
                mask_[i] = kept;
                y[i] = kept ? x[i] * scale : Real(0);
                if (++e == sample_size) e = 0, ++b;
            }
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
        const chunking parts{count, grain};
        ctx.for_each(parts.count(), [&](std::size_t c) {
            for (std::size_t i = parts.begin(c); i < parts.end(c); ++i) dx[i] = mask_[i] ? dy[i] * scale : Real(0);
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
