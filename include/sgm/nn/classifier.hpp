#pragma once
// A small convolutional image classifier, for measuring sample quality (its
// penultimate activations are the features of the Fréchet distance) and, when
// time-conditioned, for classifier guidance on noisy inputs x(t).
//
//   conv_in (3×3)                                    channels → base
//   → per level ℓ: blocks × [GN → SiLU → conv 3×3]   → base · multipliers[ℓ]
//                  then, below the last level, [GN → SiLU → conv 3×3 stride 2]
//   → GN → SiLU → global average pool
//   → dense(feature_size) → SiLU                     = the features
//   → dense(classes)                                 = the logits
//
// Time conditioning (optional): e = SiLU(dense(embedding(time_scale · t))) and,
// after every convolution, a per-channel shift dense(e) — the way the U-Net's
// residual blocks take time. Time is never differentiated.
//
// The defaults (base 32, multipliers 1,2,2, one block per level, 128 features)
// give 121,354 parameters at 28×28; each stride-2 convolution halves the size
// (rounding up).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"
#include "conv2d.hpp"
#include "cpu_context.hpp"
#include "dense.hpp"
#include "group_norm.hpp"
#include "init.hpp"
#include "layer.hpp"
#include "parameter.hpp"
#include "residual_block.hpp"
#include "silu.hpp"
#include "time_embedding.hpp"

namespace sgm::nn {

struct classifier_config {
    std::size_t channels = 1, height = 28, width = 28;
    std::size_t base_channels = 32;
    std::vector<std::size_t> multipliers{1, 2, 2};  // channels per level = base · multiplier
    std::size_t blocks_per_level = 1;
    std::size_t feature_size = 128;
    std::size_t classes = 10;
    bool time_conditioned = false;
    embedding_kind embedding = embedding_kind::sinusoidal;  // of time_scale · t, embedding_size values
    std::size_t embedding_size = 32;
    double time_scale = 999.0;    // the embedding sees time_scale · t (DDPM's 999·t for t ∈ [0, 1])
    double fourier_scale = 16.0;  // for embedding_kind::gaussian_fourier
    std::uint64_t seed = 0;
};

template <class Real>
class classifier {
public:
    using value_type = Real;

    explicit classifier(classifier_config config, cpu_context ctx = cpu_context{})
        : config_(std::move(config)), ctx_(std::move(ctx)) {
        build();
        initialize(parameters(), config_.seed);
    }

    [[nodiscard]] std::size_t input_size() const { return config_.channels * config_.height * config_.width; }
    [[nodiscard]] std::size_t feature_size() const { return config_.feature_size; }
    [[nodiscard]] std::size_t classes() const { return config_.classes; }
    [[nodiscard]] bool time_conditioned() const { return config_.time_conditioned; }
    [[nodiscard]] const classifier_config& config() const { return config_; }
    void set_mode(const pass_mode&) {}  // no dropout
    void set_context(cpu_context ctx) { ctx_ = std::move(ctx); }

    [[nodiscard]] parameter_list<Real> parameters() {
        parameter_list<Real> list;
        if (config_.time_conditioned) {
            embedding_->collect(list, "time.embedding");
            embed0_->collect(list, "time.dense0");
        }
        conv_in_.collect(list, "conv_in");
        if (in_shift_) in_shift_->collect(list, "conv_in_embed");
        for (std::size_t i = 0; i < stages_.size(); ++i) {
            const std::string p = "stages." + std::to_string(i);
            stages_[i].norm.collect(list, p + ".norm");
            stages_[i].conv.collect(list, p + ".conv");
            if (stages_[i].shift) stages_[i].shift->collect(list, p + ".embed");
        }
        norm_out_.collect(list, "norm_out");
        feature_.collect(list, "feature");
        logits_.collect(list, "logits");
        return list;
    }

