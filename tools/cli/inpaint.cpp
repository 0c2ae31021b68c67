// sgm-inpaint — complete test images whose pixels are partly hidden, with an
// unconditional score model (Song et al. 2021, appendix I.2): every sampler step
// replaces the known pixels by the image perturbed to the current time.
//
//   sgm-inpaint                                   # 8 digits, bottom half hidden, 4 completions each
//   sgm-inpaint --mask center --count 10 --check-with mnist_classifier
//   sgm-inpaint --mask random --missing 0.8 --sampler ode
//
// Writes a PNG grid, one row per image: the original, the visible part (hidden
// pixels gray), then the completions; with --check-with, how often a classifier
// gives a completion the class it gives the original.

#include <sgm/control/impute.hpp>
#include <sgm/data/scaling.hpp>
#include <sgm/io/npy.hpp>
#include <sgm/models/classifier_model.hpp>
#include <sgm/models/image_model.hpp>
#include <sgm/random/philox_uniform.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "classify.hpp"
#include "flags.hpp"
#include "image_grid.hpp"
#include "model_path.hpp"
#include "progress.hpp"
#include "sampler_choice.hpp"
#include "test_images.hpp"

namespace {

using Real = float;

struct settings {
    std::string model = "mnist_vp", dataset = "mnist", mask = "bottom", check_with;
    std::filesystem::path data_dir, out = "inpainting.png", npy;
    cli::sampler_choice sampler;
    std::size_t first = 0, count = 8, completions = 4, batch = 64, zoom = 3;
    double missing = 0.7;
    std::uint64_t seed = 1;
    int threads = 0;
};

// The mask of test image `image` (1 = known): the same for every channel of a pixel.
std::vector<Real> make_mask(const settings& s, const cli::image_shape& shape, std::size_t image) {
    const std::size_t h = shape.height, w = shape.width, hw = h * w;
    std::vector<Real> pixel(hw, Real(1));
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            bool hidden = false;
            if (s.mask == "bottom") hidden = y >= h / 2;
            else if (s.mask == "right") hidden = x >= w / 2;
            else if (s.mask == "center") hidden = y >= h / 4 && y < h - h / 4 && x >= w / 4 && x < w - w / 4;
            else hidden = sgm::random::uniform<double>(s.seed, image, 7, y * w + x) < s.missing;
            if (hidden) pixel[y * w + x] = Real(0);
        }
    std::vector<Real> mask(shape.size());
    for (std::size_t c = 0; c < shape.channels; ++c) std::copy(pixel.begin(), pixel.end(), mask.begin() + std::ptrdiff_t(c * hw));
    return mask;
}

