// sgm-train-classifier — train the image classifier whose features measure sample
// quality (sgm-fd) and, time-conditioned, guide sampling towards a class.
//
// Softmax cross-entropy, Adam with a short warm-up and a tenfold learning-rate
// drop for the last 30% of the steps, shuffled epochs and random shifts of up to
// --shift pixels. With --time-conditioned the inputs are x(t) = m(t)·x + s(t)·z
// under --sde at t ~ U(eps, T), and the network also sees t.
//
//   sgm-train-classifier --steps 3000 --out models/mnist_classifier/weights.safetensors
//   sgm-fd --classifier mnist_classifier --samples digits.npy

#include <sgm/data/scaling.hpp>
#include <sgm/models/classifier_model.hpp>
#include <sgm/models/sde_spec.hpp>
#include <sgm/nn/classifier.hpp>
#include <sgm/random/mix64.hpp>
#include <sgm/random/philox_normal.hpp>
#include <sgm/random/philox_uniform.hpp>
#include <sgm/train/adam.hpp>
#include <sgm/train/checkpoint.hpp>
#include <sgm/train/cross_entropy.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "datasets.hpp"
#include "flags.hpp"
#include "progress.hpp"

namespace {

using Real = float;

struct settings {
    std::string dataset = "mnist";
    std::filesystem::path data_dir;
    std::size_t steps = 3000, batch = 64, warmup = 100, shift = 2, eval_every = 500;
    std::size_t base_channels = 32, blocks = 1, features = 128;
    std::string multipliers = "1,2,2";
    double learning_rate = 2e-3, grad_clip = 5;
    int threads = 0;
    std::uint64_t seed = 7;
    std::filesystem::path out = "classifier.safetensors";
    bool time_conditioned = false;
    std::string sde = "vp", range = "auto";
    double eps = 1e-3;
};

// Noise streams of the run, kept apart by draw index.
enum : std::uint32_t { draw_order = 1, draw_shift = 2, draw_time = 3, draw_noise = 4 };

std::vector<std::size_t> size_list(const std::string& flag, const std::string& text) {
    std::vector<std::size_t> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
        out.push_back(static_cast<std::size_t>(cli::detail::parse_integer(flag, item, 1, 64, "a positive integer")));
    if (out.empty()) throw cli::usage_error(flag + " '" + text + "' is not a comma-separated list of sizes");
    return out;
}

// A permutation of [0, n) for epoch `epoch`: Fisher–Yates on counter-based uniforms.
std::vector<std::size_t> epoch_order(std::size_t n, std::uint64_t key, std::uint64_t epoch) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = n; i-- > 1;) {
        const double u = sgm::random::uniform<double>(key, epoch, draw_order, i);
        std::swap(order[i], order[std::min(i, static_cast<std::size_t>(u * double(i + 1)))]);
    }
    return order;
}

// Copies image `src` shifted by (dy, dx) pixels into dst; `background` comes in at the border.
void shifted_copy(const Real* src, Real* dst, std::size_t c, std::size_t h, std::size_t w, long dy, long dx,
                  Real background) {
    std::fill_n(dst, c * h * w, background);
    for (std::size_t ch = 0; ch < c; ++ch)
        for (long i = 0; i < long(h); ++i) {
            const long si = i - dy;
            if (si < 0 || si >= long(h)) continue;
            for (long j = 0; j < long(w); ++j) {
                const long sj = j - dx;
                if (sj >= 0 && sj < long(w)) dst[(ch * h + std::size_t(i)) * w + std::size_t(j)] =
                    src[(ch * h + std::size_t(si)) * w + std::size_t(sj)];
            }
        }
}

