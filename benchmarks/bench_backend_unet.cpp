// sgm_bench_backend_unet: a bundled MNIST model's U-Net on a backend, against the
// host unet (Eigen GEMMs, oneTBB). Built by the C++ compiler the backend is Thrust's
// TBB system; built by nvcc (sgm_bench_backend_unet_cuda, SGM_ENABLE_CUDA=ON) it is
// the GPU.
//
//   sgm_bench_backend_unet [--model FILE] [--batches 8,64] [--threads 0] [--reps 3]
//                          [--sample] [--steps 1000] [--ode-tol 1e-5] [--train]
//
// Per batch: one score evaluation (forward) and one score + vector–Jacobian product
// (forward and input backward, as the likelihood and guidance need), best of --reps,
// on the host network and on backend_unet; the largest difference of their scores.
// --sample adds, on the backend only, PC sampling (reverse diffusion + Langevin,
// --steps levels) and the probability-flow ODE (RK45, RMS norm): samples/s.
// --train adds training steps (continuous DSM loss, Adam, EMA, dropout on) of the
// host unet and of backend_unet through the same trainer: images/s, best of --reps
// steps after one warm-up step.

#include <sgm/sgm.hpp>
#include <sgm/backend/thrust.hpp>
#include <sgm/models/image_model.hpp>
#include <sgm/nn/backend_unet.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#if SGM_CUDA_COMPILER
#include <cuda_runtime.h>
#endif

namespace {

using Real = float;
#if SGM_CUDA_COMPILER
using device = sgm::thrust_backend<Real, sgm::thrust_cuda>;
constexpr const char* device_name = "Thrust CUDA";
#else
using device = sgm::thrust_backend<Real, sgm::thrust_tbb>;
constexpr const char* device_name = "Thrust TBB";
#endif
using host = sgm::tbb_backend<Real>;

struct settings {
    std::string model = "models/mnist_vp/weights.safetensors";
    std::vector<std::size_t> batches{8, 64};
    int threads = 0;
    int reps = 3;
    bool sample = false;
    bool train = false;
    std::size_t steps = 1000;
    double ode_tol = 1e-5;
};

std::vector<std::size_t> parse_sizes(const std::string& text) {
    std::vector<std::size_t> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoul(item));
    if (out.empty()) throw sgm::error("--batches: expected a comma-separated list such as 8,64");
    return out;
}

settings parse(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw sgm::error(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--model") s.model = value();
        else if (arg == "--batches") s.batches = parse_sizes(value());
        else if (arg == "--threads") s.threads = std::stoi(value());
        else if (arg == "--reps") s.reps = std::max(1, std::stoi(value()));
        else if (arg == "--sample") s.sample = true;
        else if (arg == "--train") s.train = true;
        else if (arg == "--steps") s.steps = std::stoul(value());
        else if (arg == "--ode-tol") s.ode_tol = std::stod(value());
        else throw sgm::error("unknown argument '" + arg + "'");
    }
    return s;
}

template <class F>
double best_seconds(int reps, F&& f) {
    double best = 1e300;
    for (int r = 0; r < reps; ++r) {
        const auto start = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

// Seconds for one score evaluation and one score + VJP of n inputs, and the scores.
template <class Model, class Backend>
std::pair<double, double> time_model(Model& model, const std::vector<Real>& x_host, const std::vector<Real>& t_host,
                                     std::size_t n, int reps, std::vector<Real>& score_host) {
    const Backend be;
    const std::size_t d = model.dim();
    typename Backend::vector x, t, v, s = be.make_vector(n * d), vjp = be.make_vector(n * d);
    be.copy_from_host(x_host, x);
    be.copy_from_host(t_host, t);
    be.copy_from_host(x_host, v);
    const sgm::batch_view<const Real> xv{Backend::data(x), n, d}, vv{Backend::data(v), n, d};
    const sgm::batch_view<Real> sv{Backend::data(s), n, d}, jv{Backend::data(vjp), n, d};
    model.score(xv, Backend::data(t), sv);  // warm-up: workspace
    const double forward = best_seconds(reps, [&] { model.score(xv, Backend::data(t), sv); });
    const double with_vjp = best_seconds(reps, [&] { model.score_vjp(xv, Backend::data(t), vv, sv, jv); });
    score_host = be.to_host(s);
    return {forward, with_vjp};
}

// Seconds per training step of batch n: the trainer on `model` (host or backend
// network), one warm-up step, then the best of `reps` single steps.
template <class Model, class SDE>
double seconds_per_training_step(Model& model, const SDE& sde, std::size_t n, int reps) {
    const std::size_t count = 4 * n, d = model.dim();
    std::vector<Real> data(count * d);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = Real(std::sin(0.017 * double(i)));
    sgm::train::trainer_options o;
    o.steps = 1;
    o.batch_size = n;
    sgm::train::trainer trainer(model, sgm::train::continuous_dsm_loss(sde), std::span<const Real>(data), count, o);
    trainer.train();
    std::size_t done = 1;
    return best_seconds(reps, [&] {
        trainer.set_total_steps(++done);
        trainer.train();
    });
}

void report_device_memory() {
#if SGM_CUDA_COMPILER
    std::size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) == cudaSuccess)
        std::printf("device memory in use after the run (workspace kept): %.1f MiB of %.1f MiB\n",
                    double(total - free) / 1048576.0, double(total) / 1048576.0);
#endif
}

}  // namespace

