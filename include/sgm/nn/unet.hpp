#pragma once
// A small U-Net score network for images, after the paper's DDPM++ (NCSN++
// without its progressive paths): residual blocks with a time embedding,
// self-attention at chosen resolutions, stride-2 convolutions down, nearest
// upsampling + 3×3 convolution up, and skip connections concatenated on the way up.
//
//   conv_in → [level ℓ: blocks × (resblock [+ attention]), down]  (skips saved)
//           → middle: resblock, attention, resblock
//           → [level ℓ reversed: (blocks + 1) × (concat skip → resblock [+ attention]), up]
//           → GN → SiLU → conv_out
//
// The defaults (base 32, multipliers 1,2,2, two blocks, attention at 7×7) give
// 1,623,169 parameters at 28×28.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
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
#include "self_attention.hpp"
#include "silu.hpp"
#include "time_embedding.hpp"
#include "upsample.hpp"

namespace sgm::nn {

struct unet_config {
    std::size_t channels = 1, height = 28, width = 28;
    std::size_t base_channels = 32;
    std::vector<std::size_t> multipliers{1, 2, 2};  // channels per level = base · multiplier
    std::size_t blocks_per_level = 2;
    std::vector<std::size_t> attention_resolutions{7};  // heights at which attention runs
    double dropout = 0.1;
    embedding_kind embedding = embedding_kind::sinusoidal;  // of the conditioning value, base_channels values
    double fourier_scale = 16.0;                            // for embedding_kind::gaussian_fourier
    std::uint64_t seed = 0;
};

template <class Real>
class unet {
public:
    using value_type = Real;

    explicit unet(unet_config config, cpu_context ctx = cpu_context{}) : config_(std::move(config)), ctx_(std::move(ctx)) {
        build();
        initialize(parameters(), config_.seed);
    }

    [[nodiscard]] std::size_t input_size() const { return config_.channels * config_.height * config_.width; }
    [[nodiscard]] const unet_config& config() const { return config_; }
    void set_mode(const pass_mode& mode) { mode_ = mode; }
    void set_context(cpu_context ctx) { ctx_ = std::move(ctx); }

    [[nodiscard]] parameter_list<Real> parameters() {
        parameter_list<Real> list;
        embedding_.collect(list, "time.embedding");
        embed0_.collect(list, "time.dense0");
        embed1_.collect(list, "time.dense1");
        conv_in_.collect(list, "conv_in");
        for (std::size_t i = 0; i < down_.size(); ++i) collect(down_[i], list, "down." + std::to_string(i));
        collect(middle_[0], list, "middle.0");
        collect(middle_[1], list, "middle.1");
        for (std::size_t i = 0; i < up_.size(); ++i) collect(up_[i], list, "up." + std::to_string(i));
        norm_out_.collect(list, "norm_out");
        conv_out_.collect(list, "conv_out");
        return list;
    }

    void forward(const Real* x, const Real* c, Real* y, std::size_t n) {
        grow(n);
        // Time embedding, then SiLU once: every block takes SiLU(e).
        embedding_.forward(c, emb_sin_.data(), n);
        embed0_.forward(ctx_, emb_sin_.data(), emb_h_.data(), n);
        emb_act_.forward(ctx_, emb_h_.data(), emb_h_act_.data(), n * embed_size());
        embed1_.forward(ctx_, emb_h_act_.data(), emb_.data(), n);
        block_act_.forward(ctx_, emb_.data(), emb_block_.data(), n * embed_size());

        conv_in_.forward(ctx_, x, conv_in_out_.data(), n);
        const Real* h = conv_in_out_.data();
        for (auto& s : down_) h = forward_stage(s, h, nullptr, n);
        h = forward_stage(middle_[0], h, nullptr, n);
        h = forward_stage(middle_[1], h, nullptr, n);
        // Skip sources in order: conv_in, then every down stage; the up path takes them last-first.
        skips_.clear();
        skips_.push_back(conv_in_out_.data());
        for (auto& s : down_) skips_.push_back(s.out.data());
        std::size_t skip = skips_.size();
        for (auto& s : up_) h = forward_stage(s, h, s.skip_size > 0 ? skips_[--skip] : nullptr, n);
        norm_out_.forward(ctx_, h, norm_out_y_.data(), n);
        act_out_.forward(ctx_, norm_out_y_.data(), act_out_y_.data(), n * norm_out_size_);
        conv_out_.forward(ctx_, act_out_y_.data(), y, n);
        batch_ = n;
    }

    void backward(const Real* dy, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "unet::backward: batch ", n, " differs from the last forward's ", batch_);
        grow_gradients(n);
        std::fill(demb_block_.begin(), demb_block_.begin() + static_cast<std::ptrdiff_t>(n * embed_size()), Real(0));
        // Gradients of the skip sources, in the order of skips_; each skip feeds exactly
        // one up stage, which overwrites its buffer.
        skip_grads_.clear();
        skip_grads_.push_back(conv_in_skip_grad_.data());
        for (auto& s : down_) skip_grads_.push_back(s.skip_grad.data());

