// sgm_bench_unet: throughput of the U-Net score network (sgm::nn::unet<float>,
// the MNIST defaults) against the machine's fp32 peak, and an export of its
// weights, a batch and its output for the PyTorch cross-check. See
// docs/benchmarks_unet.md and benchmarks/compare_unet.sh.
//
//   sgm_bench_unet [--batches 64 128] [--threads 1 2] [--reps 5] [--min-seconds 1]
//                  [--peak 117] [--json FILE] [--only forward|forward_backward]
//   sgm_bench_unet --layers [--batches 64] [--threads 1]   (each distinct layer shape on its own, CSV)
//   sgm_bench_unet --export DIR
//
// Forward: eval mode (dropout off), no backward. Forward + backward: training mode
// (dropout on), gradients of every parameter and of the input, as a training step
// needs (minus the optimizer). Each figure is the fastest of --reps repetitions,
// each repetition running the pass for at least --min-seconds after a warm-up.
// The FLOP count is analytic (see unet_flops); --peak is the fp32 peak of one
// core in GFLOP/s (AVX2 FMA: 2 units × 8 lanes × 2 × clock).

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <sgm/io/safetensors.hpp>
#include <sgm/nn/unet.hpp>

namespace {

using Real = float;
using clock_type = std::chrono::steady_clock;

double cpu_seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
double process_cpu_seconds() { return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID); }
double thread_cpu_seconds() { return cpu_seconds(CLOCK_THREAD_CPUTIME_ID); }

// ---- the network as a list of layers, and its FLOP count -----------------------------
// unet_layers walks the architecture as unet::build does and lists every layer that
// does arithmetic, with its shape. FLOPs: multiply-adds count 2; convolutions
// 2·K²·Cin·Cout·Ho·Wo, dense layers 2·in·out, attention 2·(3C²P + P²C + P²C + C²P).
// Not counted: biases, group norms, SiLU, softmax, dropout, the skip additions,
// concatenation, upsampling: elementwise work, about 1 % of the FLOPs (see
// elementwise_values), whose cost is memory traffic. Backward: the input gradient
// and the weight gradient each cost as much as the forward GEMM; the time MLP's
// first layer needs no input gradient.

struct layer_op {
    enum class kind { conv, attention, dense, group_norm, silu } type;
    std::size_t in = 0, out = 0;      // channels (features for dense)
    std::size_t kernel = 0, stride = 1;
    std::size_t height = 1, width = 1;  // input size

    // Convolutions pad by kernel / 2, as every convolution of the U-Net does.
    [[nodiscard]] std::size_t out_height() const { return type == kind::conv ? out_size(height) : height; }
    [[nodiscard]] std::size_t out_width() const { return type == kind::conv ? out_size(width) : width; }
    [[nodiscard]] std::size_t out_size(std::size_t in) const { return (in + 2 * (kernel / 2) - kernel) / stride + 1; }
    [[nodiscard]] double flops() const {
        const double p = double(height) * double(width);
        switch (type) {
            case kind::conv:
                return 2.0 * double(kernel * kernel) * double(in) * double(out) * double(out_height() * out_width());
            case kind::attention: return 2.0 * (4.0 * double(in) * double(in) * p + 2.0 * p * p * double(in));
            case kind::dense: return 2.0 * double(in) * double(out);
            case kind::group_norm:
            case kind::silu: return 0;
        }
        return 0;
    }
    friend bool operator==(const layer_op&, const layer_op&) = default;
};

