#pragma once
// A multilayer perceptron score network for low-dimensional data:
//   h = [x, emb(c)] → (dense → SiLU) × depth → dense → y (same size as x),
// emb sinusoidal (default) or Gaussian Fourier features.
// The embedding of the conditioning value is concatenated to the input.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../error.hpp"
#include "cpu_context.hpp"
#include "dense.hpp"
#include "init.hpp"
#include "layer.hpp"
#include "parameter.hpp"
#include "silu.hpp"
#include "time_embedding.hpp"

namespace sgm::nn {

struct mlp_config {
    std::size_t data_dim = 2;
    std::size_t hidden = 128;
    std::size_t depth = 3;           // hidden layers
    std::size_t embedding_size = 32; // embedding of the conditioning value
    embedding_kind embedding = embedding_kind::sinusoidal;
    double max_positions = 10000.0;  // of the sinusoidal embedding
    double fourier_scale = 16.0;     // of the Gaussian Fourier embedding
    std::uint64_t seed = 0;          // initialization
};

template <class Real>
class mlp {
public:
    using value_type = Real;

    explicit mlp(const mlp_config& config, cpu_context ctx = cpu_context{})
        : config_(config), ctx_(std::move(ctx)), embedding_(config.embedding, config.embedding_size,
                     config.embedding == embedding_kind::sinusoidal ? config.max_positions : config.fourier_scale) {
        sgm::detail::require(config.data_dim > 0, "mlp: data_dim must be positive");
        sgm::detail::require(config.depth > 0 && config.hidden > 0, "mlp: depth ", config.depth, " and hidden ",
                        config.hidden, " must be positive");
        std::size_t in = config.data_dim + config.embedding_size;
        for (std::size_t i = 0; i < config.depth; ++i) {
            layers_.emplace_back(in, config.hidden);
            in = config.hidden;
        }
        layers_.emplace_back(in, config.data_dim);
        activations_.resize(config.depth);
        initialize(parameters(), config.seed);
    }

    [[nodiscard]] std::size_t input_size() const { return config_.data_dim; }
    [[nodiscard]] const mlp_config& config() const { return config_; }
    void set_mode(const pass_mode&) {}  // no dropout
    void set_context(cpu_context ctx) { ctx_ = std::move(ctx); }

    [[nodiscard]] parameter_list<Real> parameters() {
        parameter_list<Real> list;
        embedding_.collect(list, "embedding");
        for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i].collect(list, "layers." + std::to_string(i));
        return list;
    }

    void forward(const Real* x, const Real* c, Real* y, std::size_t n) {
        const std::size_t d = config_.data_dim, e = config_.embedding_size, h = config_.hidden;
        grow(n);
        embedded_.resize(n * e);
        embedding_.forward(c, embedded_.data(), n);
        for (std::size_t b = 0; b < n; ++b) {
            std::copy_n(x + b * d, d, input_.data() + b * (d + e));
            std::copy_n(embedded_.data() + b * e, e, input_.data() + b * (d + e) + d);
        }
        const Real* in = input_.data();
        for (std::size_t i = 0; i < config_.depth; ++i) {
            layers_[i].forward(ctx_, in, pre_[i].data(), n);
            activations_[i].forward(ctx_, pre_[i].data(), post_[i].data(), n * h);
            in = post_[i].data();
        }
        layers_.back().forward(ctx_, in, y, n);
        batch_ = n;
    }

    void backward(const Real* dy, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "mlp::backward: batch ", n, " differs from the last forward's ", batch_);
        const std::size_t d = config_.data_dim, e = config_.embedding_size, h = config_.hidden;
        const Real* upstream = dy;
        for (std::size_t i = config_.depth; i-- > 0;) {
            layers_[i + 1].backward(ctx_, upstream, grad_post_.data(), n, g);
            activations_[i].backward(ctx_, grad_post_.data(), grad_pre_.data(), n * h);
            upstream = grad_pre_.data();
        }
        if (dx == nullptr) {
            layers_[0].backward(ctx_, upstream, nullptr, n, g);
            return;
        }
        layers_[0].backward(ctx_, upstream, grad_input_.data(), n, g);
        for (std::size_t b = 0; b < n; ++b) std::copy_n(grad_input_.data() + b * (d + e), d, dx + b * d);
    }

private:
    void grow(std::size_t n) {
        const std::size_t d = config_.data_dim, e = config_.embedding_size, h = config_.hidden;
        if (n <= capacity_) return;
        input_.resize(n * (d + e));
        grad_input_.resize(n * (d + e));
        pre_.assign(config_.depth, std::vector<Real>(n * h));
        post_.assign(config_.depth, std::vector<Real>(n * h));
        grad_pre_.resize(n * h);
        grad_post_.resize(n * h);
        capacity_ = n;
    }

    mlp_config config_;
    cpu_context ctx_;
    time_embedding<Real> embedding_;
    std::vector<dense<Real>> layers_;
    std::vector<silu<Real>> activations_;
    std::vector<Real> embedded_, input_, grad_input_, grad_pre_, grad_post_;
    std::vector<std::vector<Real>> pre_, post_;
    std::size_t capacity_ = 0, batch_ = 0;
};

}  // namespace sgm::nn