        conv_out_.backward(ctx_, dy, dtop_a_.data(), n, g);
        act_out_.backward(ctx_, dtop_a_.data(), dtop_b_.data(), n * norm_out_size_);
        norm_out_.backward(ctx_, dtop_b_.data(), dtop_a_.data(), n, g);
        Real* grad = dtop_a_.data();  // dL/d(output of the last stage)
        std::size_t skip = 0;  // backward meets the up stages' skips first-first
        for (std::size_t i = up_.size(); i-- > 0;)
            grad = backward_stage(up_[i], grad, up_[i].skip_size > 0 ? skip_grads_[skip++] : nullptr, n, g);
        grad = backward_stage(middle_[1], grad, nullptr, n, g);
        grad = backward_stage(middle_[0], grad, nullptr, n, g);
        for (std::size_t i = down_.size(); i-- > 0;) grad = backward_stage(down_[i], grad, nullptr, n, g);
        // conv_in's output is also the first skip.
        for (std::size_t i = 0; i < n * conv_in_.output_size(); ++i) grad[i] += conv_in_skip_grad_[i];
        conv_in_.backward(ctx_, grad, dx, n, g);

        // The time embedding MLP (time is never differentiated: parameters only).
        if (wants_parameter_grads(g)) {
            block_act_.backward(ctx_, demb_block_.data(), demb_.data(), n * embed_size());
            embed1_.backward(ctx_, demb_.data(), demb_h_.data(), n, g);
            emb_act_.backward(ctx_, demb_h_.data(), demb_h_.data(), n * embed_size());
            embed0_.backward(ctx_, demb_h_.data(), nullptr, n, g);
        }
    }

    // The network's parts, for code that mirrors it on another backend
    // (backend_unet). Changing their shapes breaks the network.
    // One step of the U-Net: an optional skip concatenation in front, then one of
    // resblock (+ optional attention), a stride-2 conv, or upsample + conv.
    struct stage {
        enum class kind { block, down, up } type = kind::block;
        std::size_t in_size = 0, skip_size = 0, out_size = 0, hw = 0;
        std::optional<residual_block<Real>> block;
        std::optional<self_attention<Real>> attention;
        std::optional<conv2d<Real>> conv;
        std::optional<upsample_nearest<Real>> upsample;
        std::vector<Real> concat, mid, out;             // activations
        std::vector<Real> dconcat, dmid, dout_extra;    // gradients
        std::vector<Real> skip_grad;                    // dL/d(out) arriving from the up path
        bool is_skip_source = false;
    };