int main(int argc, char** argv) try {
    const settings s = parse(argc, argv);
#if SGM_CUDA_COMPILER
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
        throw sgm::error("no CUDA device: this build runs backend_unet on the GPU");
#endif
    std::printf("model %s; backend_unet on %s against the host unet (oneTBB, threads %d)\n", s.model.c_str(),
                device_name, s.threads);
    return sgm::models::with_image_model<Real>(s.model, s.threads, s.steps, [&](auto& model, const auto& sde,
                                                                                  const auto& spec) {
        sgm::nn::score_network on_device(sgm::nn::backend_unet<device>(model.network()), model.sde(), spec.score,
                                         device{});
        std::printf("\n| batch | host forward s | backend forward s | host score+VJP s | backend score+VJP s | "
                    "max |score difference| |\n|---:|---:|---:|---:|---:|---:|\n");
        for (const std::size_t n : s.batches) {
            const std::size_t d = model.dim();
            std::vector<Real> x(n * d), t(n);
            for (std::size_t i = 0; i < x.size(); ++i) x[i] = Real(std::sin(0.013 * double(i)));
            for (std::size_t b = 0; b < n; ++b) t[b] = Real(0.05 + 0.9 * double(b) / double(n));
            std::vector<Real> a, b;
            const auto [hf, hv] = time_model<decltype(model), host>(model, x, t, n, s.reps, a);
            const auto [df, dv] = time_model<decltype(on_device), device>(on_device, x, t, n, s.reps, b);
            double worst = 0;
            for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
            std::printf("| %zu | %.4f | %.4f | %.4f | %.4f | %.2g |\n", n, hf, df, hv, dv, worst);
        }
        if (s.sample) {
            std::printf("\n| batch | sampler | NFE | seconds | samples/s |\n|---:|---|---:|---:|---:|\n");
            for (const std::size_t n : s.batches) {
                sgm::pc_options pc;
                pc.count = n;
                pc.seed = 1;
                std::size_t nfe = 0;
                const double pc_s = best_seconds(1, [&] {
                    nfe = sgm::pc_sample(sde, on_device, sgm::reverse_diffusion{}, sgm::langevin{}, pc, device{}).nfe;
                });
                std::printf("| %zu | PC reverse diffusion + Langevin, N = %zu | %zu | %.2f | %.2f |\n", n, s.steps, nfe,
                            pc_s, double(n) / pc_s);
                sgm::ode_options ode;
                ode.count = n;
                ode.seed = 1;
                ode.rtol = ode.atol = s.ode_tol;
                ode.error_norm = sgm::odeint::error_norm::rms;
                const double ode_s = best_seconds(1, [&] {
                    nfe = sgm::ode_sample(sde, on_device, ode, device{}).nfe;
                });
                std::printf("| %zu | ODE RK45, tol %g, RMS norm | %zu | %.2f | %.2f |\n", n, s.ode_tol, nfe, ode_s,
                            double(n) / ode_s);
            }
        }
        if (s.train) {
            std::printf("\n| batch | host unet images/s | backend_unet images/s |\n|---:|---:|---:|\n");
            for (const std::size_t n : s.batches) {
                auto on_host = model;  // copies: training changes the weights
                sgm::nn::score_network trained_on_device(sgm::nn::backend_unet<device>(model.network()), model.sde(),
                                                         spec.score, device{});
                const double h = seconds_per_training_step(on_host, model.sde(), n, s.reps);
                const double g = seconds_per_training_step(trained_on_device, model.sde(), n, s.reps);
                std::printf("| %zu | %.1f | %.1f |\n", n, double(n) / h, double(n) / g);
            }
        }
        report_device_memory();
        return 0;
    });
} catch (const std::exception& e) {
    std::fprintf(stderr, "sgm_bench_backend_unet: %s\n", e.what());
    return 1;
}