    // x: n × input_size; t: n times (ignored, may be null, unless time-conditioned);
    // logits: n × classes. Keeps x, t and the activations for backward.
    void forward(const Real* x, const Real* t, Real* logits, std::size_t n) {
        sgm::detail::require(!config_.time_conditioned || t != nullptr || n == 0,
                             "classifier::forward: the classifier is time-conditioned; pass one time per sample");
        grow(n);
        if (config_.time_conditioned) {
            for (std::size_t b = 0; b < n; ++b) scaled_t_[b] = static_cast<Real>(config_.time_scale) * t[b];
            embedding_->forward(scaled_t_.data(), emb_sin_.data(), n);
            embed0_->forward(ctx_, emb_sin_.data(), emb_h_.data(), n);
            emb_act_.forward(ctx_, emb_h_.data(), emb_.data(), n * embed_size());
        }
        conv_in_.forward(ctx_, x, conv_in_out_.data(), n);
        if (in_shift_) add_shift(*in_shift_, conv_in_out_.data(), in_shift_out_.data(), conv_in_.output_size(), n);
        const Real* h = conv_in_out_.data();
        for (auto& s : stages_) {
            s.norm.forward(ctx_, h, s.normed.data(), n);
            s.act.forward(ctx_, s.normed.data(), s.activated.data(), n * s.in_size);
            s.conv.forward(ctx_, s.activated.data(), s.out.data(), n);
            if (s.shift) add_shift(*s.shift, s.out.data(), s.shifted.data(), s.conv.output_size(), n);
            h = s.out.data();
        }
        norm_out_.forward(ctx_, h, norm_out_y_.data(), n);
        act_out_.forward(ctx_, norm_out_y_.data(), act_out_y_.data(), n * top_size_);
        const std::size_t c = top_channels_, hw = top_size_ / top_channels_;
        for (std::size_t i = 0; i < n * c; ++i) {
            const Real* p = act_out_y_.data() + i * hw;
            Real acc = 0;
            for (std::size_t k = 0; k < hw; ++k) acc += p[k];
            pooled_[i] = acc / static_cast<Real>(hw);
        }
        feature_.forward(ctx_, pooled_.data(), feature_pre_.data(), n);
        feature_act_.forward(ctx_, feature_pre_.data(), features_.data(), n * config_.feature_size);
        logits_.forward(ctx_, features_.data(), logits, n);
        batch_ = n;
    }
    void forward(const Real* x, Real* logits, std::size_t n) { forward(x, nullptr, logits, n); }

    // The penultimate activations of the last forward: n × feature_size values.
    [[nodiscard]] std::span<const Real> features() const {
        return std::span<const Real>(features_.data(), batch_ * config_.feature_size);
    }

    // dL/dlogits → dL/dx (skipped when dx is null) and, unless g == input_only,
    // dL/dθ added into the parameters' grad — for the x and t of the last forward.
    void backward(const Real* dlogits, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "classifier::backward: batch ", n, " differs from the last forward's ",
                             batch_);
        const bool time = config_.time_conditioned && wants_parameter_grads(g);
        if (time) std::fill(demb_.begin(), demb_.begin() + static_cast<std::ptrdiff_t>(n * embed_size()), Real(0));
        logits_.backward(ctx_, dlogits, dfeature_.data(), n, g);
        feature_act_.backward(ctx_, dfeature_.data(), dfeature_pre_.data(), n * config_.feature_size);
        feature_.backward(ctx_, dfeature_pre_.data(), dpooled_.data(), n, g);
        const std::size_t c = top_channels_, hw = top_size_ / top_channels_;
        for (std::size_t i = 0; i < n * c; ++i) {
            const Real v = dpooled_[i] / static_cast<Real>(hw);
            std::fill_n(dtop_a_.data() + i * hw, hw, v);
        }
        act_out_.backward(ctx_, dtop_a_.data(), dtop_b_.data(), n * top_size_);
        norm_out_.backward(ctx_, dtop_b_.data(), grad_a_.data(), n, g);
        // grad_a_ holds dL/d(output of the current stage); grad_b_ is scratch.
        for (std::size_t i = stages_.size(); i-- > 0;) {
            auto& s = stages_[i];
            if (s.shift && time) shift_backward(*s.shift, grad_a_.data(), s.conv.output_size(), n, g);
            s.conv.backward(ctx_, grad_a_.data(), grad_b_.data(), n, g);
            s.act.backward(ctx_, grad_b_.data(), grad_a_.data(), n * s.in_size);
            s.norm.backward(ctx_, grad_a_.data(), grad_b_.data(), n, g);
            std::swap(grad_a_, grad_b_);
        }
        if (in_shift_ && time) shift_backward(*in_shift_, grad_a_.data(), conv_in_.output_size(), n, g);
        conv_in_.backward(ctx_, grad_a_.data(), dx, n, g);
        if (time) {
            emb_act_.backward(ctx_, demb_.data(), demb_h_.data(), n * embed_size());
            embed0_->backward(ctx_, demb_h_.data(), nullptr, n, g);
        }
    }

private:
    // GN → SiLU → conv (stride 1 or 2), with an optional per-channel time shift.
    struct stage {
        group_norm<Real> norm;
        silu<Real> act;
        conv2d<Real> conv;
        std::optional<dense<Real>> shift;
        std::size_t in_size = 0;
        std::vector<Real> normed, activated, out, shifted;
    };