std::vector<layer_op> unet_layers(const sgm::nn::unet_config& c) {
    using k = layer_op::kind;
    std::vector<layer_op> ops;
    const std::size_t e = 4 * c.base_channels;
    std::size_t h = c.height, w = c.width;
    auto conv = [&](std::size_t cin, std::size_t cout, std::size_t kernel, std::size_t stride) {
        ops.push_back({k::conv, cin, cout, kernel, stride, h, w});
    };
    auto norm_act = [&](std::size_t ch) {  // GN → SiLU (attention's own GN is part of the attention)
        ops.push_back({k::group_norm, ch, ch, 0, 1, h, w});
        ops.push_back({k::silu, ch, ch, 0, 1, h, w});
    };
    auto has_attention = [&] {
        return std::find(c.attention_resolutions.begin(), c.attention_resolutions.end(), h) !=
               c.attention_resolutions.end();
    };
    auto block = [&](std::size_t cin, std::size_t cout, bool attn) {
        norm_act(cin);
        conv(cin, cout, 3, 1);
        ops.push_back({k::dense, e, cout});
        norm_act(cout);
        conv(cout, cout, 3, 1);
        if (cin != cout) conv(cin, cout, 1, 1);
        if (attn) ops.push_back({k::attention, cout, cout, 0, 1, h, w});
    };
    ops.push_back({k::dense, c.base_channels, e});
    ops.push_back({k::dense, e, e});
    std::size_t ch = c.base_channels;
    conv(c.channels, ch, 3, 1);
    std::vector<std::size_t> skips{ch};
    for (std::size_t level = 0; level < c.multipliers.size(); ++level) {
        const std::size_t out = c.base_channels * c.multipliers[level];
        for (std::size_t b = 0; b < c.blocks_per_level; ++b) {
            block(ch, out, has_attention());
            ch = out;
            skips.push_back(ch);
        }
        if (level + 1 < c.multipliers.size()) {
            conv(ch, ch, 3, 2);
            h /= 2;
            w /= 2;
            skips.push_back(ch);
        }
    }
    block(ch, ch, true);   // middle: resblock + attention
    block(ch, ch, false);  //         resblock
    for (std::size_t level = c.multipliers.size(); level-- > 0;) {
        const std::size_t out = c.base_channels * c.multipliers[level];
        for (std::size_t b = 0; b < c.blocks_per_level + 1; ++b) {
            const std::size_t skip = skips.back();
            skips.pop_back();
            block(ch + skip, out, has_attention());
            ch = out;
        }
        if (level > 0) {
            h *= 2;
            w *= 2;
            conv(ch, ch, 3, 1);  // after the nearest upsampling
        }
    }
    norm_act(ch);
    conv(ch, c.channels, 3, 1);
    return ops;
}

struct flop_count {
    double forward = 0, backward = 0;
    double conv = 0, attention = 0, dense = 0;  // forward, by kind
    double elementwise_values = 0;              // values through a group norm and SiLU, per image
};

flop_count unet_flops(const sgm::nn::unet_config& c) {
    flop_count f;
    const auto ops = unet_layers(c);
    for (const auto& op : ops) {
        switch (op.type) {
            case layer_op::kind::conv: f.conv += op.flops(); break;
            case layer_op::kind::attention: f.attention += op.flops(); break;
            case layer_op::kind::dense: f.dense += op.flops(); break;
            case layer_op::kind::group_norm: f.elementwise_values += double(op.in * op.height * op.width); break;
            case layer_op::kind::silu: break;
        }
    }
    f.forward = f.conv + f.attention + f.dense;
    f.backward = 2 * f.forward - ops.front().flops();  // the time MLP's first layer: no input gradient
    return f;
}

// The walk must describe the network sgm builds: its convolution weights, in
// order, must have the shapes of the listed convolutions.
void check_layers_match(const sgm::nn::unet_config& config) {
    sgm::nn::unet<Real> net(config, sgm::nn::cpu_context(1));
    std::vector<std::vector<std::size_t>> built, listed;
    for (const auto& e : net.parameters())
        if (e.tensor->shape.size() == 4) built.push_back(e.tensor->shape);
    for (const auto& op : unet_layers(config))
        if (op.type == layer_op::kind::conv) listed.push_back({op.out, op.in, op.kernel, op.kernel});
    if (built != listed) {
        std::fprintf(stderr, "unet_layers does not match unet: %zu convolutions built, %zu listed\n", built.size(),
                     listed.size());
        std::exit(1);
    }
}

// ---- timing ------------------------------------------------------------------------

// Under other load the wall clock of a 1-thread run counts time the thread did not
// run; the process's CPU time does not, so images per CPU-second estimates the
// idle-machine rate of one thread. (With 2 threads CPU time also counts TBB's
// spinning, so there the wall clock is the figure.)
struct rate {
    double images_per_s = 0;      // fastest repetition by the wall clock
    double images_per_cpu_s = 0;  // fastest repetition by process CPU time
    double worker_share = 0;      // in the fastest by the wall clock: CPU time off the calling thread / all
};