// Test accuracy (and mean loss); time-conditioned: at the fixed time t with fixed noise.
template <class SDE>
sgm::train::cross_entropy_result evaluate(sgm::nn::classifier<Real>& net, const sgm::data::image_set<Real>& test,
                                          const SDE* sde, double t, std::uint64_t key) {
    const std::size_t d = test.dim(), k = net.classes(), chunk = 250;
    std::vector<Real> x(chunk * d), logits(chunk * k), times(chunk, Real(t));
    sgm::train::cross_entropy_result total;
    for (std::size_t b0 = 0; b0 < test.size(); b0 += chunk) {
        const std::size_t m = std::min(chunk, test.size() - b0);
        std::copy_n(test.pixels().data() + b0 * d, m * d, x.data());
        if (sde != nullptr) {
            const double mean = double(sde->mean_coefficient(Real(t))), std = double(sde->marginal_std(Real(t)));
            for (std::size_t i = 0; i < m * d; ++i)
                x[i] = Real(mean * double(x[i]) +
                            std * sgm::random::normal<double>(key, b0 + i / d, draw_noise, i % d));
        }
        net.forward(x.data(), times.data(), logits.data(), m);
        const auto r = sgm::train::cross_entropy<Real>(
            logits.data(), std::span<const int>(test.labels()).subspan(b0, m), nullptr, m, k);
        total.loss += r.loss * double(m);
        total.correct += r.correct;
    }
    total.loss /= double(test.size());
    return total;
}