    [[nodiscard]] std::vector<stage>& down_stages() { return down_; }
    [[nodiscard]] std::vector<stage>& middle_stages() { return middle_; }
    [[nodiscard]] std::vector<stage>& up_stages() { return up_; }
    [[nodiscard]] time_embedding<Real>& time_embedding_layer() { return embedding_; }
    [[nodiscard]] dense<Real>& time_dense0() { return embed0_; }
    [[nodiscard]] dense<Real>& time_dense1() { return embed1_; }
    [[nodiscard]] conv2d<Real>& conv_in() { return conv_in_; }
    [[nodiscard]] group_norm<Real>& norm_out() { return norm_out_; }
    [[nodiscard]] conv2d<Real>& conv_out() { return conv_out_; }
    [[nodiscard]] std::size_t embed_size() const { return 4 * config_.base_channels; }

private:
    void build() {
        const auto& c = config_;
        sgm::detail::require(c.channels > 0 && c.height > 0 && c.width > 0, "unet: image shape ", c.channels, "×",
                             c.height, "×", c.width, " must be positive");
        sgm::detail::require(!c.multipliers.empty() && c.base_channels >= 4, "unet: needs at least one level and ",
                             "base_channels ≥ 4 (got ", c.base_channels, ")");
        const std::size_t factor = std::size_t{1} << (c.multipliers.size() - 1);
        sgm::detail::require(c.height % factor == 0 && c.width % factor == 0, "unet: image ", c.height, "×", c.width,
                             " must be divisible by ", factor, " for ", c.multipliers.size(), " levels");
        embedding_ = time_embedding<Real>(c.embedding, c.base_channels,
                                          c.embedding == embedding_kind::sinusoidal ? 10000.0 : c.fourier_scale);
        embed0_ = dense<Real>(c.base_channels, embed_size());
        embed1_ = dense<Real>(embed_size(), embed_size());
        conv_in_ = conv2d<Real>({c.channels, c.base_channels, c.height, c.width, 3, 1, 1}, true,
                                fan_avg_uniform(9 * c.channels, 9 * c.base_channels));

        std::uint32_t stream = 0;
        std::size_t ch = c.base_channels, h = c.height, w = c.width;
        std::vector<std::size_t> skip_channels{ch};
        auto make_block = [&](std::size_t in, std::size_t out) {
            stage s;
            s.type = stage::kind::block;
            s.block.emplace(residual_block_shape{in, out, h, w, embed_size(), c.dropout, stream++});
            if (std::find(c.attention_resolutions.begin(), c.attention_resolutions.end(), h) !=
                c.attention_resolutions.end())
                s.attention.emplace(out, h, w);
            s.in_size = in * h * w;
            s.out_size = out * h * w;
            s.hw = h * w;
            return s;
        };
        for (std::size_t level = 0; level < c.multipliers.size(); ++level) {
            const std::size_t out = c.base_channels * c.multipliers[level];
            for (std::size_t b = 0; b < c.blocks_per_level; ++b) {
                down_.push_back(make_block(ch, out));
                ch = out;
                skip_channels.push_back(ch);
            }
            if (level + 1 < c.multipliers.size()) {
                stage s;
                s.type = stage::kind::down;
                s.conv.emplace(conv2d_shape{ch, ch, h, w, 3, 2, 1}, true, fan_avg_uniform(9 * ch, 9 * ch));
                s.in_size = ch * h * w;
                h /= 2;
                w /= 2;
                s.out_size = ch * h * w;
                s.hw = h * w;
                down_.push_back(std::move(s));
                skip_channels.push_back(ch);
            }
        }
        middle_.push_back(make_block(ch, ch));
        if (!middle_[0].attention) middle_[0].attention.emplace(ch, h, w);
        middle_.push_back(make_block(ch, ch));
        middle_[1].attention.reset();
        for (std::size_t level = c.multipliers.size(); level-- > 0;) {
            const std::size_t out = c.base_channels * c.multipliers[level];
            for (std::size_t b = 0; b < c.blocks_per_level + 1; ++b) {
                const std::size_t skip = skip_channels.back();
                skip_channels.pop_back();
                stage s = make_block(ch + skip, out);
                s.skip_size = skip * h * w;
                s.in_size = ch * h * w;
                up_.push_back(std::move(s));
                ch = out;
            }
            if (level > 0) {
                stage s;
                s.type = stage::kind::up;
                s.upsample.emplace(ch, h, w);
                s.in_size = ch * h * w;
                h *= 2;
                w *= 2;
                s.conv.emplace(conv2d_shape{ch, ch, h, w, 3, 1, 1}, true, fan_avg_uniform(9 * ch, 9 * ch));
                s.out_size = ch * h * w;
                s.hw = h * w;
                up_.push_back(std::move(s));
            }
        }
        norm_out_ = group_norm<Real>(ch, default_groups(ch), h * w);
        norm_out_size_ = ch * h * w;
        conv_out_ = conv2d<Real>({ch, c.channels, h, w, 3, 1, 1}, true, fan_avg_uniform(9 * ch, 9 * c.channels, 1e-10));
        // Which outputs feed skips: conv_in and every down stage.
        for (auto& s : down_) s.is_skip_source = true;
    }

    static void collect(stage& s, parameter_list<Real>& list, const std::string& prefix) {
        if (s.block) s.block->collect(list, prefix + ".block");
        if (s.attention) s.attention->collect(list, prefix + ".attention");
        if (s.conv) s.conv->collect(list, prefix + ".conv");
    }

    std::vector<stage*> stages() {
        std::vector<stage*> out;
        for (auto& s : down_) out.push_back(&s);
        for (auto& s : middle_) out.push_back(&s);
        for (auto& s : up_) out.push_back(&s);
        return out;
    }

    // Activations for n samples; the gradient buffers wait for the first backward
    // (grow_gradients), so a network that only samples never holds them.
    void grow(std::size_t n) {
        if (n <= capacity_) return;
        const std::size_t e = embed_size(), c0 = config_.base_channels * config_.height * config_.width;
        emb_sin_.resize(n * config_.base_channels);
        for (auto* v : {&emb_h_, &emb_h_act_, &emb_, &emb_block_}) v->resize(n * e);
        conv_in_out_.resize(n * c0);
        for (auto* v : {&norm_out_y_, &act_out_y_}) v->resize(n * norm_out_size_);
        for (stage* s : stages()) {
            s->out.resize(n * s->out_size);
            s->mid.resize(n * s->out_size);
            if (s->skip_size > 0) s->concat.resize(n * (s->in_size + s->skip_size));
        }
        capacity_ = n;
    }