    [[nodiscard]] std::size_t embed_size() const { return 4 * config_.base_channels; }

    void build() {
        const auto& c = config_;
        sgm::detail::require(c.channels > 0 && c.height > 0 && c.width > 0, "classifier: image shape ", c.channels,
                             "×", c.height, "×", c.width, " must be positive");
        sgm::detail::require(!c.multipliers.empty() && c.base_channels >= 4, "classifier: needs at least one level ",
                             "and base_channels ≥ 4 (got ", c.base_channels, ")");
        for (const std::size_t m : c.multipliers)
            sgm::detail::require(m > 0, "classifier: channel multipliers must be positive");
        sgm::detail::require(c.feature_size > 0 && c.classes >= 2, "classifier: feature_size ", c.feature_size,
                             " must be positive and classes ", c.classes, " at least 2");
        if (c.time_conditioned) {
            sgm::detail::require(std::isfinite(c.time_scale) && c.time_scale > 0, "classifier: time_scale ",
                                 c.time_scale, " must be positive");
            embedding_.emplace(c.embedding, c.embedding_size,
                               c.embedding == embedding_kind::sinusoidal ? 10000.0 : c.fourier_scale);
            embed0_.emplace(c.embedding_size, embed_size());
        }
        conv_in_ = conv2d<Real>({c.channels, c.base_channels, c.height, c.width, 3, 1, 1});
        if (c.time_conditioned) in_shift_.emplace(embed_size(), c.base_channels);
        std::size_t ch = c.base_channels, h = c.height, w = c.width;
        auto add_stage = [&](std::size_t out, std::size_t stride) {
            stages_.push_back(stage{group_norm<Real>(ch, default_groups(ch), h * w), silu<Real>{},
                                    conv2d<Real>({ch, out, h, w, 3, stride, 1}), std::nullopt, ch * h * w, {}, {}, {},
                                    {}});
            if (c.time_conditioned) stages_.back().shift.emplace(embed_size(), out);
            h = stages_.back().conv.output_height();
            w = stages_.back().conv.output_width();
            ch = out;
        };
        for (std::size_t level = 0; level < c.multipliers.size(); ++level) {
            for (std::size_t b = 0; b < c.blocks_per_level; ++b) add_stage(c.base_channels * c.multipliers[level], 1);
            if (level + 1 < c.multipliers.size()) add_stage(ch, 2);
        }
        norm_out_ = group_norm<Real>(ch, default_groups(ch), h * w);
        top_channels_ = ch;
        top_size_ = ch * h * w;
        feature_ = dense<Real>(ch, c.feature_size);
        logits_ = dense<Real>(c.feature_size, c.classes);
    }

