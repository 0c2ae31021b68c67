// sgm-sample — draw images from a trained score model and write them as a PNG grid
// and, optionally, a NumPy .npy array.
//
//   sgm-sample                                   # 64 digits from the bundled VP model
//   sgm-sample --model mnist_ve --sampler ode --count 16 --out ode.png --npy ode.npy
//   sgm-sample --predictor euler-maruyama --corrector none --steps 250
//   sgm-sample --class all --count 80 --columns 8 --check-with mnist_classifier   # a row per digit
//   sgm-sample-cuda --count 1024 --batch 1024    # on an NVIDIA GPU (CUDA builds)
//
// Samples are drawn in batches of --batch; sample i always gets the same noise
// (counter-based, keyed by --seed and i), so the pictures do not depend on --batch
// or --threads.
//
// sgm-sample-cuda is this program compiled by nvcc (SGM_ENABLE_CUDA=ON): with
// --device cuda (its default) the network runs as nn::backend_unet and the
// sampler's state lives on the GPU; --device cpu gives the CPU path.

#include <sgm/data/scaling.hpp>
#include <sgm/io/npy.hpp>
#include <sgm/control/guided_score.hpp>
#include <sgm/models/classifier_model.hpp>
#include <sgm/models/image_model.hpp>
#include <sgm/nn/backend_unet.hpp>
#include <sgm/nn/classifier_guide.hpp>
#include <sgm/sample/step_info.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#if SGM_CUDA_COMPILER
#include <cuda_runtime.h>

#include <sgm/backend/thrust.hpp>
#endif

#include "classify.hpp"
#include "flags.hpp"
#include "guidance.hpp"
#include "image_grid.hpp"
#include "model_path.hpp"
#include "progress.hpp"
#include "sampler_choice.hpp"

namespace {

using Real = float;

struct settings {
    std::string model = "mnist_vp";
    cli::sampler_choice sampler;
    cli::guidance_choice guidance;
    std::string check_with;
    std::size_t count = 64, batch = 64, columns = 8;
    std::uint64_t seed = 1;
    int threads = 0;
    std::filesystem::path out = "samples.png", npy, trajectory;
    std::size_t frames = 10;
    std::size_t zoom = 3;
    bool quiet = false;
    std::string device = SGM_CUDA_COMPILER ? "cuda" : "cpu";
};

// Pixels of the model's range -> [0, 1] for pictures and files (samples leave the
// range slightly; they are clipped first).
std::vector<Real> to_unit(std::vector<Real> x, sgm::data::pixel_range range) {
    sgm::data::clip_to_range(std::span<Real>(x), range);
    sgm::data::from_range(std::span<Real>(x), range);
    return x;
}

// Keeps x(t) of the first `rows` samples at `frames` times evenly spaced from T to
// the end (the first report at or below each time), for a picture of noise turning
// into images. The state lives in host memory on the CPU backend.
struct trajectory_recorder {
    std::size_t rows = 0, frames = 0;
    double t_end = 1;
    std::vector<float> frames_data;  // frame-major: rows images per frame
    std::vector<double> times;