template <class F>
rate best_rate(F&& pass, std::size_t batch, int reps, double min_seconds) {
    pass();  // warm-up: workspaces grow on the first pass
    pass();
    rate best;
    for (int r = 0; r < reps; ++r) {
        std::size_t calls = 0;
        const double cpu0 = process_cpu_seconds(), own0 = thread_cpu_seconds();
        const auto t0 = clock_type::now();
        double wall = 0;
        do {
            pass();
            ++calls;
            wall = std::chrono::duration<double>(clock_type::now() - t0).count();
        } while (wall < min_seconds);
        const double images = double(calls * batch), cpu = process_cpu_seconds() - cpu0;
        if (images / wall > best.images_per_s) {
            best.images_per_s = images / wall;
            best.worker_share = 1 - (thread_cpu_seconds() - own0) / cpu;
        }
        best.images_per_cpu_s = std::max(best.images_per_cpu_s, images / cpu);
    }
    return best;
}

std::vector<Real> normal_values(std::size_t n, std::uint64_t seed, double scale = 1.0) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, scale);
    std::vector<Real> v(n);
    for (auto& x : v) x = Real(normal(engine));
    return v;
}

std::vector<Real> conditioning(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::uniform_real_distribution<double> uniform(0.0, 999.0);  // 999·t, as DDPM's VP networks take
    std::vector<Real> v(n);
    for (auto& x : v) x = Real(uniform(engine));
    return v;
}

// The network benchmarked: the MNIST defaults, or another base width
// (--base-channels 16 is the bundled mnist_vp model's).
sgm::nn::unet_config bench_config{};

struct row {
    int threads;
    std::size_t batch;
    rate forward, forward_backward;
};

enum class passes { both, forward, forward_backward };

std::vector<row> bench(const std::vector<std::size_t>& batches, const std::vector<int>& threads_list, int reps,
                       double min_seconds, passes which) {
    std::vector<row> rows;
    for (int threads : threads_list)
        for (std::size_t batch : batches) {
            sgm::nn::unet<Real> net(bench_config, sgm::nn::cpu_context(threads));
            const std::size_t d = net.input_size();
            const auto x = normal_values(batch * d, 1);
            const auto c = conditioning(batch, 2);
            const auto dy = normal_values(batch * d, 3);
            std::vector<Real> y(batch * d), dx(batch * d);
            net.set_mode({});
            rate fwd, fb;
            if (which != passes::forward_backward)
                fwd = best_rate([&] { net.forward(x.data(), c.data(), y.data(), batch); }, batch, reps, min_seconds);
            std::uint64_t step = 0;
            if (which != passes::forward)
                fb = best_rate(
                    [&] {
                        net.set_mode({.training = true, .seed = 7, .step = step++, .first_sample = 0});
                        net.forward(x.data(), c.data(), y.data(), batch);
                        net.backward(dy.data(), dx.data(), batch, sgm::nn::gradients::parameters_and_input);
                    },
                    batch, reps, min_seconds);
            rows.push_back({threads, batch, fwd, fb});
            std::fprintf(stderr,
                         "sgm threads %d batch %4zu: forward %8.1f img/s (%.1f per CPU-s), "
                         "forward+backward %8.1f img/s (%.1f per CPU-s); CPU share off the main thread %.2f, %.2f\n",
                         threads, batch, fwd.images_per_s, fwd.images_per_cpu_s, fb.images_per_s,
                         fb.images_per_cpu_s, fwd.worker_share, fb.worker_share);
        }
    return rows;
}

// ---- per-layer timing (--layers) ----------------------------------------------------
// Every distinct conv, group norm, SiLU and attention shape of the network, timed
// on its own at the same batch: forward, and forward + backward (input and
// parameter gradients). Times are per CPU-second of the process (1 thread) or the
// wall clock (more); "total" multiplies by how often the shape occurs in the network.

