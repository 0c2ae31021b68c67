#pragma once
// sgm::nn::score_network — a trained network as a score model of an SDE.
//
//   s_θ(x, t) = f_θ(x, c(t)) / σ(t)     (divide_by_std, the default)
//   s_θ(x, t) = f_θ(x, c(t))            (otherwise)
//
// c(t) is what the network is told about time: σ(t) for VE and (N−1)·t/T
// (= 999·t at the paper's N = 1000, T = 1) for the others, or log σ(t).
// Dividing by the marginal std σ(t) is NCSNv2's noise-conditioning technique:
// the network then predicts −z, a unit-scale target at every t, and the same
// parameterization is DDPM's ε-prediction up to sign.
//
// It models sgm::score_model and sgm::vjp_score_model, so every sampler and the
// likelihood take it unchanged, on any backend whose memory the network works
// in: host networks (mlp, unet) with serial, oneTBB or Thrust CPP/TBB; a
// backend_mlp with its own backend, CUDA included. Its own per-sample work
// (c(t), 1/σ(t), the division) runs in the backend's loops. For training, forward/backward expose the same map with its
// gradient; the losses in sgm/train use them.

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "../backend/tbb.hpp"
#include "../batch_view.hpp"
#include "../config.hpp"
#include "../error.hpp"
#include "../sde/ve.hpp"
#include "layer.hpp"
#include "network.hpp"

namespace sgm::nn {

enum class time_input {
    automatic,   // σ(t) for ve_sde, scaled_time otherwise
    sigma,       // σ(t) (the marginal std)
    log_sigma,   // log σ(t), as NCSN++ feeds its Fourier features
    scaled_time  // (N − 1)·t/T
};

struct score_network_options {
    time_input conditioning = time_input::automatic;
    bool divide_by_std = true;
};

namespace detail {
template <class SDE>
inline constexpr bool is_ve = false;
template <class Real>
inline constexpr bool is_ve<ve_sde<Real>> = true;

// c(t) and 1/σ(t) per sample, computed where t lives (t may be device memory).
template <class SDE, class value_type>
struct time_values {
    SDE sde;
    time_input kind;
    const value_type* t = nullptr;
    value_type* cond = nullptr;
    value_type* inv_std = nullptr;

    SGM_HOST_DEVICE value_type conditioning(value_type time) const {
        switch (kind) {
            case time_input::sigma: return sde.marginal_std(time);
            case time_input::log_sigma: return std::log(sde.marginal_std(time));
            default: return static_cast<value_type>(sde.steps() - 1) * time / sde.T();
        }
    }
    SGM_HOST_DEVICE void operator()(std::size_t b) const {
        cond[b] = conditioning(t[b]);
        inv_std[b] = value_type(1) / sde.marginal_std(t[b]);
    }
};

// out[b, j] = in[b, j] · factor[b]
template <class value_type>
struct scale_rows {
    const value_type* in;
    value_type* out;
    const value_type* factor;
    std::size_t dim;
    SGM_HOST_DEVICE void operator()(std::size_t i) const { out[i] = in[i] * factor[i / dim]; }
};
}  // namespace detail

template <differentiable_network Net, class SDE, class Backend>
class score_network {
public:
    using backend_type = Backend;
    using value_type = typename Backend::value_type;
    using network_type = Net;
    static_assert(std::is_same_v<value_type, typename Net::value_type>,
                  "score_network: the backend's value type must be the network's");

    score_network(Net net, SDE sde, score_network_options options = {}, Backend be = Backend{})
        : net_(std::move(net)), sde_(sde), options_(options), be_(std::move(be)) {}

    [[nodiscard]] std::size_t dim() const { return net_.input_size(); }
    [[nodiscard]] Net& network() { return net_; }
    [[nodiscard]] const Net& network() const { return net_; }
    [[nodiscard]] const SDE& sde() const { return sde_; }
    [[nodiscard]] const score_network_options& options() const { return options_; }
    [[nodiscard]] const Backend& backend() const { return be_; }