template <class Model, class SDE>
int inpaint(const settings& s, Model& model, const SDE& sde, const sgm::models::image_model_spec& spec) {
    const cli::image_shape shape{spec.network.channels, spec.network.height, spec.network.width};
    const std::size_t d = shape.size(), k = s.completions, total = s.count * k;
    const auto images = cli::load_test_images(s.dataset, s.data_dir, s.first, s.count, d);
    std::vector<Real> masks(s.count * d);
    for (std::size_t i = 0; i < s.count; ++i) {
        const auto m = make_mask(s, shape, s.first + i);
        std::copy(m.begin(), m.end(), masks.begin() + std::ptrdiff_t(i * d));
    }
    std::vector<Real> observed = images.pixels;
    sgm::data::to_range(std::span<Real>(observed), spec.range);

    const sgm::tbb_backend<Real> be(s.threads);
    std::vector<Real> completions;
    completions.reserve(total * d);
    std::size_t nfe = 0;
    cli::progress_bar bar("inpainting", total, "completions");
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < total; first += s.batch) {
        const std::size_t n = std::min(s.batch, total - first);
        std::vector<Real> mask(n * d), values(n * d);
        for (std::size_t j = 0; j < n; ++j) {  // completion j of the batch is of image (first + j) / k
            const std::size_t image = (first + j) / k;
            std::copy_n(masks.begin() + std::ptrdiff_t(image * d), d, mask.begin() + std::ptrdiff_t(j * d));
            std::copy_n(observed.begin() + std::ptrdiff_t(image * d), d, values.begin() + std::ptrdiff_t(j * d));
        }
        const sgm::imputation_target<sgm::tbb_backend<Real>> target(mask, values, n, d, be);
        const auto result = s.sampler.impute(sde, model, target, s.seed, first, be);
        const auto host = result.samples.to_host();
        completions.insert(completions.end(), host.begin(), host.end());
        nfe += result.nfe;
        bar.update(first + n);
    }
    bar.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sgm::data::clip_to_range(std::span<Real>(completions), spec.range);
    sgm::data::from_range(std::span<Real>(completions), spec.range);

    // Rows: original, visible part (hidden pixels mid-gray), completions.
    const std::size_t columns = k + 2;
    std::vector<Real> grid;
    grid.reserve(s.count * columns * d);
    for (std::size_t i = 0; i < s.count; ++i) {
        const auto original = images.pixels.begin() + std::ptrdiff_t(i * d);
        grid.insert(grid.end(), original, original + std::ptrdiff_t(d));
        for (std::size_t j = 0; j < d; ++j) grid.push_back(masks[i * d + j] != 0 ? original[std::ptrdiff_t(j)] : Real(0.35));
        grid.insert(grid.end(), completions.begin() + std::ptrdiff_t(i * k * d),
                    completions.begin() + std::ptrdiff_t((i + 1) * k * d));
    }
    cli::write_image_grid(s.out, grid, s.count * columns, shape, columns, s.zoom);
    if (!s.npy.empty())
        sgm::io::write_npy(s.npy, {total, shape.channels, shape.height, shape.width}, std::span<const Real>(completions));
    std::printf("%zu completions (%zu per image, mask %s), %s: %.1f s (%.2f completions/s), %zu score evaluations "
                "per batch of %zu\n",
                total, k, s.mask.c_str(), s.sampler.describe(sde.steps()).c_str(), seconds, double(total) / seconds,
                total <= s.batch ? nfe : nfe / ((total + s.batch - 1) / s.batch), std::min(s.batch, total));
    std::printf("wrote %s: original, visible part, %zu completions per row\n", s.out.string().c_str(), k);

    if (!s.check_with.empty()) {
        auto c = sgm::models::load_classifier<Real>(cli::resolve_model(s.check_with, "--check-with"), s.threads);
        const auto originals = cli::predict_classes(c, images.pixels, s.count);
        const auto completed = cli::predict_classes(c, completions, total);
        std::size_t agree = 0, labelled = 0;
        for (std::size_t j = 0; j < total; ++j) {
            agree += completed[j] == originals[j / k];
            if (!images.labels.empty()) labelled += completed[j] == std::size_t(images.labels[j / k]);
        }
        std::printf("%s gives the completion the original's class in %.1f%% (%zu of %zu)", s.check_with.c_str(),
                    100.0 * double(agree) / double(total), agree, total);
        if (!images.labels.empty())
            std::printf("; the true label in %.1f%% (%zu of %zu)", 100.0 * double(labelled) / double(total), labelled, total);
        std::printf("\n");
    }
    return 0;
}

int run(int argc, char** argv) {
    settings s;
    cli::flags f("sgm-inpaint", "Complete partly hidden test images with a trained score model; writes a PNG grid.");
    f.add("--model", s.model, "FILE|NAME", "weights file, or a bundled model: mnist_vp, mnist_ve");
    f.add("--data", s.dataset, "NAME", "data set of the test images", cli::dataset_names);
    f.add("--data-dir", s.data_dir, "DIR", "folder of the data set");
    f.add("--first", s.first, "I", "first test image", true);
    f.add("--count", s.count, "N", "number of test images");
    f.add("--completions", s.completions, "K", "completions per image");
    f.add("--mask", s.mask, "KIND", "hidden pixels: bottom or right half, center square, random pixels",
          {"bottom", "right", "center", "random"});
    f.add("--missing", s.missing, "P", "fraction of pixels hidden by --mask random", 0, 1);
    s.sampler.add_flags(f);
    f.add("--batch", s.batch, "N", "completions per batch");
    f.add_seed("--seed", s.seed, "N", "noise seed (and the random masks')");
    f.add("--threads", s.threads, "N", "worker threads (0 = all cores)");
    f.add("--out", s.out, "FILE.png", "the picture");
    f.add("--zoom", s.zoom, "N", "pixel size in the grid");
    f.add("--npy", s.npy, "FILE.npy", "also write the completions as float32 (count*K, C, H, W) in [0, 1]");
    f.add("--check-with", s.check_with, "FILE|NAME", "classify originals and completions (e.g. mnist_classifier)");
    f.parse(argc, argv);
    if (s.zoom > 16) throw cli::usage_error("--zoom " + std::to_string(s.zoom) + " is too large; expected 1 to 16");
    const auto path = cli::resolve_model(s.model);
    return sgm::models::with_image_model<Real>(path, s.threads, s.sampler.sde_levels(),
                                               [&](auto& model, const auto& sde, const auto& spec) {
                                                   return inpaint(s, model, sde, spec);
                                               });
}

}  // namespace

int main(int argc, char** argv) { return cli::run_main("sgm-inpaint", [&] { return run(argc, argv); }); }
