#pragma once
// sgm::nn::backend_unet — the U-Net score network (unet.hpp) with its weights,
// activations and every loop on a backend: serial or oneTBB on the CPU, Thrust
// on the CPU or on a CUDA GPU. Built from a host unet, so it takes the same
// checkpoints (load them into the host unet, then construct, or upload()):
//
//   sgm::nn::unet<float> host(config);
//   sgm::train::load_weights("model.safetensors", host.parameters());
//   using gpu = sgm::thrust_backend<float, sgm::thrust_cuda>;
//   sgm::nn::score_network model(sgm::nn::backend_unet<gpu>(std::move(host)), sde,
//                                sgm::nn::score_network_options{}, gpu{});
//
// It models sgm::nn::differentiable_network: forward, and backward with the
// input gradient (likelihoods, guidance) and parameter gradients (accumulated
// in backend memory; copy_gradients_to() brings them to a host list), with
// dropout in training mode. tensors() gives the weights to backend optimizers
// (train/backend_adam.hpp), download() brings them back to the host unet.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "backend_layer_ops.hpp"
#include "backend_parameters.hpp"
#include "backend_residual_block.hpp"
#include "backend_self_attention.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/embed_input.hpp"
#include "kernels/silu.hpp"
#include "kernels/upsample.hpp"
#include "layer.hpp"
#include "unet.hpp"

namespace sgm::nn {

template <class Backend>
class backend_unet {
public:
    using value_type = typename Backend::value_type;
    using backend_type = Backend;
    using Real = value_type;
    using vector = typename Backend::vector;

    explicit backend_unet(unet<Real> host, Backend be = Backend{})
        : host_(std::move(host)), be_(std::move(be)), loose_(loose_tensors(), be_) {
        build();
    }

    [[nodiscard]] std::size_t input_size() const { return host_.input_size(); }
    [[nodiscard]] const unet_config& config() const { return host_.config(); }
    [[nodiscard]] unet<Real>& host() { return host_; }

    // Training mode turns on the residual blocks' dropout (masks as the host unet's).
    void set_mode(const pass_mode& mode) {
        for (auto* stages : {&down_, &middle_, &up_})
            for (auto& s : *stages)
                if (s.block) s.block->set_mode(mode);
    }

    // Copies the host unet's parameter values to the backend again.
    void upload() {
        const auto list = host_.parameters();
        loose_.upload(list);
        for_each_block([&](auto& params) { params.upload(list); });
    }
    void zero_grad() {
        loose_.zero_grad();
        for_each_block([](auto& params) { params.zero_grad(); });
    }
    // Writes the accumulated gradients into a host unet's parameter list.
    void copy_gradients_to(const parameter_list<Real>& list) {
        loose_.copy_gradients_to(list);
        for_each_block([&](auto& params) { params.copy_gradients_to(list); });
    }
    // Copies the backend values into the host unet (e.g. before a checkpoint).
    void download() {
        const auto list = host_.parameters();
        loose_.download(list);
        for_each_block([&](auto& params) { params.download(list); });
    }
    // Every tensor in the host list's order (for backend optimizers).
    [[nodiscard]] std::vector<backend_tensor<Real>> tensors() {
        std::vector<backend_tensor<Real>> all;
        loose_.append_tensors(all);
        for_each_block([&](auto& params) { params.append_tensors(all); });
        return in_list_order(std::move(all), host_.parameters());
    }

    // y (n × C·H·W) from x and the conditioning values c (n), all in backend memory.
    void forward(const Real* x, const Real* c, Real* y, std::size_t n) {
        grow(n);
        input_ = x;
        const std::size_t e0 = host_.config().base_channels, e = host_.embed_size();
        // Time embedding, then SiLU once: every block takes SiLU(e).
        be_.for_each_index(n * e0, kernels::embed_input<Real>{nullptr, c, fourier() ? loose_.value(0) : nullptr,
                                                              d(emb_sin_), 0, e0, log_step_});
        backend_ops::dense_forward(be_, loose_, dense0_, e0, e, d(emb_sin_), d(emb_h_), n);
        be_.for_each_index(n * e, kernels::silu_forward<Real>{d(emb_h_), d(emb_h_act_)});
        backend_ops::dense_forward(be_, loose_, dense1_, e, e, d(emb_h_act_), d(emb_), n);
        be_.for_each_index(n * e, kernels::silu_forward<Real>{d(emb_), d(emb_block_)});

        backend_ops::conv_forward(be_, loose_, conv_in_, conv_in_geometry_, x, d(conv_in_out_), n);
        const Real* h = d(conv_in_out_);
        for (auto& s : down_) h = forward_stage(s, h, nullptr, n);
        for (auto& s : middle_) h = forward_stage(s, h, nullptr, n);
        // Skip sources: conv_in, then every down stage; the up path takes them last-first.
        skips_.clear();
        skips_.push_back(d(conv_in_out_));
        for (auto& s : down_) skips_.push_back(d(s.out));
        std::size_t skip = skips_.size();
        for (auto& s : up_) h = forward_stage(s, h, s.skip_size > 0 ? skips_[--skip] : nullptr, n);
        last_ = h;
        backend_ops::norm_forward(be_, loose_, norm_out_, norm_out_geometry_, h, d(norm_stats_), d(norm_out_y_), n);
        be_.for_each_index(n * norm_out_size(), kernels::silu_forward<Real>{d(norm_out_y_), d(act_out_y_)});
        backend_ops::conv_forward(be_, loose_, conv_out_, conv_out_geometry_, d(act_out_y_), y, n);
        batch_ = n;
    }

