// train_2d — train a score network on a 2-D toy data set, then sample from it.
//
// An MLP score network s_θ(x, t) is trained with continuous-time denoising score
// matching (σ²-weighted) under the chosen SDE, with Adam, an EMA of the weights,
// a progress bar, a CSV log and checkpoints. Then the EMA weights sample the
// reverse-time SDE (reverse-diffusion predictor, 1000 steps), and the program
// draws the data next to the samples and the loss curve.
//
// usage: train_2d [--dataset mixture|checkerboard|swiss_roll|two_moons|rings]
//                 [--steps N] [--batch N] [--sde vp|ve|subvp] [--threads N]
//                 [--seed N] [--out DIR] [--resume]
//
// --resume continues from DIR/checkpoint.safetensors (written every 1000 steps
// and at the end) up to --steps in all; the result is bit-identical to a run
// that was never interrupted.
//
// Writes to DIR: loss.csv, loss.png (log scale), samples.png (data | samples),
// samples.csv, checkpoint.safetensors and ema_weights.safetensors.

#include <sgm/sgm.hpp>
#include <sgm/data/toy_2d.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/train/checkpoint.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/canvas.hpp"
#include "common/csv.hpp"
#include "common/loss_curve.hpp"
#include "common/moments.hpp"
#include "common/plot.hpp"

namespace {

using Real = float;
using backend = sgm::serial_backend<Real>;  // the network runs its own threads (cpu_context)

struct settings {
    sgm::data::toy_2d dataset = sgm::data::toy_2d::mixture;
    std::size_t steps = 20000;
    std::size_t batch = 256;
    std::string sde = "vp";
    int threads = 0;  // 0: all cores
    std::uint64_t seed = 2021;
    std::filesystem::path out = "train_2d_output";
    bool resume = false;
};

constexpr std::size_t data_count = 50000;  // training set size
constexpr std::size_t sample_count = 4000; // samples drawn at the end

[[noreturn]] void usage(const char* program, int code) {
    std::printf("usage: %s [--dataset mixture|checkerboard|swiss_roll|two_moons|rings] [--steps N] [--batch N]\n"
                "       [--sde vp|ve|subvp] [--threads N] [--seed N] [--out DIR] [--resume]\n",
                program);
    std::exit(code);
}

settings parse(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "train_2d: %s needs a value\n", arg.c_str());
                usage(argv[0], 2);
            }
            return argv[++i];
        };
        const auto count = [&]() { return std::size_t(std::max(1L, std::strtol(value().c_str(), nullptr, 10))); };
        if (arg == "--dataset") s.dataset = sgm::data::parse_toy_2d(value());
        else if (arg == "--steps") s.steps = count();
        else if (arg == "--batch") s.batch = count();
        else if (arg == "--sde") s.sde = value();
        else if (arg == "--threads") s.threads = int(std::max(0L, std::strtol(value().c_str(), nullptr, 10)));
        else if (arg == "--seed") s.seed = std::strtoull(value().c_str(), nullptr, 10);
        else if (arg == "--out") s.out = value();
        else if (arg == "--resume") s.resume = true;
        else if (arg == "--help" || arg == "-h") usage(argv[0], 0);
        else {
            std::fprintf(stderr, "train_2d: unknown argument '%s'\n", arg.c_str());
            usage(argv[0], 2);
        }
    }
    if (s.sde != "vp" && s.sde != "ve" && s.sde != "subvp")
        throw sgm::error("train_2d: unknown SDE '" + s.sde + "'; expected vp, ve or subvp");
    return s;
}

std::string format(const char* fmt, auto... values) {
    char text[256];
    std::snprintf(text, sizeof text, fmt, values...);
    return text;
}

std::vector<double> to_double(const std::vector<Real>& v) { return {v.begin(), v.end()}; }

// ---- pictures -----------------------------------------------------------------

using examples::ink;
using examples::grey;

// Data and samples side by side over the same box.
bool draw_scatter(const std::vector<double>& data, const std::vector<double>& samples,
                  const std::filesystem::path& path, const std::string& title, const std::string& subtitle) {
    constexpr int size = 400, margin = 16, header = 56;
    double reach = 0;
    for (const double v : data) reach = std::max(reach, std::abs(v));
    reach *= 1.1;
    examples::canvas c(2 * size + 3 * margin, size + header + 2 * margin);
    c.text(margin, 10, title, ink, 2);
    c.text(margin, 32, subtitle, grey, 1);
    const std::vector<std::pair<const std::vector<double>*, std::string>> panels{{&data, "data"},
                                                                                {&samples, "samples (EMA weights)"}};
    for (std::size_t p = 0; p < panels.size(); ++p) {
        examples::view v{-reach, reach, -reach, reach, margin + int(p) * (size + margin), header + margin, size, size};
        const std::size_t outside = examples::scatter(c, v, *panels[p].first,
                                                      p == 0 ? examples::rgb{40, 90, 160} : examples::rgb{200, 55, 25},
                                                      1.2, 0.5);
        examples::grid(c, v, reach > 6 ? 2.0 : 1.0, {160, 160, 160}, {130, 130, 130});
        c.text(v.left + 6, v.top + 6, panels[p].second + (outside ? format("  (%zu outside)", outside) : ""), ink, 1);
        c.frame(v.left - 1, v.top - 1, size + 2, size + 2, {90, 90, 90});
    }
    return c.write_png(path.string());
}

// ---- training and sampling ----------------------------------------------------