std::string op_label(const layer_op& op) {
    char buf[96];
    switch (op.type) {
        case layer_op::kind::conv:
            std::snprintf(buf, sizeof buf, "conv%zux%zu%s %zu->%zu @%zux%zu", op.kernel, op.kernel,
                          op.stride == 2 ? "/2" : "", op.in, op.out, op.height, op.width);
            break;
        case layer_op::kind::attention:
            std::snprintf(buf, sizeof buf, "attention %zu @%zux%zu", op.in, op.height, op.width);
            break;
        case layer_op::kind::group_norm:
            std::snprintf(buf, sizeof buf, "group_norm %zu @%zux%zu", op.in, op.height, op.width);
            break;
        case layer_op::kind::silu:
            std::snprintf(buf, sizeof buf, "silu %zu @%zux%zu", op.in, op.height, op.width);
            break;
        case layer_op::kind::dense: std::snprintf(buf, sizeof buf, "dense %zu->%zu", op.in, op.out); break;
    }
    return buf;
}

// Seconds per call of pass(): the fastest of reps repetitions of at least min_seconds.
template <class F>
double seconds_per_call(F&& pass, bool use_cpu, int reps, double min_seconds) {
    const rate r = best_rate(pass, 1, reps, min_seconds);
    return 1.0 / (use_cpu ? r.images_per_cpu_s : r.images_per_s);
}

void time_layers(std::size_t batch, int threads, int reps, double min_seconds) {
    const auto ops = unet_layers(bench_config);
    std::vector<std::pair<layer_op, std::size_t>> distinct;
    for (const auto& op : ops) {
        if (op.type == layer_op::kind::dense) continue;  // the time MLP and the block embeddings: negligible
        auto it = std::find_if(distinct.begin(), distinct.end(), [&](const auto& d) { return d.first == op; });
        if (it == distinct.end()) distinct.push_back({op, 1});
        else ++it->second;
    }
    const sgm::nn::cpu_context ctx(threads);
    const bool use_cpu = threads == 1;
    const auto g = sgm::nn::gradients::parameters_and_input;
    std::printf("layer,count,forward_ms,forward_backward_ms,gflops_forward,gflops_forward_backward\n");
    double total_f = 0, total_fb = 0;
    for (const auto& [op, count] : distinct) {
        const std::size_t in = op.in * op.height * op.width, out = op.out * op.out_height() * op.out_width();
        const auto x = normal_values(batch * in, 5);
        const auto dy = normal_values(batch * out, 6);
        std::vector<Real> y(batch * out), dx(batch * in);
        double f = 0, fb = 0;
        auto measure = [&](auto&& fwd, auto&& bwd) {
            f = seconds_per_call(fwd, use_cpu, reps, min_seconds);
            fb = seconds_per_call([&] { fwd(); bwd(); }, use_cpu, reps, min_seconds);
        };
        switch (op.type) {
            case layer_op::kind::conv: {
                sgm::nn::conv2d<Real> layer({op.in, op.out, op.height, op.width, op.kernel, op.stride, op.kernel / 2});
                measure([&] { layer.forward(ctx, x.data(), y.data(), batch); },
                        [&] { layer.backward(ctx, dy.data(), dx.data(), batch, g); });
                break;
            }
            case layer_op::kind::group_norm: {
                sgm::nn::group_norm<Real> layer(op.in, sgm::nn::default_groups(op.in), op.height * op.width);
                measure([&] { layer.forward(ctx, x.data(), y.data(), batch); },
                        [&] { layer.backward(ctx, dy.data(), dx.data(), batch, g); });
                break;
            }
            case layer_op::kind::silu: {
                sgm::nn::silu<Real> layer;
                measure([&] { layer.forward(ctx, x.data(), y.data(), batch * in); },
                        [&] { layer.backward(ctx, dy.data(), dx.data(), batch * in); });
                break;
            }
            case layer_op::kind::attention: {
                sgm::nn::self_attention<Real> layer(op.in, op.height, op.width);
                measure([&] { layer.forward(ctx, x.data(), y.data(), batch); },
                        [&] { layer.backward(ctx, dy.data(), dx.data(), batch, g); });
                break;
            }
            case layer_op::kind::dense: break;
        }
        const double flops = op.flops() * double(batch);
        std::printf("%s,%zu,%.3f,%.3f,%.1f,%.1f\n", op_label(op).c_str(), count, 1e3 * f, 1e3 * fb,
                    flops > 0 ? flops / f * 1e-9 : 0.0, flops > 0 ? 3 * flops / fb * 1e-9 : 0.0);
        total_f += double(count) * f;
        total_fb += double(count) * fb;
    }
    std::printf("total (x count),,%.1f,%.1f,,\n", 1e3 * total_f, 1e3 * total_fb);
}