    // The network's conditioning input for time t.
    [[nodiscard]] value_type conditioning(value_type t) const { return detail::time_values<SDE, value_type>{sde_, kind()}.conditioning(t); }

    // Training pass: score (n × D) of x at times t; keeps what backward needs.
    void forward(const value_type* x, const value_type* t, value_type* score, std::size_t n) {
        prepare(t, n);
        net_.forward(x, Backend::data(cond_), score, n);
        if (options_.divide_by_std)
            be_.for_each_index(n * dim(), detail::scale_rows<value_type>{score, score, Backend::data(inv_std_), dim()});
        batch_ = n;
    }

    // dL/dscore → dL/dx (when dx is not null) and, unless g is input_only, dL/dθ
    // added into the network's parameter grads.
    void backward(const value_type* dscore, value_type* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "score_network::backward: batch ", n, " differs from the forward's ",
                             batch_);
        const value_type* upstream = dscore;
        if (options_.divide_by_std) {
            if (scaled_.size() < n * dim()) scaled_ = be_.make_vector(n * dim());
            be_.for_each_index(n * dim(),
                               detail::scale_rows<value_type>{dscore, Backend::data(scaled_), Backend::data(inv_std_), dim()});
            upstream = Backend::data(scaled_);
        }
        net_.backward(upstream, dx, n, g);
    }

    // sgm::score_model
    void score(batch_view<const value_type> x, const value_type* t, batch_view<value_type> out) {
        check_shape(x, out, "score");
        net_.set_mode(pass_mode{});
        forward(x.data, t, out.data, x.size);
    }

    // sgm::vjp_score_model: score and vᵀ ∂s/∂x per sample.
    void score_vjp(batch_view<const value_type> x, const value_type* t, batch_view<const value_type> v,
                   batch_view<value_type> score_out, batch_view<value_type> vjp) {
        check_shape(x, score_out, "score_vjp");
        check_shape(x, vjp, "score_vjp");
        net_.set_mode(pass_mode{});
        forward(x.data, t, score_out.data, x.size);
        backward(v.data, vjp.data, x.size, gradients::input_only);
    }

private:
    [[nodiscard]] time_input kind() const {
        if (options_.conditioning != time_input::automatic) return options_.conditioning;
        return detail::is_ve<SDE> ? time_input::sigma : time_input::scaled_time;
    }

    void prepare(const value_type* t, std::size_t n) {
        if (cond_.size() < n) {
            cond_ = be_.make_vector(n);
            inv_std_ = be_.make_vector(n);
        }
        be_.for_each_index(n, detail::time_values<SDE, value_type>{sde_, kind(), t, Backend::data(cond_), Backend::data(inv_std_)});
    }

    template <class In, class Out>
    void check_shape(const In& x, const Out& out, const char* what) const {
        sgm::detail::require(x.dim == dim(), "score_network::", what, ": samples have ", x.dim,
                             " values, the network takes ", dim());
        sgm::detail::require(out.size == x.size && out.dim == x.dim, "score_network::", what, ": output is ",
                             out.size, " × ", out.dim, ", expected ", x.size, " × ", x.dim);
    }

    Net net_;
    SDE sde_;
    score_network_options options_;
    Backend be_;
    typename Backend::vector cond_, inv_std_, scaled_;
    std::size_t batch_ = 0;
};

// Without a backend argument the samplers' loops run on oneTBB (the network's own
// threads are its cpu_context's).
template <network Net, class SDE>
score_network(Net, SDE) -> score_network<Net, SDE, tbb_backend<typename Net::value_type>>;
template <network Net, class SDE>
score_network(Net, SDE, score_network_options) -> score_network<Net, SDE, tbb_backend<typename Net::value_type>>;
template <differentiable_network Net, class SDE, class Backend>
score_network(Net, SDE, score_network_options, Backend) -> score_network<Net, SDE, Backend>;

}  // namespace sgm::nn