    void backward(const Real* dy, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "backend_unet::backward: batch ", n, " differs from the last forward's ",
                             batch_);
        const bool params = wants_parameter_grads(g);
        const std::size_t e = host_.embed_size();
        be_.for_each_index(n * e, kernels::zero_fill<Real>{d(demb_block_)});
        backend_ops::conv_backward(be_, loose_, conv_out_, conv_out_geometry_, dy, d(act_out_y_), d(dtop_a_), n,
                                   params);
        be_.for_each_index(n * norm_out_size(), kernels::silu_backward<Real>{d(norm_out_y_), d(dtop_a_), d(dtop_b_)});
        backend_ops::norm_backward(be_, loose_, norm_out_, norm_out_geometry_, last_, d(dtop_b_), d(norm_stats_),
                                   d(norm_sums_), d(dtop_a_), n, params);
        Real* grad = d(dtop_a_);  // dL/d(output of the last stage)
        // Each skip source's gradient buffer is written by the one up stage it feeds.
        skip_grads_.clear();
        skip_grads_.push_back(d(conv_in_skip_grad_));
        for (auto& s : down_) skip_grads_.push_back(d(s.skip_grad));
        std::size_t skip = 0;  // backward meets the up stages' skips first-first
        for (std::size_t i = up_.size(); i-- > 0;)
            grad = backward_stage(up_[i], grad, up_[i].skip_size > 0 ? skip_grads_[skip++] : nullptr, n, g);
        for (std::size_t i = middle_.size(); i-- > 0;) grad = backward_stage(middle_[i], grad, nullptr, n, g);
        for (std::size_t i = down_.size(); i-- > 0;) grad = backward_stage(down_[i], grad, nullptr, n, g);
        // conv_in's output is also the first skip.
        const std::size_t first = n * conv_in_geometry_.out_channels * conv_in_geometry_.height * conv_in_geometry_.width;
        be_.for_each_index(first, kernels::scale_add<Real>{grad, d(conv_in_skip_grad_), grad, Real(1)});
        backend_ops::conv_backward(be_, loose_, conv_in_, conv_in_geometry_, grad, input_, dx, n, params);
        if (!params) return;
        // The time-embedding MLP (time is never differentiated: parameters only).
        const std::size_t e0 = host_.config().base_channels;
        be_.for_each_index(n * e, kernels::silu_backward<Real>{d(emb_), d(demb_block_), d(demb_)});
        backend_ops::dense_backward(be_, loose_, dense1_, e, e, d(demb_), d(emb_h_act_), d(demb_h_), n, true);
        be_.for_each_index(n * e, kernels::silu_backward<Real>{d(emb_h_), d(demb_h_), d(demb_)});
        backend_ops::dense_backward(be_, loose_, dense0_, e0, e, d(demb_), d(emb_sin_), static_cast<Real*>(nullptr),
                                    n, true);
    }

private:
    using host_stage = typename unet<Real>::stage;
    using kind = typename host_stage::kind;

    // One U-Net step (see unet::stage): optional skip concatenation, then a
    // residual block (+ attention), a stride-2 convolution, or upsample + conv.
    struct stage {
        kind type = kind::block;
        std::size_t in_size = 0, skip_size = 0, out_size = 0;
        std::optional<backend_residual_block<Backend>> block;
        std::optional<backend_self_attention<Backend>> attention;
        kernels::conv_geometry conv{};
        std::size_t conv_weight = 0;         // in loose_
        std::size_t up_height = 0, up_width = 0;  // upsample input plane
        bool is_skip_source = false;
        const Real* input = nullptr;
        vector concat, mid, out, dconcat, dmid, skip_grad;
    };