// ---- export for the PyTorch cross-check --------------------------------------------

std::string config_json(const sgm::nn::unet_config& c) {
    auto list = [](const std::vector<std::size_t>& v) {
        std::string s = "[";
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i > 0) s += ',';
            s += std::to_string(v[i]);
        }
        return s + "]";
    };
    char dropout[32];
    std::snprintf(dropout, sizeof dropout, "%.17g", c.dropout);
    return "{\"channels\":" + std::to_string(c.channels) + ",\"height\":" + std::to_string(c.height) +
           ",\"width\":" + std::to_string(c.width) + ",\"base_channels\":" + std::to_string(c.base_channels) +
           ",\"multipliers\":" + list(c.multipliers) + ",\"blocks_per_level\":" + std::to_string(c.blocks_per_level) +
           ",\"attention_resolutions\":" + list(c.attention_resolutions) + ",\"dropout\":" + dropout + "}";
}

// Writes DIR/weights.safetensors (every parameter under its sgm name) and
// DIR/batch.safetensors (x, c and the eval-mode forward output y). The weights are
// the deterministic initialization plus random offsets: DDPM++ starts each
// residual branch's last layer near zero, which would leave most of the network
// out of the comparison.
void export_check(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    const sgm::nn::unet_config config = bench_config;
    sgm::nn::unet<Real> net(config, sgm::nn::cpu_context(1));
    sgm::io::tensor_file weights;
    std::uint64_t seed = 100;
    for (const auto& e : net.parameters()) {
        auto& p = *e.tensor;
        const bool matrix = p.shape.size() >= 2;
        const double scale = matrix ? 0.5 / std::sqrt(double(p.size() / p.shape[0])) : 0.1;  // 0.5/√fan_in
        const auto offset = normal_values(p.size(), seed++, scale);
        for (std::size_t j = 0; j < p.size(); ++j) p.value[j] += offset[j];
        weights.put(e.name, p.value, sgm::io::tensor_shape(p.shape.begin(), p.shape.end()));
    }
    sgm::io::write_safetensors(dir / "weights.safetensors", weights);

    const std::size_t n = 16, d = net.input_size();
    const auto x = normal_values(n * d, 11);
    const auto c = conditioning(n, 12);
    std::vector<Real> y(n * d);
    net.set_mode({});
    net.forward(x.data(), c.data(), y.data(), n);
    sgm::io::tensor_file batch;
    batch.metadata()["config"] = config_json(config);
    const sgm::io::tensor_shape image{n, config.channels, config.height, config.width};
    batch.put("x", x, image);
    batch.put("c", c, {n});
    batch.put("y", y, image);
    sgm::io::write_safetensors(dir / "batch.safetensors", batch);
    std::printf("wrote %s: %zu parameter tensors (%zu values), a batch of %zu with its forward output\n",
                dir.c_str(), net.parameters().size(), net.parameters().value_count(), n);
}

