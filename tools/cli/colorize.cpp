// sgm-colorize — colour gray images with a score model trained on colour images
// (Song et al. 2021, appendix I.3): in an orthonormal basis whose first channel
// is the gray value, the gray channel is held to the observation (perturbed to
// the current time) while the colour channels are sampled.
//
//   sgm-colorize --model runs/mnist_color_vp/weights.safetensors --data mnist-color
//
// Writes a PNG grid, one row per test image: its gray version, the original,
// then the colorizations.

#include <sgm/control/colorize.hpp>
#include <sgm/data/scaling.hpp>
#include <sgm/io/npy.hpp>
#include <sgm/models/image_model.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "flags.hpp"
#include "image_grid.hpp"
#include "model_path.hpp"
#include "progress.hpp"
#include "sampler_choice.hpp"
#include "test_images.hpp"

namespace {

using Real = float;

struct settings {
    std::string model = "mnist_color_vp", dataset = "mnist-color";
    std::filesystem::path data_dir, out = "colorization.png", npy;
    cli::sampler_choice sampler;
    std::size_t first = 0, count = 8, samples = 4, batch = 64, zoom = 3;
    std::uint64_t seed = 1;
    int threads = 0;
};

template <class Model, class SDE>
int colorize(const settings& s, Model& model, const SDE& sde, const sgm::models::image_model_spec& spec) {
    const cli::image_shape shape{spec.network.channels, spec.network.height, spec.network.width};
    if (shape.channels < 2)
        throw cli::usage_error("--model '" + s.model + "' has " + std::to_string(shape.channels) +
                               " channel; colorization needs a colour model (e.g. mnist_color_vp)");
    const std::size_t d = shape.size(), hw = shape.height * shape.width, c = shape.channels, k = s.samples;
    const std::size_t total = s.count * k;
    const auto images = cli::load_test_images(s.dataset, s.data_dir, s.first, s.count, d);
    // Gray = mean of the channels, in [0, 1] for the picture and in the model's range to condition on.
    std::vector<Real> gray(s.count * hw, 0);
    for (std::size_t i = 0; i < s.count; ++i)
        for (std::size_t ch = 0; ch < c; ++ch)
            for (std::size_t p = 0; p < hw; ++p) gray[i * hw + p] += images.pixels[i * d + ch * hw + p] / Real(c);
    std::vector<Real> observed = gray;
    sgm::data::to_range(std::span<Real>(observed), spec.range);

    using backend = sgm::tbb_backend<Real>;
    const backend be(s.threads);
    const auto transform = sgm::channel_transform<Real>::gray_first(c);
    sgm::decoupled_score<Model> decoupled(model, transform, be);
    std::vector<Real> colours;
    colours.reserve(total * d);
    std::size_t nfe = 0;
    cli::progress_bar bar("colorizing", total, "images");
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < total; first += s.batch) {
        const std::size_t n = std::min(s.batch, total - first);
        std::vector<Real> batch_gray(n * hw);
        for (std::size_t j = 0; j < n; ++j)
            std::copy_n(observed.begin() + std::ptrdiff_t(((first + j) / k) * hw), hw,
                        batch_gray.begin() + std::ptrdiff_t(j * hw));
        const auto target = sgm::colorization_target(std::span<const Real>(batch_gray), n, c, be);
        const auto result = s.sampler.impute(sde, decoupled, target, s.seed, first, be);
        const auto host = transform.to_channels(result.samples, be).to_host();
        colours.insert(colours.end(), host.begin(), host.end());
        nfe += result.nfe;
        bar.update(first + n);
    }
    bar.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sgm::data::clip_to_range(std::span<Real>(colours), spec.range);
    sgm::data::from_range(std::span<Real>(colours), spec.range);

    // How well the colorizations keep the gray they were given (after clipping to the pixel range).
    double gray_error = 0;
    for (std::size_t j = 0; j < total; ++j)
        for (std::size_t p = 0; p < hw; ++p) {
            double mean = 0;
            for (std::size_t ch = 0; ch < c; ++ch) mean += colours[j * d + ch * hw + p] / double(c);
            gray_error = std::max(gray_error, std::abs(mean - double(gray[(j / k) * hw + p])));
        }

    const std::size_t columns = k + 2;
    std::vector<Real> grid;
    grid.reserve(s.count * columns * d);
    for (std::size_t i = 0; i < s.count; ++i) {
        for (std::size_t ch = 0; ch < c; ++ch)
            grid.insert(grid.end(), gray.begin() + std::ptrdiff_t(i * hw), gray.begin() + std::ptrdiff_t((i + 1) * hw));
        grid.insert(grid.end(), images.pixels.begin() + std::ptrdiff_t(i * d), images.pixels.begin() + std::ptrdiff_t((i + 1) * d));
        grid.insert(grid.end(), colours.begin() + std::ptrdiff_t(i * k * d), colours.begin() + std::ptrdiff_t((i + 1) * k * d));
    }
    cli::write_image_grid(s.out, grid, s.count * columns, shape, columns, s.zoom);
    if (!s.npy.empty())
        sgm::io::write_npy(s.npy, {total, shape.channels, shape.height, shape.width}, std::span<const Real>(colours));
    std::printf("%zu colorizations (%zu per image), %s: %.1f s (%.2f images/s), %zu score evaluations per batch of %zu\n",
                total, k, s.sampler.describe(sde.steps()).c_str(), seconds, double(total) / seconds,
                total <= s.batch ? nfe : nfe / ((total + s.batch - 1) / s.batch), std::min(s.batch, total));
    std::printf("largest gray difference from the input: %.3g (pixel values in [0, 1], after clipping)\n", gray_error);
    std::printf("wrote %s: gray input, original, %zu colorizations per row\n", s.out.string().c_str(), k);
    return 0;
}

int run(int argc, char** argv) {
    settings s;
    cli::flags f("sgm-colorize", "Colour gray test images with a score model trained on colour images.");
    f.add("--model", s.model, "FILE|NAME", "weights file of a colour model, or a bundled one: mnist_color_vp");
    f.add("--data", s.dataset, "NAME", "data set of the test images", cli::dataset_names);
    f.add("--data-dir", s.data_dir, "DIR", "folder of the data set");
    f.add("--first", s.first, "I", "first test image", true);
    f.add("--count", s.count, "N", "number of test images");
    f.add("--samples", s.samples, "K", "colorizations per image");
    s.sampler.add_flags(f);
    f.add("--batch", s.batch, "N", "images per batch");
    f.add_seed("--seed", s.seed, "N", "noise seed");
    f.add("--threads", s.threads, "N", "worker threads (0 = all cores)");
    f.add("--out", s.out, "FILE.png", "the picture");
    f.add("--zoom", s.zoom, "N", "pixel size in the grid");
    f.add("--npy", s.npy, "FILE.npy", "also write the colorizations as float32 (count*K, C, H, W) in [0, 1]");
    f.parse(argc, argv);
    if (s.zoom > 16) throw cli::usage_error("--zoom " + std::to_string(s.zoom) + " is too large; expected 1 to 16");
    const auto path = cli::resolve_model(s.model);
    return sgm::models::with_image_model<Real>(path, s.threads, s.sampler.sde_levels(),
                                               [&](auto& model, const auto& sde, const auto& spec) {
                                                   return colorize(s, model, sde, spec);
                                               });
}

}  // namespace

int main(int argc, char** argv) { return cli::run_main("sgm-colorize", [&] { return run(argc, argv); }); }