    // y[b, c, ·] += shift(e)[b, c]; `scratch` holds the n × channels shifts.
    void add_shift(dense<Real>& shift, Real* y, Real* scratch, std::size_t size, std::size_t n) {
        const std::size_t ch = shift.output_size(), hw = size / ch;
        shift.forward(ctx_, emb_.data(), scratch, n);
        for (std::size_t i = 0; i < n * ch; ++i) {
            Real* row = y + i * hw;
            const Real v = scratch[i];
            for (std::size_t p = 0; p < hw; ++p) row[p] += v;
        }
    }

    // dL/d(shift) = Σ over pixels of dy, per sample and channel; adds dL/de into demb_.
    void shift_backward(dense<Real>& shift, const Real* dy, std::size_t size, std::size_t n, gradients g) {
        const std::size_t ch = shift.output_size(), hw = size / ch;
        for (std::size_t i = 0; i < n * ch; ++i) {
            const Real* row = dy + i * hw;
            Real acc = 0;
            for (std::size_t p = 0; p < hw; ++p) acc += row[p];
            dshift_[i] = acc;
        }
        shift.backward(ctx_, dshift_.data(), demb_local_.data(), n, g);
        for (std::size_t i = 0; i < n * embed_size(); ++i) demb_[i] += demb_local_[i];
    }

    void grow(std::size_t n) {
        if (n <= capacity_) return;
        const std::size_t e = embed_size(), c0 = conv_in_.output_size();
        if (config_.time_conditioned) {
            scaled_t_.resize(n);
            emb_sin_.resize(n * config_.embedding_size);
            for (auto* v : {&emb_h_, &emb_, &demb_, &demb_h_, &demb_local_}) v->resize(n * e);
            in_shift_out_.resize(n * config_.base_channels);
        }
        conv_in_out_.resize(n * c0);
        std::size_t largest = c0, widest = config_.base_channels;
        for (auto& s : stages_) {
            s.normed.resize(n * s.in_size);
            s.activated.resize(n * s.in_size);
            s.out.resize(n * s.conv.output_size());
            if (s.shift) s.shifted.resize(n * s.conv.shape().out_channels);
            largest = std::max({largest, s.in_size, s.conv.output_size()});
            widest = std::max(widest, s.conv.shape().out_channels);
        }
        for (auto* v : {&norm_out_y_, &act_out_y_, &dtop_a_, &dtop_b_}) v->resize(n * top_size_);
        grad_a_.resize(n * largest);
        grad_b_.resize(n * largest);
        dshift_.resize(n * widest);
        pooled_.resize(n * top_channels_);
        dpooled_.resize(n * top_channels_);
        for (auto* v : {&feature_pre_, &features_, &dfeature_, &dfeature_pre_}) v->resize(n * config_.feature_size);
        capacity_ = n;
    }

    classifier_config config_;
    cpu_context ctx_;
    std::optional<time_embedding<Real>> embedding_;
    std::optional<dense<Real>> embed0_, in_shift_;
    silu<Real> emb_act_, act_out_, feature_act_;
    conv2d<Real> conv_in_{conv2d_shape{1, 1, 1, 1, 1, 1, 0}};
    std::vector<stage> stages_;
    group_norm<Real> norm_out_{1, 1, 1};
    dense<Real> feature_{1, 1}, logits_{1, 1};
    std::size_t top_channels_ = 0, top_size_ = 0;

    std::vector<Real> scaled_t_, emb_sin_, emb_h_, emb_, demb_, demb_h_, demb_local_, in_shift_out_;
    std::vector<Real> conv_in_out_, norm_out_y_, act_out_y_, dtop_a_, dtop_b_, grad_a_, grad_b_, dshift_;
    std::vector<Real> pooled_, dpooled_, feature_pre_, features_, dfeature_, dfeature_pre_;
    std::size_t capacity_ = 0, batch_ = 0;
};

}  // namespace sgm::nn