    template <class Report>
    void operator()(const Report& r) {
        if (times.size() + 1 >= frames) return;  // the last frame is the final sample
        const double target = t_end * (1.0 - double(times.size()) / double(frames - 1));
        if (double(r.t) > target + 1e-12 && !(r.index == 0 && times.empty())) return;
        frames_data.insert(frames_data.end(), r.x.data, r.x.data + rows * r.x.dim);
        times.push_back(double(r.t));
    }
};

// What an independent classifier makes of the samples: its class histogram and,
// for guided samples, how often it agrees with the requested class.
void check_samples(const settings& s, const std::vector<Real>& pixels, const std::vector<std::size_t>& requested) {
    auto c = sgm::models::load_classifier<Real>(cli::resolve_model(s.check_with, "--check-with"), s.threads);
    const auto predicted = cli::predict_classes(c, pixels, s.count);
    std::vector<std::size_t> histogram(c.network.classes(), 0);
    std::size_t agree = 0;
    for (std::size_t i = 0; i < s.count; ++i) {
        ++histogram[predicted[i]];
        if (!requested.empty()) agree += predicted[i] == requested[i];
    }
    std::printf("classes by %s:", s.check_with.c_str());
    for (std::size_t k = 0; k < histogram.size(); ++k) std::printf(" %zu:%zu", k, histogram[k]);
    std::printf("\n");
    if (!requested.empty())
        std::printf("agreement with the requested class: %.1f%% (%zu of %zu)\n", 100.0 * double(agree) / double(s.count),
                    agree, s.count);
}

// set_labels(model, first, n) prepares the model for samples [first, first + n);
// the sampler runs on the backend be (the model's).
template <class Model, class SDE, class SetLabels, class Backend>
int sample(const settings& s, Model& model, const SDE& sde, const sgm::models::image_model_spec& spec,
           SetLabels&& set_labels, const Backend& be) {
    const std::size_t dim = spec.dim();
    std::vector<Real> pixels;
    pixels.reserve(s.count * dim);
    std::size_t nfe = 0;
    cli::progress_bar bar("sampling", s.count, "samples");
    const auto start = std::chrono::steady_clock::now();
    trajectory_recorder recorder{std::min<std::size_t>(8, std::min(s.batch, s.count)), s.frames, double(sde.T()), {}, {}};
    for (std::size_t first = 0; first < s.count; first += s.batch) {
        const std::size_t n = std::min(s.batch, s.count - first);
        set_labels(model, first, n);
        auto result = first == 0 && !s.trajectory.empty() ? s.sampler.run(sde, model, n, s.seed, first, be, recorder)
                                                           : s.sampler.run(sde, model, n, s.seed, first, be);
        const auto host = result.samples.to_host();
        pixels.insert(pixels.end(), host.begin(), host.end());
        nfe += result.nfe;
        bar.update(first + n);
    }
    bar.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    pixels = to_unit(std::move(pixels), spec.range);

    const cli::image_shape shape{spec.network.channels, spec.network.height, spec.network.width};
    cli::write_image_grid(s.out, pixels, s.count, shape, s.columns, s.zoom);
    if (!s.trajectory.empty()) {
        // Rows: samples; columns: x(t) at the recorded times, then the final sample.
        const std::size_t rows = recorder.rows, cols = recorder.times.size() + 1;
        std::vector<Real> strip(rows * cols * dim);
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c + 1 < cols; ++c)
                std::copy_n(recorder.frames_data.begin() + std::ptrdiff_t((c * rows + r) * dim), dim,
                            strip.begin() + std::ptrdiff_t((r * cols + c) * dim));
            std::copy_n(pixels.begin() + std::ptrdiff_t(r * dim), dim,
                        strip.begin() + std::ptrdiff_t((r * cols + cols - 1) * dim));
        }
        // The recorded states are in the model's range; the last column is already in [0, 1].
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c + 1 < cols; ++c) {
                auto part = std::span<Real>(strip).subspan((r * cols + c) * dim, dim);
                sgm::data::clip_to_range(part, spec.range);
                sgm::data::from_range(part, spec.range);
            }
        cli::write_image_grid(s.trajectory, strip, rows * cols, shape, cols, s.zoom);
        std::printf("trajectory: x(t) at t =");
        for (const double t : recorder.times) std::printf(" %.3g", t);
        std::printf(", then the sample\n");
    }
    if (!s.npy.empty())
        sgm::io::write_npy(s.npy, {s.count, shape.channels, shape.height, shape.width}, std::span<const Real>(pixels));
    std::printf("%zu samples, %s, %s: %.1f s (%.1f samples/s), %zu score evaluations per batch of %zu\n", s.count,
                spec.data.c_str(), s.sampler.describe(sde.steps()).c_str(), seconds, double(s.count) / seconds,
                s.count <= s.batch ? nfe : nfe / ((s.count + s.batch - 1) / s.batch), std::min(s.batch, s.count));
    std::printf("wrote %s%s%s\n", s.out.string().c_str(), s.npy.empty() ? "" : " and ", s.npy.string().c_str());
    if (!s.check_with.empty()) {
        std::vector<std::size_t> requested;
        if constexpr (requires { model.labels(); })
            requested = s.guidance.labels(0, s.count, s.columns, model.classes());
        check_samples(s, pixels, requested);
    }
    return 0;
}