    static Real* d(vector& v) { return Backend::data(v); }
    [[nodiscard]] bool fourier() const {
        return host_.config().embedding == embedding_kind::gaussian_fourier;
    }
    [[nodiscard]] std::size_t norm_out_size() const {
        return norm_out_geometry_.channels * norm_out_geometry_.spatial;
    }
    static kernels::conv_geometry geometry(const conv2d<Real>& conv) {
        const conv2d_shape& s = conv.shape();
        return {s.in_channels, s.out_channels, s.height, s.width, s.kernel, s.stride, s.padding};
    }

    // The tensors outside the blocks, in a fixed order; build() records where each sits.
    parameter_list<Real> loose_tensors() {
        parameter_list<Real> list;
        host_.time_embedding_layer().collect(list, "time.embedding");
        host_.time_dense0().collect(list, "time.dense0");
        host_.time_dense1().collect(list, "time.dense1");
        host_.conv_in().collect(list, "conv_in");
        for (std::size_t i = 0; i < host_.down_stages().size(); ++i)
            if (auto& s = host_.down_stages()[i]; s.conv) s.conv->collect(list, "down." + std::to_string(i) + ".conv");
        for (std::size_t i = 0; i < host_.up_stages().size(); ++i)
            if (auto& s = host_.up_stages()[i]; s.conv) s.conv->collect(list, "up." + std::to_string(i) + ".conv");
        host_.norm_out().collect(list, "norm_out");
        host_.conv_out().collect(list, "conv_out");
        return list;
    }

    void build() {
        std::size_t next = fourier() ? 1 : 0;  // walks loose_tensors()'s order
        dense0_ = next;
        dense1_ = next + 2;
        conv_in_ = next + 4;
        next += 6;
        conv_in_geometry_ = geometry(host_.conv_in());
        const std::size_t half = host_.config().base_channels / 2;
        log_step_ = fourier() ? 0.0 : std::log(10000.0) / static_cast<double>(half - 1);
        const auto mirror = [&](host_stage& h, const std::string& name, bool with_conv) {
            stage s;
            s.type = h.type;
            s.in_size = h.in_size;
            s.skip_size = h.skip_size;
            s.out_size = h.out_size;
            s.is_skip_source = h.is_skip_source;
            if (h.block) s.block.emplace(*h.block, name + ".block", be_);
            if (h.attention) s.attention.emplace(*h.attention, name + ".attention", be_);
            if (h.conv && with_conv) {
                s.conv = geometry(*h.conv);
                s.conv_weight = next;
                next += 2;
            }
            if (h.upsample) {
                s.up_height = h.upsample->output_height() / 2;
                s.up_width = h.upsample->output_width() / 2;
            }
            return s;
        };
        for (std::size_t i = 0; i < host_.down_stages().size(); ++i)
            down_.push_back(mirror(host_.down_stages()[i], "down." + std::to_string(i), true));
        for (std::size_t i = 0; i < host_.middle_stages().size(); ++i)
            middle_.push_back(mirror(host_.middle_stages()[i], "middle." + std::to_string(i), false));
        for (std::size_t i = 0; i < host_.up_stages().size(); ++i)
            up_.push_back(mirror(host_.up_stages()[i], "up." + std::to_string(i), true));
        norm_out_ = next;
        conv_out_ = next + 2;
        const group_norm<Real>& norm = host_.norm_out();
        norm_out_geometry_ = {norm.channels(), norm.groups(), norm.input_size() / norm.channels()};
        conv_out_geometry_ = geometry(host_.conv_out());
    }

    template <class F>
    void for_each_block(F&& f) {
        for (auto* stages : {&down_, &middle_, &up_})
            for (auto& s : *stages) {
                if (s.block) f(s.block->parameters());
                if (s.attention) f(s.attention->parameters());
            }
    }

    void grow(std::size_t n) {
        if (n <= capacity_) return;
        const std::size_t e = host_.embed_size(), e0 = host_.config().base_channels;
        const std::size_t first = conv_in_geometry_.out_channels * conv_in_geometry_.height * conv_in_geometry_.width;
        emb_sin_ = be_.make_vector(n * e0);
        for (auto* v : {&emb_h_, &emb_h_act_, &emb_, &emb_block_, &demb_block_, &demb_, &demb_h_})
            *v = be_.make_vector(n * e);
        conv_in_out_ = be_.make_vector(n * first);
        conv_in_skip_grad_ = be_.make_vector(n * first);
        for (auto* v : {&norm_out_y_, &act_out_y_, &dtop_a_, &dtop_b_}) *v = be_.make_vector(n * norm_out_size());
        norm_stats_ = be_.make_vector(2 * n * norm_out_geometry_.groups);
        norm_sums_ = be_.make_vector(2 * n * norm_out_geometry_.channels);
        for (auto* stages : {&down_, &middle_, &up_})
            for (auto& s : *stages) {
                const std::size_t joined = s.in_size + s.skip_size;
                s.out = be_.make_vector(n * s.out_size);
                s.mid = be_.make_vector(n * s.out_size);
                s.dmid = be_.make_vector(n * std::max(s.out_size, joined));
                s.dconcat = be_.make_vector(n * joined);
                if (s.skip_size > 0) s.concat = be_.make_vector(n * joined);
                if (s.is_skip_source) s.skip_grad = be_.make_vector(n * s.out_size);
            }
        capacity_ = n;
    }