    void grow_gradients(std::size_t n) {
        if (n <= gradient_capacity_) return;
        const std::size_t e = embed_size(), c0 = config_.base_channels * config_.height * config_.width;
        for (auto* v : {&demb_block_, &demb_, &demb_h_}) v->resize(n * e);
        conv_in_skip_grad_.resize(n * c0);
        for (auto* v : {&dtop_a_, &dtop_b_}) v->resize(n * norm_out_size_);
        for (stage* s : stages()) {
            s->dout_extra.resize(n * s->out_size);
            s->dmid.resize(n * std::max(s->out_size, s->in_size + s->skip_size));
            if (s->is_skip_source) s->skip_grad.resize(n * s->out_size);
            s->dconcat.resize(n * (s->in_size + s->skip_size));
        }
        gradient_capacity_ = n;
    }

    const Real* forward_stage(stage& s, const Real* h, const Real* skip, std::size_t n) {
        const Real* input = h;
        if (s.skip_size > 0) {
            const std::size_t a = s.in_size, b = s.skip_size;
            for (std::size_t i = 0; i < n; ++i) {
                std::copy_n(h + i * a, a, s.concat.data() + i * (a + b));
                std::copy_n(skip + i * b, b, s.concat.data() + i * (a + b) + a);
            }
            input = s.concat.data();
        }
        switch (s.type) {
            case stage::kind::block:
                if (s.attention) {
                    s.block->forward(ctx_, input, emb_block_.data(), s.mid.data(), n, mode_);
                    s.attention->forward(ctx_, s.mid.data(), s.out.data(), n);
                } else {
                    s.block->forward(ctx_, input, emb_block_.data(), s.out.data(), n, mode_);
                }
                break;
            case stage::kind::down: s.conv->forward(ctx_, input, s.out.data(), n); break;
            case stage::kind::up:
                s.upsample->forward(ctx_, input, s.mid.data(), n);
                s.conv->forward(ctx_, s.mid.data(), s.out.data(), n);
                break;
        }
        return s.out.data();
    }

    // grad: dL/d(stage output) from the stage above (overwritten as scratch). Adds
    // the skip gradient for skip sources, splits it off for concatenating stages.
    // Returns dL/d(stage input from the main path).
    Real* backward_stage(stage& s, Real* grad, Real* skip_grad_out, std::size_t n, gradients g) {
        if (s.is_skip_source)
            for (std::size_t i = 0; i < n * s.out_size; ++i) grad[i] += s.skip_grad[i];
        Real* din = s.dconcat.data();
        switch (s.type) {
            case stage::kind::block:
                if (s.attention) {
                    s.attention->backward(ctx_, grad, s.dmid.data(), n, g);
                    s.block->backward(ctx_, s.dmid.data(), din, demb_block_.data(), n, g);
                } else {
                    s.block->backward(ctx_, grad, din, demb_block_.data(), n, g);
                }
                break;
            case stage::kind::down: s.conv->backward(ctx_, grad, din, n, g); break;
            case stage::kind::up:
                s.conv->backward(ctx_, grad, s.dmid.data(), n, g);
                s.upsample->backward(ctx_, s.dmid.data(), din, n);
                break;
        }
        if (s.skip_size > 0) {
            // Split [main | skip]: the skip part goes to its source, the main part on.
            const std::size_t a = s.in_size, b = s.skip_size;
            for (std::size_t i = 0; i < n; ++i) {
                std::copy_n(din + i * (a + b) + a, b, skip_grad_out + i * b);
                std::copy_n(din + i * (a + b), a, s.dmid.data() + i * a);
            }
            return s.dmid.data();
        }
        return din;
    }

    unet_config config_;
    cpu_context ctx_;
    pass_mode mode_{};
    time_embedding<Real> embedding_{embedding_kind::sinusoidal, 4, 10000.0};
    dense<Real> embed0_{1, 1}, embed1_{1, 1};
    silu<Real> emb_act_, block_act_, act_out_;
    conv2d<Real> conv_in_{conv2d_shape{1, 1, 1, 1, 1, 1, 0}};
    std::vector<stage> down_, middle_, up_;
    group_norm<Real> norm_out_{1, 1, 1};
    conv2d<Real> conv_out_{conv2d_shape{1, 1, 1, 1, 1, 1, 0}};
    std::size_t norm_out_size_ = 0;

    std::vector<Real> emb_sin_, emb_h_, emb_h_act_, emb_, emb_block_, demb_block_, demb_, demb_h_;
    std::vector<Real> conv_in_out_, conv_in_skip_grad_, norm_out_y_, act_out_y_, dtop_a_, dtop_b_;
    std::vector<const Real*> skips_;  // rebuilt every pass: copies of a unet stay valid
    std::vector<Real*> skip_grads_;
    std::size_t capacity_ = 0, gradient_capacity_ = 0, batch_ = 0;
};

}  // namespace sgm::nn