template <class SDE>
int train(const settings& s, sgm::models::classifier_spec spec, const SDE* sde, sgm::data::image_set<Real>& data,
          sgm::data::image_set<Real>& test, const std::string& command) {
    sgm::nn::classifier<Real> net(spec.network, sgm::nn::cpu_context(s.threads));
    const auto params = net.parameters();
    sgm::train::adam_options ao;
    ao.learning_rate = s.learning_rate;
    ao.warmup = s.warmup;
    ao.grad_clip = s.grad_clip;
    auto optimizer = std::make_unique<sgm::train::adam<Real>>(params, ao);
    const std::size_t drop_at = s.steps * 7 / 10;

    const std::size_t n = data.size(), d = data.dim(), k = net.classes(), bs = s.batch;
    const std::uint64_t key = sgm::random::mix64(s.seed ^ 0x636c617373696679ULL);
    std::vector<Real> x(bs * d), times(bs, Real(0)), logits(bs * k), dlogits(bs * k);
    std::vector<int> labels(bs);
    std::vector<std::size_t> order;
    std::uint64_t epoch = 0;
    std::size_t position = n;  // start a new epoch at the first step
    const Real background = spec.range == sgm::data::pixel_range::unit ? Real(0) : Real(-1);
    const double t_end = sde != nullptr ? double(sde->T()) : 1.0;
    const std::vector<double> eval_times = sde != nullptr ? std::vector<double>{s.eps, 0.25 * t_end, 0.5 * t_end,
                                                                                 0.75 * t_end, t_end}
                                                          : std::vector<double>{0.0};

    std::printf("training the classifier: %zu steps of batch %zu on %zu images (%s), %zu parameters, %d threads%s\n",
                s.steps, bs, n, s.dataset.c_str(), params.trainable_count(),
                sgm::nn::cpu_context(s.threads).threads(),
                sde != nullptr ? (", time-conditioned on " + sgm::models::to_string(*spec.sde)).c_str() : "");
    std::fflush(stdout);
    const auto start = std::chrono::steady_clock::now();
    cli::progress_bar bar("train", s.steps, "steps");
    double running_loss = 0, running_correct = 0;
    std::size_t running = 0;
    for (std::size_t step = 0; step < s.steps; ++step) {
        if (step == drop_at) {
            // The tenfold drop: a fresh optimizer that continues from the moments so far.
            sgm::train::adam_options low = ao;
            low.learning_rate = s.learning_rate / 10;
            low.warmup = 0;
            auto next = std::make_unique<sgm::train::adam<Real>>(params, low);
            next->set_state(optimizer->steps(), optimizer->first_moment(), optimizer->second_moment());
            optimizer = std::move(next);
        }
        for (std::size_t b = 0; b < bs; ++b) {
            if (position == n) {
                order = epoch_order(n, key, epoch++);
                position = 0;
            }
            const std::size_t i = order[position++];
            const std::uint64_t sample = step * bs + b;
            const auto offset = [&](std::uint64_t e) {
                const double u = sgm::random::uniform<double>(key, sample, draw_shift, e);
                return long(std::floor(u * double(2 * s.shift + 1))) - long(s.shift);
            };
            shifted_copy(data.pixels().data() + i * d, x.data() + b * d, data.channels(), data.height(),
                         data.width(), offset(0), offset(1), background);
            labels[b] = data.label(i);
            if (sde != nullptr) {
                const double u = sgm::random::uniform<double>(key, sample, draw_time, 0);
                const Real t = Real(s.eps + (t_end - s.eps) * u);
                times[b] = t;
                const double mean = double(sde->mean_coefficient(t)), std = double(sde->marginal_std(t));
                Real* xb = x.data() + b * d;
                for (std::size_t j = 0; j < d; ++j)
                    xb[j] = Real(mean * double(xb[j]) + std * sgm::random::normal<double>(key, sample, draw_noise, j));
            }
        }
        net.forward(x.data(), times.data(), logits.data(), bs);
        const auto r = sgm::train::cross_entropy<Real>(logits.data(), labels, dlogits.data(), bs, k);
        if (!std::isfinite(r.loss))
            throw sgm::error(sgm::detail::concat("the training loss is ", r.loss, " at step ", step));
        params.zero_grad();
        net.backward(dlogits.data(), nullptr, bs, sgm::nn::gradients::parameters_only);
        optimizer->step(params);
        running_loss += r.loss;
        running_correct += double(r.correct) / double(bs);
        ++running;
        bar.update(step + 1);
        if ((step + 1) % s.eval_every == 0 || step + 1 == s.steps) {
            bar.finish();
            const auto e = evaluate(net, test, sde, eval_times.front(), key);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::printf("step %zu: train loss %.4f, train accuracy %.4f; test loss %.4f, test accuracy %.4f%s "
                        "(%.0f s)\n",
                        step + 1, running_loss / double(running), running_correct / double(running), e.loss,
                        double(e.correct) / double(test.size()), sde != nullptr ? " at t = eps" : "", seconds);
            std::fflush(stdout);
            running_loss = running_correct = 0;
            running = 0;
            bar = cli::progress_bar("train", s.steps, "steps");
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    auto config = sgm::models::to_config(spec);
    std::string accuracies;
    for (const double t : eval_times) {
        const auto e = evaluate(net, test, sde, t, key);
        const double accuracy = double(e.correct) / double(test.size());
        if (sde != nullptr) std::printf("test accuracy at t = %.4g: %.4f (loss %.4f)\n", t, accuracy, e.loss);
        else std::printf("test accuracy: %.4f (%zu of %zu), loss %.4f\n", accuracy, e.correct, test.size(), e.loss);
        accuracies += (accuracies.empty() ? "" : ",") + cli::detail::show(accuracy);
    }
    config["training.test_accuracy"] = accuracies;
    if (sde != nullptr) {
        std::string ts;
        for (const double t : eval_times) ts += (ts.empty() ? "" : ",") + cli::detail::show(t);
        config["training.test_times"] = ts;
    }
    config["training.steps"] = std::to_string(s.steps);
    config["training.batch"] = std::to_string(s.batch);
    config["training.learning_rate"] = cli::detail::show(s.learning_rate);
    config["training.shift"] = std::to_string(s.shift);
    config["training.seed"] = std::to_string(s.seed);
    config["training.seconds"] = cli::detail::show(std::round(seconds));
    config["training.command"] = command;
    if (s.out.has_parent_path()) std::filesystem::create_directories(s.out.parent_path());
    sgm::train::save_weights(s.out, params, config);
    std::printf("trained %zu steps in %.0f s; wrote %s\n", s.steps, seconds, s.out.string().c_str());
    return 0;
}

int run(int argc, char** argv) {
    settings s;
    cli::flags f("sgm-train-classifier",
                 "Train the image classifier used by sgm-fd (features, confidence) and for classifier guidance.");
    f.add("--data", s.dataset, "NAME", "data set", cli::dataset_names);
    f.add("--data-dir", s.data_dir, "DIR", "folder of the data set (default: data/mnist or Debian's folder)");
    f.add("--steps", s.steps, "N", "training steps");
    f.add("--batch", s.batch, "N", "batch size");
    f.add("--lr", s.learning_rate, "X", "Adam learning rate (divided by 10 for the last 30% of the steps)", 1e-8, 1);
    f.add("--warmup", s.warmup, "N", "linear learning-rate warm-up steps", true);
    f.add("--grad-clip", s.grad_clip, "X", "global gradient-norm clip (0 = none)", 0);
    f.add("--shift", s.shift, "PIXELS", "random shifts of up to this many pixels (0 = none)", true);
    f.add("--base-channels", s.base_channels, "C", "channels at full resolution");
    f.add("--multipliers", s.multipliers, "LIST", "channel multiplier per resolution level");
    f.add("--blocks", s.blocks, "N", "convolutions per level");
    f.add("--features", s.features, "N", "size of the feature layer");
    f.add("--eval-every", s.eval_every, "N", "steps between test evaluations");
    f.add("--threads", s.threads, "N", "worker threads (0 = all cores)");
    f.add_seed("--seed", s.seed, "N", "seed of initialization, data order, shifts and noise");
    f.add("--out", s.out, "FILE", "weights file to write");
    f.add("--time-conditioned", s.time_conditioned, "train on x(t) perturbed by --sde, with t as an input");
    f.add("--sde", s.sde, "KIND", "SDE of the perturbed inputs (with --time-conditioned)", {"ve", "vp", "subvp"});
    f.add("--range", s.range, "R", "pixel range the classifier sees (auto: unit, or symmetric for a VP/sub-VP SDE)",
          {"auto", "unit", "symmetric"});
    f.add("--eps", s.eps, "T", "smallest training time (with --time-conditioned)", 0, 1);
    f.parse(argc, argv);

    std::string command = "sgm-train-classifier";
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];

    auto data = cli::load_dataset<Real>(s.dataset, s.data_dir, "train");
    auto test = cli::load_dataset<Real>(s.dataset, s.data_dir, "test");
    if (!data.has_labels() || !test.has_labels()) throw cli::usage_error("data set '" + s.dataset + "' has no labels");
    int classes = 0;
    for (const int l : data.labels()) classes = std::max(classes, l + 1);

    sgm::models::classifier_spec spec;
    auto& n = spec.network;
    n.channels = data.channels();
    n.height = data.height();
    n.width = data.width();
    n.base_channels = s.base_channels;
    n.multipliers = size_list("--multipliers", s.multipliers);
    n.blocks_per_level = s.blocks;
    n.feature_size = s.features;
    n.classes = std::size_t(std::max(classes, 2));
    n.time_conditioned = s.time_conditioned;
    n.seed = s.seed;
    spec.data = cli::describe_dataset(s.dataset, data.size());
    if (s.time_conditioned) {
        spec.sde = sgm::models::default_sde_spec(sgm::models::parse_sde_kind(s.sde));
        if (spec.sde->kind == sgm::models::sde_kind::ve) spec.sde->second = 25;  // as sgm-train's VE models
    }
    const bool symmetric = s.range == "symmetric" ||
                           (s.range == "auto" && spec.sde && spec.sde->kind != sgm::models::sde_kind::ve);
    spec.range = symmetric ? sgm::data::pixel_range::symmetric : sgm::data::pixel_range::unit;
    sgm::data::to_range(data.pixels(), spec.range);
    sgm::data::to_range(test.pixels(), spec.range);
    if (!spec.sde) return train<sgm::vp_sde<Real>>(s, spec, nullptr, data, test, command);
    return sgm::models::visit_sde<Real>(*spec.sde, 0,
                                        [&](const auto& sde) { return train(s, spec, &sde, data, test, command); });
}

}  // namespace

int main(int argc, char** argv) {
    return cli::run_main("sgm-train-classifier", [&] { return run(argc, argv); });
}