    const Real* forward_stage(stage& s, const Real* h, const Real* skip, std::size_t n) {
        const Real* input = h;
        if (s.skip_size > 0) {
            be_.for_each_index(n * (s.in_size + s.skip_size),
                               kernels::concat_samples<Real>{h, skip, d(s.concat), s.in_size, s.skip_size});
            input = d(s.concat);
        }
        s.input = input;
        switch (s.type) {
            case kind::block:
                if (s.attention) {
                    s.block->forward(input, d(emb_block_), d(s.mid), n);
                    s.attention->forward(d(s.mid), d(s.out), n);
                } else {
                    s.block->forward(input, d(emb_block_), d(s.out), n);
                }
                break;
            case kind::down: backend_ops::conv_forward(be_, loose_, s.conv_weight, s.conv, input, d(s.out), n); break;
            case kind::up:
                be_.for_each_index(n * s.out_size,
                                   kernels::upsample_forward<Real>{input, d(s.mid), s.up_height, s.up_width});
                backend_ops::conv_forward(be_, loose_, s.conv_weight, s.conv, d(s.mid), d(s.out), n);
                break;
        }
        return d(s.out);
    }

    // grad: dL/d(stage output), overwritten as scratch. Adds the skip gradient
    // for skip sources, splits it off for concatenating stages. Returns dL/d(the
    // stage's input from the main path).
    Real* backward_stage(stage& s, Real* grad, Real* skip_grad_out, std::size_t n, gradients g) {
        const bool params = wants_parameter_grads(g);
        if (s.is_skip_source)
            be_.for_each_index(n * s.out_size, kernels::scale_add<Real>{grad, d(s.skip_grad), grad, Real(1)});
        Real* din = d(s.dconcat);
        switch (s.type) {
            case kind::block:
                if (s.attention) {
                    s.attention->backward(grad, d(s.dmid), n, g);
                    s.block->backward(d(s.dmid), din, d(demb_block_), n, g);
                } else {
                    s.block->backward(grad, din, d(demb_block_), n, g);
                }
                break;
            case kind::down:
                backend_ops::conv_backward(be_, loose_, s.conv_weight, s.conv, grad, s.input, din, n, params);
                break;
            case kind::up:
                backend_ops::conv_backward(be_, loose_, s.conv_weight, s.conv, grad, d(s.mid), d(s.dmid), n, params);
                be_.for_each_index(n * s.in_size,
                                   kernels::upsample_backward<Real>{d(s.dmid), din, s.up_height, s.up_width});
                break;
        }
        if (s.skip_size == 0) return din;
        // Split [main | skip]: the skip part goes to its source, the main part on.
        be_.for_each_index(n * (s.in_size + s.skip_size),
                           kernels::split_samples<Real>{din, d(s.dmid), skip_grad_out, s.in_size, s.skip_size});
        return d(s.dmid);
    }

    unet<Real> host_;
    Backend be_;
    backend_parameters<Backend> loose_;
    std::size_t dense0_ = 0, dense1_ = 0, conv_in_ = 0, norm_out_ = 0, conv_out_ = 0;  // indices in loose_
    kernels::conv_geometry conv_in_geometry_{}, conv_out_geometry_{};
    kernels::norm_geometry norm_out_geometry_{};
    double log_step_ = 0;
    std::vector<stage> down_, middle_, up_;
    vector emb_sin_, emb_h_, emb_h_act_, emb_, emb_block_, demb_block_, demb_, demb_h_;
    vector conv_in_out_, conv_in_skip_grad_, norm_out_y_, act_out_y_, dtop_a_, dtop_b_, norm_stats_, norm_sums_;
    std::vector<const Real*> skips_;  // rebuilt every pass (keeps its capacity)
    std::vector<Real*> skip_grads_;
    const Real* input_ = nullptr;
    const Real* last_ = nullptr;
    std::size_t capacity_ = 0, batch_ = 0;
};

}  // namespace sgm::nn
