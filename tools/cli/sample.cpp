// sgm-sample — draw images from a trained score model and write them as a PNG grid
// and, optionally, a NumPy .npy array.
//
//   sgm-sample                                   # 64 digits from the bundled VP model
//   sgm-sample --model mnist_ve --sampler ode --count 16 --out ode.png --npy ode.npy
//   sgm-sample --predictor euler-maruyama --corrector none --steps 250
//
// Samples are drawn in batches of --batch; sample i always gets the same noise
// (counter-based, keyed by --seed and i), so the pictures do not depend on --batch
// or --threads.

#include <sgm/data/scaling.hpp>
#include <sgm/io/npy.hpp>
#include <sgm/models/image_model.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "flags.hpp"
#include "image_grid.hpp"
#include "model_path.hpp"
#include "progress.hpp"
#include "sampler_choice.hpp"

namespace {

using Real = float;

struct settings {
    std::string model = "mnist_vp";
    cli::sampler_choice sampler;
    std::size_t count = 64, batch = 64, columns = 8;
    std::uint64_t seed = 1;
    int threads = 0;
    std::filesystem::path out = "samples.png", npy;
    std::size_t zoom = 3;
    bool quiet = false;
};

// Pixels of the model's range -> [0, 1] for pictures and files (samples leave the
// range slightly; they are clipped first).
std::vector<Real> to_unit(std::vector<Real> x, sgm::data::pixel_range range) {
    sgm::data::clip_to_range(std::span<Real>(x), range);
    sgm::data::from_range(std::span<Real>(x), range);
    return x;
}

template <class Model, class SDE>
int sample(const settings& s, Model& model, const SDE& sde, const sgm::models::image_model_spec& spec) {
    const std::size_t dim = spec.dim();
    const sgm::tbb_backend<Real> be(s.threads);
    std::vector<Real> pixels;
    pixels.reserve(s.count * dim);
    std::size_t nfe = 0;
    cli::progress_bar bar("sampling", s.count, "samples");
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < s.count; first += s.batch) {
        const std::size_t n = std::min(s.batch, s.count - first);
        auto result = s.sampler.run(sde, model, n, s.seed, first, be);
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
    if (!s.npy.empty())
        sgm::io::write_npy(s.npy, {s.count, shape.channels, shape.height, shape.width}, std::span<const Real>(pixels));
    std::printf("%zu samples, %s, %s: %.1f s (%.1f samples/s), %zu score evaluations per batch of %zu\n", s.count,
                spec.data.c_str(), s.sampler.describe(sde.steps()).c_str(), seconds, double(s.count) / seconds,
                s.count <= s.batch ? nfe : nfe / ((s.count + s.batch - 1) / s.batch), std::min(s.batch, s.count));
    std::printf("wrote %s%s%s\n", s.out.string().c_str(), s.npy.empty() ? "" : " and ", s.npy.string().c_str());
    return 0;
}

int run(int argc, char** argv) {
    settings s;
    cli::flags f("sgm-sample", "Draw images from a trained score model; writes a PNG grid and optionally .npy.");
    f.add("--model", s.model, "FILE|NAME", "weights file, or a bundled model: mnist_vp, mnist_ve");
    s.sampler.add_flags(f);
    f.add("--count", s.count, "N", "number of samples");
    f.add("--batch", s.batch, "N", "samples per batch");
    f.add_seed("--seed", s.seed, "N", "noise seed");
    f.add("--threads", s.threads, "N", "worker threads (0 = all cores)");
    f.add("--out", s.out, "FILE.png", "PNG grid of the samples");
    f.add("--columns", s.columns, "N", "images per row of the grid");
    f.add("--zoom", s.zoom, "N", "pixel size in the grid");
    f.add("--npy", s.npy, "FILE.npy", "also write the samples as float32 (count, C, H, W) in [0, 1]");
    f.parse(argc, argv);
    if (s.zoom > 16) throw cli::usage_error("--zoom " + std::to_string(s.zoom) + " is too large; expected 1 to 16");

    const auto path = cli::resolve_model(s.model);
    return sgm::models::with_image_model<Real>(path, s.threads, s.sampler.sde_levels(),
                                               [&](auto& model, const auto& sde, const auto& spec) {
                                                   return sample(s, model, sde, spec);
                                               });
}

}  // namespace

int main(int argc, char** argv) { return cli::run_main("sgm-sample", [&] { return run(argc, argv); }); }