// Unconditional, or guided towards the requested classes by the time-conditioned classifier.
template <class Model, class SDE>
int sample(const settings& s, Model& model, const SDE& sde, const sgm::models::image_model_spec& spec) {
    if (!s.guidance.enabled())
        return sample(s, model, sde, spec, [](Model&, std::size_t, std::size_t) {}, sgm::tbb_backend<Real>(s.threads));
    auto c = sgm::models::load_classifier<Real>(cli::resolve_model(s.guidance.classifier, "--classifier"), s.threads);
    cli::guidance_choice::check_compatible(c.spec, spec, s.guidance.classifier);
    if (s.guidance.classes != "all") (void)s.guidance.fixed_class(c.network.classes());  // a bad --class fails early
    sgm::nn::classifier_guide<Real> guide(c.network);
    sgm::guided_score guided(model, guide, s.guidance.scale, sgm::tbb_backend<Real>(s.threads));
    std::printf("guided by %s towards %s, scale %g\n", s.guidance.classifier.c_str(),
                s.guidance.classes == "all" ? "class r in row r" : ("class " + s.guidance.classes).c_str(),
                s.guidance.scale);
    return sample(
        s, guided, sde, spec,
        [&](auto& g, std::size_t first, std::size_t n) {
            g.set_labels(s.guidance.labels(first, n, s.columns, guide.classes()));
        },
        sgm::tbb_backend<Real>(s.threads));
}

// --device cuda: the same network as nn::backend_unet and the sampler on the GPU.
template <class Model, class SDE>
int sample_on_gpu([[maybe_unused]] const settings& s, [[maybe_unused]] Model& model,
                  [[maybe_unused]] const SDE& sde, [[maybe_unused]] const sgm::models::image_model_spec& spec) {
#if SGM_CUDA_COMPILER
    if (s.guidance.enabled())
        throw cli::usage_error("--device cuda: classifier guidance runs on the CPU only; use --device cpu");
    if (!s.trajectory.empty())
        throw cli::usage_error("--device cuda: --trajectory is recorded on the CPU only; use --device cpu");
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
        throw sgm::error("--device cuda: no CUDA device is visible (use --device cpu)");
    using gpu = sgm::thrust_backend<Real, sgm::thrust_cuda>;
    sgm::nn::score_network on_gpu(sgm::nn::backend_unet<gpu>(model.network()), model.sde(), spec.score, gpu{});
    return sample(s, on_gpu, sde, spec, [](auto&, std::size_t, std::size_t) {}, gpu{});
#else
    throw cli::usage_error("--device cuda: this sgm-sample was built without CUDA; configure with "
                           "-DSGM_ENABLE_CUDA=ON and run sgm-sample-cuda");
#endif
}

int run(int argc, char** argv) {
    settings s;
    cli::flags f("sgm-sample", "Draw images from a trained score model; writes a PNG grid and optionally .npy.");
    f.add("--model", s.model, "FILE|NAME", "weights file, or a bundled model: mnist_vp, mnist_ve");
    s.sampler.add_flags(f);
    s.guidance.add_flags(f);
    f.add("--check-with", s.check_with, "FILE|NAME", "classify the samples with this classifier (e.g. mnist_classifier)");
    f.add("--count", s.count, "N", "number of samples");
    f.add("--batch", s.batch, "N", "samples per batch");
    f.add_seed("--seed", s.seed, "N", "noise seed");
    f.add("--threads", s.threads, "N", "worker threads (0 = all cores)");
    f.add("--out", s.out, "FILE.png", "PNG grid of the samples");
    f.add("--columns", s.columns, "N", "images per row of the grid");
    f.add("--zoom", s.zoom, "N", "pixel size in the grid");
    f.add("--npy", s.npy, "FILE.npy", "also write the samples as float32 (count, C, H, W) in [0, 1]");
    f.add("--trajectory", s.trajectory, "FILE.png", "also draw x(t) of the first samples at several times");
    f.add("--frames", s.frames, "N", "columns of the trajectory picture");
    f.add("--device", s.device, "cpu|cuda", "where the network and the sampler run (cuda: sgm-sample-cuda only)",
          {"cpu", "cuda"});
    f.parse(argc, argv);
    if (s.frames < 2) throw cli::usage_error("--frames " + std::to_string(s.frames) + " must be at least 2");
    if (s.zoom > 16) throw cli::usage_error("--zoom " + std::to_string(s.zoom) + " is too large; expected 1 to 16");

    const auto path = cli::resolve_model(s.model);
    return sgm::models::with_image_model<Real>(path, s.threads, s.sampler.sde_levels(),
                                               [&](auto& model, const auto& sde, const auto& spec) {
                                                   if (s.device == "cuda") return sample_on_gpu(s, model, sde, spec);
                                                   return sample(s, model, sde, spec);
                                               });
}

}  // namespace

int main(int argc, char** argv) { return cli::run_main("sgm-sample", [&] { return run(argc, argv); }); }