template <class SDE>
int run(const settings& s, const SDE& sde, const std::string& sde_text, const std::vector<Real>& data) {
    sgm::nn::mlp_config net_config;  // 2 → [128 SiLU] × 3 → 2, 32-value time embedding
    net_config.seed = s.seed;
    sgm::nn::mlp<Real> net(net_config, sgm::nn::cpu_context(s.threads));
    sgm::nn::score_network model(std::move(net), sde, sgm::nn::score_network_options{}, backend{});

    const sgm::train::config_map config{
        {"dataset", std::string(sgm::data::toy_2d_name(s.dataset))},
        {"sde", sde_text},
        {"network", format("mlp hidden %zu depth %zu embedding %zu", net_config.hidden, net_config.depth,
                           net_config.embedding_size)}};
    sgm::train::trainer_options o;
    o.steps = s.steps;
    o.batch_size = s.batch;
    o.seed = s.seed;
    o.ema_rate = 0.999;
    o.adam.learning_rate = 1e-3;
    o.adam.warmup = 500;
    o.checkpoint_path = s.out / "checkpoint.safetensors";
    o.checkpoint_every = 1000;
    o.log_csv_path = s.out / "loss.csv";
    o.log_every = 50;
    o.progress = true;
    sgm::train::trainer trainer(model, sgm::train::continuous_dsm_loss<SDE>(sde), std::span<const Real>(data),
                                data.size() / 2, o, config);
    if (s.resume) {
        if (std::filesystem::exists(o.checkpoint_path)) {
            trainer.resume(o.checkpoint_path);
            std::printf("resumed from %s at step %llu\n", o.checkpoint_path.string().c_str(),
                        static_cast<unsigned long long>(trainer.step()));
        } else {
            std::printf("no checkpoint at %s: starting afresh\n", o.checkpoint_path.string().c_str());
        }
    }
    std::printf("training: %zu steps of batch %zu on %zu %s samples, %s SDE, %d threads\n", s.steps, s.batch,
                data.size() / 2, std::string(sgm::data::toy_2d_name(s.dataset)).c_str(), s.sde.c_str(),
                sgm::nn::cpu_context(s.threads).threads());
    std::fflush(stdout);
    const auto summary = trainer.train();
    if (summary.last_step > summary.first_step)
        std::printf("trained steps %llu..%llu in %.1f s (%.0f steps/s); loss (running mean) %.4f\n",
                    static_cast<unsigned long long>(summary.first_step),
                    static_cast<unsigned long long>(summary.last_step), summary.seconds, summary.steps_per_second,
                    summary.final_loss);

    // Sample with the EMA weights and ship them.
    const auto params = trainer.parameters();
    trainer.average().copy_to(params);
    sgm::train::save_weights(s.out / "ema_weights.safetensors", params, config);
    sgm::pc_options p;
    p.count = sample_count;
    p.seed = s.seed + 1;
    const auto start = std::chrono::steady_clock::now();
    const auto result = sgm::pc_sample(sde, model, sgm::reverse_diffusion{}, sgm::no_corrector{}, p, backend{});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto samples = to_double(result.samples.to_host());
    std::printf("sampled %zu points in %.1f s (%zu score evaluations)\n", sample_count, seconds, result.nfe);

    std::vector<double> shown(data.begin(), data.begin() + std::ptrdiff_t(2 * sample_count));
    std::vector<double> steps, losses;
    examples::read_loss_log(o.log_csv_path, steps, losses);
    const std::string name(sgm::data::toy_2d_name(s.dataset));
    const bool png =
        examples::draw_loss_curve(steps, losses, s.out / "loss.png", format("%s, %s SDE: training loss", name.c_str(), s.sde.c_str())) &&
        draw_scatter(shown, samples, s.out / "samples.png",
                     format("%s: %zu data points | %zu samples", name.c_str(), sample_count, sample_count),
                     format("%s SDE, %llu steps of batch %zu, reverse diffusion N = %zu", s.sde.c_str(),
                            static_cast<unsigned long long>(trainer.step()), s.batch, std::size_t(sde.steps())));
    examples::write_csv((s.out / "samples.csv").string(), samples, 2);

    std::printf("\nWrote to %s/:\n", s.out.string().c_str());
    std::printf("  loss.csv                 step, loss, grad_norm, learning_rate, seconds\n");
    if (png)
        std::printf("  loss.png                 the loss curve (log scale)\n"
                    "  samples.png              data | samples\n");
    else
        std::printf("  (no PNG files: this build has no stb_image_write; install libstb-dev and rebuild)\n");
    std::printf("  samples.csv              the samples (columns x0,x1)\n"
                "  checkpoint.safetensors   the full training state (--resume continues from it)\n"
                "  ema_weights.safetensors  the EMA weights alone\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    const settings s = parse(argc, argv);
    std::filesystem::create_directories(s.out);
    const auto data = sgm::data::sample_toy_2d<Real>(s.dataset, data_count, s.seed);
    if (s.sde == "ve") {
        // sigma_max about the largest distance between two data points, as the paper advises.
        const std::vector<double> some(data.begin(), data.begin() + 2 * 2000);
        const double sigma_max = std::ceil(examples::largest_distance_2d(some));
        return run(s, sgm::ve_sde<Real>(0.01f, Real(sigma_max), 1000), format("ve 0.01 %g 1000", sigma_max), data);
    }
    if (s.sde == "subvp") return run(s, sgm::sub_vp_sde<Real>(0.1f, 20.0f, 1000), "subvp 0.1 20 1000", data);
    return run(s, sgm::vp_sde<Real>(0.1f, 20.0f, 1000), "vp 0.1 20 1000", data);
} catch (const std::exception& e) {
    std::fprintf(stderr, "\ntrain_2d: %s\n", e.what());
    return 1;
}