// ---- command line ------------------------------------------------------------------

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: sgm_bench_unet [--batches B...] [--threads T...] [--reps R] [--min-seconds S]\n"
                 "                      [--peak GFLOPS_PER_CORE] [--json FILE] [--only forward|forward_backward]\n"
                 "       sgm_bench_unet --layers [--batches B...] [--threads T...] [--reps R] [--min-seconds S]\n"
                 "       sgm_bench_unet --export DIR\n"
                 "every form also takes --base-channels C (default 32; the bundled mnist_vp model has 16)\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::size_t> batches{64, 128};
    std::vector<int> threads{1, 2};
    int reps = 5;
    double min_seconds = 1.0, peak_per_core = 117.0;
    std::string json, export_dir;
    passes which = passes::both;
    bool layers = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto numbers = [&](auto& out) {
            out.clear();
            while (i + 1 < argc && argv[i + 1][0] != '-') out.push_back(std::stoul(argv[++i]));
            if (out.empty()) usage();
        };
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--batches") numbers(batches);
        else if (a == "--threads") numbers(threads);
        else if (a == "--reps") reps = std::stoi(value());
        else if (a == "--min-seconds") min_seconds = std::stod(value());
        else if (a == "--peak") peak_per_core = std::stod(value());
        else if (a == "--json") json = value();
        else if (a == "--export") export_dir = value();
        else if (a == "--layers") layers = true;
        else if (a == "--base-channels") bench_config.base_channels = std::stoul(value());
        else if (a == "--only") {
            const std::string v = value();
            if (v == "forward") which = passes::forward;
            else if (v == "forward_backward") which = passes::forward_backward;
            else usage();
        }
        else usage();
    }
    if (!export_dir.empty()) {
        export_check(export_dir);
        return 0;
    }
    if (layers) {
        for (int t : threads)
            for (std::size_t b : batches) {
                std::printf("# sgm layers, batch %zu, %d thread(s), float\n", b, t);
                time_layers(b, t, reps, min_seconds);
            }
        return 0;
    }

    check_layers_match(bench_config);
    const flop_count f = unet_flops(bench_config);
    std::printf("U-Net (MNIST: 1x28x28, base %zu, multipliers 1,2,2, 2 blocks, attention at 7x7), float\n",
                bench_config.base_channels);
    std::printf("FLOPs per image: forward %.1f M (conv %.1f M, attention %.1f M, dense %.2f M), "
                "forward+backward %.1f M\n",
                f.forward * 1e-6, f.conv * 1e-6, f.attention * 1e-6, f.dense * 1e-6, (f.forward + f.backward) * 1e-6);
    std::printf("values through group norm + SiLU per image: %.2f M (not counted as FLOPs)\n",
                f.elementwise_values * 1e-6);
    const auto rows = bench(batches, threads, reps, min_seconds, which);
    // GFLOP/s from the wall-clock rate, and (1 thread) from the CPU-time rate.
    std::printf("%7s %5s | %13s %9s %9s %6s | %13s %9s %9s %6s\n", "threads", "batch", "forward img/s",
                "per CPU-s", "GFLOP/s", "%peak", "fwd+bwd img/s", "per CPU-s", "GFLOP/s", "%peak");
    for (const auto& r : rows) {
        const double peak = peak_per_core * r.threads;
        // 1 thread: the CPU-time rate; 2 threads: the wall-clock rate.
        const double fwd = r.threads == 1 ? r.forward.images_per_cpu_s : r.forward.images_per_s;
        const double fb = r.threads == 1 ? r.forward_backward.images_per_cpu_s : r.forward_backward.images_per_s;
        const double gf = fwd * f.forward * 1e-9, gfb = fb * (f.forward + f.backward) * 1e-9;
        std::printf("%7d %5zu | %13.1f %9.1f %9.1f %5.1f%% | %13.1f %9.1f %9.1f %5.1f%%\n", r.threads, r.batch,
                    r.forward.images_per_s, r.forward.images_per_cpu_s, gf, 100 * gf / peak,
                    r.forward_backward.images_per_s, r.forward_backward.images_per_cpu_s, gfb, 100 * gfb / peak);
    }
    std::printf("GFLOP/s and %%peak: from images per CPU-second with 1 thread, from the wall clock with 2.\n");
    if (!json.empty()) {
        std::ofstream out(json);
        out << "{\"flops_forward\":" << f.forward << ",\"flops_backward\":" << f.backward
            << ",\"peak_per_core\":" << peak_per_core << ",\"rows\":[";
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& r = rows[i];
            out << (i ? "," : "") << "{\"threads\":" << r.threads << ",\"batch\":" << r.batch
                << ",\"forward\":" << r.forward.images_per_s << ",\"forward_backward\":"
                << r.forward_backward.images_per_s << ",\"forward_cpu\":" << r.forward.images_per_cpu_s
                << ",\"forward_backward_cpu\":" << r.forward_backward.images_per_cpu_s
                << ",\"forward_worker_share\":" << r.forward.worker_share
                << ",\"forward_backward_worker_share\":" << r.forward_backward.worker_share << "}";
        }
        out << "]}\n";
    }
    return 0;
}
