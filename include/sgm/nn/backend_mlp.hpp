#pragma once
// sgm::nn::backend_mlp — the MLP score network (mlp.hpp) with its weights and
// every loop on a backend: oneTBB or serial on the CPU, Thrust on the CPU or on
// a CUDA GPU. Same layers, same parameter names and order, same numbers up to
// float rounding; it is built from a host mlp, so weights come from the same
// checkpoints (load them into the host mlp, then construct or upload()).
//
//   sgm::nn::mlp<float> host(config);
//   sgm::train::load_weights("weights.safetensors", host.parameters());
//   using gpu = sgm::thrust_backend<float, sgm::thrust_cuda>;
//   sgm::nn::score_network model(sgm::nn::backend_mlp<float, gpu>(host), sde,
//                                sgm::nn::score_network_options{}, gpu{});
//
// forward/backward take pointers in the backend's memory and keep no host
// round trip: a sampler on device vectors never copies through the host. The
// workspace grows to the largest batch seen and is then reused. Parameter
// gradients accumulate in backend memory (backend_parameters);
// copy_gradients_to() brings them to a host mlp's parameter list.

#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "backend_layer_ops.hpp"
#include "backend_parameters.hpp"
#include "kernels/embed_input.hpp"
#include "kernels/silu.hpp"
#include "layer.hpp"
#include "mlp.hpp"

namespace sgm::nn {

template <class Real, class Backend>
class backend_mlp {
public:
    using value_type = Real;
    using backend_type = Backend;
    using vector = typename Backend::vector;
    static_assert(std::is_same_v<Real, typename Backend::value_type>,
                  "backend_mlp: the backend's value type must be the network's");

    explicit backend_mlp(mlp<Real> host, Backend be = Backend{})
        : host_(std::move(host)), params_(host_.parameters(), be), be_(std::move(be)) {
        const mlp_config& c = host_.config();
        const std::size_t half = c.embedding_size / 2;
        log_step_ = c.embedding == embedding_kind::sinusoidal
                        ? std::log(c.max_positions) / static_cast<double>(half - 1)
                        : 0.0;
        std::size_t in = c.data_dim + c.embedding_size;
        for (std::size_t i = 0; i <= c.depth; ++i) {
            const std::size_t out = i < c.depth ? c.hidden : c.data_dim;
            layers_.push_back(layer{in, out, first_layer_tensor() + 2 * i});
            in = out;
        }
    }

    [[nodiscard]] std::size_t input_size() const { return host_.config().data_dim; }
    [[nodiscard]] const mlp_config& config() const { return host_.config(); }
    [[nodiscard]] mlp<Real>& host() { return host_; }
    [[nodiscard]] const Backend& backend() const { return be_; }
    void set_mode(const pass_mode&) {}  // no dropout

    // Copies the host mlp's parameter values to the backend (after loading or
    // changing them there).
    void upload() { params_.upload(host_.parameters()); }
    void zero_grad() { params_.zero_grad(); }
    // Writes the accumulated parameter gradients into a host mlp's grads.
    void copy_gradients_to(const parameter_list<Real>& list) const { params_.copy_gradients_to(list); }
    // Copies the backend values into the host mlp (e.g. before a checkpoint).
    void download() { params_.download(host_.parameters()); }
    // Every tensor in the host list's order (for backend optimizers).
    [[nodiscard]] std::vector<backend_tensor<Real>> tensors() {
        std::vector<backend_tensor<Real>> all;
        params_.append_tensors(all);
        return in_list_order(std::move(all), host_.parameters());
    }

    // y (n × d) from x (n × d) and the conditioning values c (n).
    void forward(const Real* x, const Real* c, Real* y, std::size_t n) {
        const mlp_config& cfg = host_.config();
        const std::size_t d = cfg.data_dim, e = cfg.embedding_size, h = cfg.hidden;
        grow(n);
        be_.for_each_index(n * (d + e), kernels::embed_input<Real>{x, c, fourier() ? params_.value(0) : nullptr,
                                                                     data(input_), d, e, log_step_});
        const Real* in = data(input_);
        for (std::size_t i = 0; i < cfg.depth; ++i) {
            dense_forward(layers_[i], in, data(pre_[i]), n);
            be_.for_each_index(n * h, kernels::silu_forward<Real>{data(pre_[i]), data(post_[i])});
            in = data(post_[i]);
        }
        dense_forward(layers_.back(), in, y, n);
        batch_ = n;
    }

    // dL/dy → dL/dx (skipped when dx is null) and, unless g is input_only,
    // dL/dθ added into the backend's gradient vectors.
    void backward(const Real* dy, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "backend_mlp::backward: batch ", n, " differs from the last forward's ",
                             batch_);
        const mlp_config& cfg = host_.config();
        const std::size_t d = cfg.data_dim, e = cfg.embedding_size, h = cfg.hidden;
        const Real* upstream = dy;
        for (std::size_t i = cfg.depth; i-- > 0;) {
            dense_backward(layers_[i + 1], data(post_[i]), upstream, data(grad_post_), n, g);
            be_.for_each_index(n * h,
                               kernels::silu_backward<Real>{data(pre_[i]), data(grad_post_), data(grad_pre_)});
            upstream = data(grad_pre_);
        }
        if (dx == nullptr) {
            dense_backward(layers_[0], data(input_), upstream, nullptr, n, g);
            return;
        }
        dense_backward(layers_[0], data(input_), upstream, data(grad_input_), n, g);
        be_.for_each_index(n * d, kernels::take_data_columns<Real>{data(grad_input_), dx, d, e});
    }

private:
    struct layer {
        std::size_t in, out;
        std::size_t weight;  // index of its weight in the parameter list; the bias follows
    };

    static Real* data(vector& v) { return Backend::data(v); }
    static const Real* data(const vector& v) { return Backend::data(v); }
    bool fourier() const { return host_.config().embedding == embedding_kind::gaussian_fourier; }
    // The Fourier embedding's frequencies come first in the list when present.
    std::size_t first_layer_tensor() const { return fourier() ? 1 : 0; }

    void dense_forward(const layer& l, const Real* x, Real* y, std::size_t n) const {
        backend_ops::dense_forward(be_, params_, l.weight, l.in, l.out, x, y, n);
    }

    void dense_backward(const layer& l, const Real* x, const Real* dy, Real* dx, std::size_t n, gradients g) {
        backend_ops::dense_backward(be_, params_, l.weight, l.in, l.out, dy, x, dx, n, wants_parameter_grads(g));
    }

    void grow(std::size_t n) {
        if (n <= capacity_) return;
        const mlp_config& cfg = host_.config();
        const std::size_t d = cfg.data_dim, e = cfg.embedding_size, h = cfg.hidden;
        input_ = be_.make_vector(n * (d + e));
        grad_input_ = be_.make_vector(n * (d + e));
        pre_.clear();
        post_.clear();
        for (std::size_t i = 0; i < cfg.depth; ++i) {
            pre_.push_back(be_.make_vector(n * h));
            post_.push_back(be_.make_vector(n * h));
        }
        grad_pre_ = be_.make_vector(n * h);
        grad_post_ = be_.make_vector(n * h);
        capacity_ = n;
    }

    mlp<Real> host_;
    backend_parameters<Backend> params_;
    Backend be_;
    double log_step_ = 0;
    std::vector<layer> layers_;
    vector input_, grad_input_, grad_pre_, grad_post_;
    std::vector<vector> pre_, post_;
    std::size_t capacity_ = 0, batch_ = 0;
};

}  // namespace sgm::nn
