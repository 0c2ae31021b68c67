#pragma once
// Embeddings of the per-sample conditioning value c (σ(t), log σ(t) or 999·t)
// into a vector, as the paper's networks use. Neither is differentiated: the
// score is never differentiated with respect to time.

#include <cmath>
#include <cstddef>
#include <numbers>
#include <optional>
#include <string>

#include "../error.hpp"
#include "parameter.hpp"

namespace sgm::nn {

// DDPM's sinusoidal embedding: [sin(c·ω_k), cos(c·ω_k)], ω_k = P^(−k/(h−1)),
// h = size/2 frequencies, P = max_positions.
template <class Real>
class sinusoidal_embedding {
public:
    using value_type = Real;

    explicit sinusoidal_embedding(std::size_t size, double max_positions = 10000.0)
        : size_(size), max_positions_(max_positions) {
        sgm::detail::require(size >= 4 && size % 2 == 0, "sinusoidal_embedding: size ", size,
                        " must be even and at least 4");
        sgm::detail::require(max_positions > 1, "sinusoidal_embedding: max_positions ", max_positions,
                        " must exceed 1");
    }

    [[nodiscard]] std::size_t output_size() const { return size_; }
    void collect(parameter_list<Real>&, const std::string&) {}

    void forward(const Real* c, Real* y, std::size_t n) const {
        const std::size_t half = size_ / 2;
        const double step = std::log(max_positions_) / static_cast<double>(half - 1);
        for (std::size_t b = 0; b < n; ++b)
            for (std::size_t k = 0; k < half; ++k) {
                const double arg = static_cast<double>(c[b]) * std::exp(-step * static_cast<double>(k));
                y[b * size_ + k] = static_cast<Real>(std::sin(arg));
                y[b * size_ + half + k] = static_cast<Real>(std::cos(arg));
            }
    }

private:
    std::size_t size_;
    double max_positions_;
};

// NCSN++'s Gaussian Fourier features: [sin(2π c w_k), cos(2π c w_k)], w_k ~ N(0, scale²)
// drawn once at initialization and kept (saved in checkpoints, never trained).
template <class Real>
class gaussian_fourier_embedding {
public:
    using value_type = Real;

    explicit gaussian_fourier_embedding(std::size_t size, double scale = 16.0)
        : size_(size), frequencies_("frequencies", {size / 2}, {init_rule::kind::normal, scale}, false) {
        sgm::detail::require(size >= 2 && size % 2 == 0, "gaussian_fourier_embedding: size ", size,
                        " must be even and at least 2");
        sgm::detail::require(scale > 0 && std::isfinite(scale), "gaussian_fourier_embedding: scale ", scale,
                        " must be positive and finite");
    }

    [[nodiscard]] std::size_t output_size() const { return size_; }
    void collect(parameter_list<Real>& list, const std::string& prefix) { list.add(frequencies_, prefix); }

    void forward(const Real* c, Real* y, std::size_t n) const {
        const std::size_t half = size_ / 2;
        for (std::size_t b = 0; b < n; ++b)
            for (std::size_t k = 0; k < half; ++k) {
                const double arg = 2.0 * std::numbers::pi * static_cast<double>(c[b]) *
                                   static_cast<double>(frequencies_.value[k]);
                y[b * size_ + k] = static_cast<Real>(std::sin(arg));
                y[b * size_ + half + k] = static_cast<Real>(std::cos(arg));
            }
    }

private:
    std::size_t size_;
    parameter<Real> frequencies_;
};

enum class embedding_kind {
    sinusoidal,       // DDPM++: of σ(t) or 999·t
    gaussian_fourier  // NCSN++: usually of log σ(t) (time_input::log_sigma)
};

// Either embedding, chosen at run time by a network's configuration.
template <class Real>
class time_embedding {
public:
    using value_type = Real;

    // parameter: max_positions for sinusoidal, the frequency scale for Gaussian Fourier.
    time_embedding(embedding_kind kind, std::size_t size, double parameter)
        : kind_(kind) {
        if (kind == embedding_kind::sinusoidal)
            sinusoidal_.emplace(size, parameter);
        else
            fourier_.emplace(size, parameter);
    }

    [[nodiscard]] embedding_kind kind() const { return kind_; }
    [[nodiscard]] std::size_t output_size() const {
        return sinusoidal_ ? sinusoidal_->output_size() : fourier_->output_size();
    }
    void collect(parameter_list<Real>& list, const std::string& prefix) {
        if (fourier_) fourier_->collect(list, prefix);
    }
    void forward(const Real* c, Real* y, std::size_t n) const {
        if (sinusoidal_)
            sinusoidal_->forward(c, y, n);
        else
            fourier_->forward(c, y, n);
    }

private:
    embedding_kind kind_;
    std::optional<sinusoidal_embedding<Real>> sinusoidal_;
    std::optional<gaussian_fourier_embedding<Real>> fourier_;
};

}  // namespace sgm::nn
