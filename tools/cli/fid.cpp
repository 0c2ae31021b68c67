// sgm-fd — how close generated images are to real ones, through a trained
// classifier: the Fréchet distance between Gaussians fitted to its features
// (the penultimate layer) of the samples and of reference images, the fraction
// of samples it labels with confidence (top softmax probability) above 0.9, and
// the histogram of the labels it gives.
//
//   sgm-fd --classifier mnist_classifier --samples digits.npy
//   sgm-fd --classifier mnist_classifier --floor      # two halves of the test split
//
// Samples: a float32 .npy array of shape (n, C, H, W) or (n, C·H·W), values in
// [0, 1] (sgm-sample --npy writes one). The reference is the data set's test
// split unless --reference names another .npy file.

#include <sgm/data/scaling.hpp>
#include <sgm/eval/frechet.hpp>
#include <sgm/io/npy.hpp>
#include <sgm/models/classifier_model.hpp>
#include <sgm/train/cross_entropy.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets.hpp"
#include "flags.hpp"
#include "model_path.hpp"

namespace {

using Real = float;

struct settings {
    std::string classifier = "mnist_classifier";
    std::filesystem::path samples;
    std::string reference = "test";
    std::string dataset = "mnist";
    std::filesystem::path data_dir;
    std::size_t count = 0;
    double confidence = 0.9;
    bool floor = false;
    std::size_t real_baseline = 0;
    int threads = 0;
};

// What the classifier makes of a set of images.
struct assessment {
    std::vector<double> features;  // n × feature_size
    std::vector<std::size_t> histogram;
    std::size_t confident = 0, count = 0;
};

// images: n × dim values in [0, 1] (clipped there first when a little outside).
assessment assess(sgm::models::loaded_classifier<Real>& c, std::vector<Real> images, std::size_t n,
                  double confidence) {
    auto& net = c.network;
    const std::size_t d = net.input_size(), k = net.classes(), f = net.feature_size(), chunk = 250;
    sgm::data::clip_to_range(std::span<Real>(images), sgm::data::pixel_range::unit);
    sgm::data::to_range(std::span<Real>(images), c.spec.range);
    assessment a;
    a.count = n;
    a.features.resize(n * f);
    a.histogram.assign(k, 0);
    std::vector<Real> logits(chunk * k), times(chunk, Real(0));
    for (std::size_t b0 = 0; b0 < n; b0 += chunk) {
        const std::size_t m = std::min(chunk, n - b0);
        net.forward(images.data() + b0 * d, times.data(), logits.data(), m);
        const auto feats = net.features();
        std::copy(feats.begin(), feats.end(), a.features.begin() + static_cast<std::ptrdiff_t>(b0 * f));
        sgm::train::softmax(logits.data(), logits.data(), m, k);
        for (std::size_t i = 0; i < m; ++i) {
            const Real* p = logits.data() + i * k;
            const std::size_t top = static_cast<std::size_t>(std::max_element(p, p + k) - p);
            ++a.histogram[top];
            if (p[top] > confidence) ++a.confident;
        }
    }
    return a;
}

// The images of a .npy file, checked against the classifier's input shape.
std::vector<Real> read_images(const std::filesystem::path& path, std::size_t dim, std::size_t& n) {
    auto array = sgm::io::read_npy(path);
    if (array.shape.size() < 2 || array.shape[0] == 0)
        throw sgm::error("'" + path.string() + "': expected an array of shape (n, C, H, W) or (n, C·H·W)");
    std::size_t per = 1;
    for (std::size_t i = 1; i < array.shape.size(); ++i) per *= array.shape[i];
    if (per != dim)
        throw sgm::error(sgm::detail::concat("'", path.string(), "': each image has ", per,
                                             " values; the classifier takes ", dim));
    n = array.shape[0];
    std::size_t outside = 0;
    for (std::size_t i = 0; i < array.values.size(); ++i) {
        const float v = array.values[i];
        if (!std::isfinite(v))
            throw sgm::error(sgm::detail::concat("'", path.string(), "': value [", i, "] = ", v, " is not finite"));
        outside += (v < -0.01f || v > 1.01f);
    }
    if (outside > 0)
        std::fprintf(stderr, "warning: %zu values of '%s' lie more than 0.01 outside [0, 1]; they are clipped\n",
                     outside, path.string().c_str());
    return std::move(array.values);
}

void print_assessment(const char* what, const assessment& a, double confidence) {
    std::printf("%s: %zu images; labelled with confidence > %g: %.4f; classes:", what, a.count, confidence,
                double(a.confident) / double(a.count));
    for (std::size_t i = 0; i < a.histogram.size(); ++i) std::printf(" %zu:%zu", i, a.histogram[i]);
    std::printf("\n");
}

sgm::eval::gaussian_fit fit(const assessment& a, std::size_t first, std::size_t count, std::size_t f) {
    return sgm::eval::fit_gaussian<double>(std::span<const double>(a.features).subspan(first * f, count * f), count, f);
}

int run(int argc, char** argv) {
    settings s;
    cli::flags fl("sgm-fd",
                  "Frechet distance between classifier features of samples and of real images, with the fraction "
                  "of confidently labelled samples and their class histogram.");
    fl.add("--classifier", s.classifier, "FILE|NAME", "classifier weights (sgm-train-classifier), or a bundled name");
    fl.add("--samples", s.samples, "FILE.npy", "generated images, float32 (n, C, H, W) or (n, C*H*W) in [0, 1]");
    fl.add("--reference", s.reference, "test|train|FILE.npy", "reference images: a split of --data, or a .npy file");
    fl.add("--data", s.dataset, "NAME", "data set of the reference split", cli::dataset_names);
    fl.add("--data-dir", s.data_dir, "DIR", "folder of the data set (default: data/mnist or Debian's folder)");
    fl.add("--count", s.count, "N", "use the first N samples (0 = all)", true);
    fl.add("--confidence", s.confidence, "P", "confidence threshold on the top softmax probability", 0, 1);
    fl.add("--floor", s.floor, "also print the FD between the two halves of the reference (the floor)");
    fl.add("--real-baseline", s.real_baseline, "N",
           "also print the FD of the first N training images against the reference: what real data of the "
           "samples' size scores (0 = off)", true);
    fl.add("--threads", s.threads, "N", "worker threads (0 = all cores)");
    fl.parse(argc, argv);
    if (s.samples.empty() && !s.floor && s.real_baseline == 0)
        throw cli::usage_error("give --samples FILE.npy, --floor, --real-baseline N, or a combination");

    const auto path = cli::resolve_model(s.classifier, "--classifier");
    auto c = sgm::models::load_classifier<Real>(path, s.threads);
    if (c.network.time_conditioned())
        std::fprintf(stderr, "note: '%s' is time-conditioned; its features are taken at t = 0\n",
                     path.string().c_str());
    const std::size_t dim = c.network.input_size(), f = c.network.feature_size();
    std::printf("classifier: %s (%zu features, %zu classes)\n", path.string().c_str(), f, c.network.classes());

    std::size_t ref_n = 0;
    std::vector<Real> ref_images;
    std::string ref_name;
    if (s.reference == "test" || s.reference == "train") {
        auto set = cli::load_dataset<Real>(s.dataset, s.data_dir, s.reference);
        if (set.dim() != dim)
            throw sgm::error(sgm::detail::concat("the ", s.dataset, " images have ", set.dim(),
                                                 " values; the classifier takes ", dim));
        ref_n = set.size();
        ref_images.assign(set.pixels().begin(), set.pixels().end());
        ref_name = s.dataset + " " + s.reference + " split";
    } else {
        ref_images = read_images(s.reference, dim, ref_n);
        ref_name = s.reference;
    }
    if (ref_n < 4) throw sgm::error(sgm::detail::concat("the reference has ", ref_n, " images; need at least 4"));
    const assessment ref = assess(c, std::move(ref_images), ref_n, s.confidence);
    print_assessment(("reference (" + ref_name + ")").c_str(), ref, s.confidence);
    const auto ref_fit = fit(ref, 0, ref_n, f);

    if (!s.samples.empty()) {
        std::size_t n = 0;
        auto images = read_images(s.samples, dim, n);
        if (s.count > 0) {
            if (s.count > n)
                throw cli::usage_error(sgm::detail::concat("--count ", s.count, " exceeds the ", n, " samples in '",
                                                           s.samples.string(), "'"));
            n = s.count;
            images.resize(n * dim);
        }
        if (n < 2) throw sgm::error("'" + s.samples.string() + "' holds fewer than 2 images");
        const assessment a = assess(c, std::move(images), n, s.confidence);
        print_assessment(("samples (" + s.samples.string() + ")").c_str(), a, s.confidence);
        std::printf("FD (samples vs reference): %.4f\n", sgm::eval::frechet_distance(fit(a, 0, n, f), ref_fit));
    }
    if (s.real_baseline > 0) {
        auto train = cli::load_dataset<Real>(s.dataset, s.data_dir, "train");
        if (s.real_baseline > train.size() || s.real_baseline < 2)
            throw cli::usage_error(sgm::detail::concat("--real-baseline ", s.real_baseline, ": the training split has ",
                                                       train.size(), " images; expected 2 to that many"));
        const std::size_t n = s.real_baseline;
        std::vector<Real> images(train.pixels().begin(), train.pixels().begin() + std::ptrdiff_t(n * dim));
        const assessment a = assess(c, std::move(images), n, s.confidence);
        print_assessment(sgm::detail::concat("real baseline (first ", n, " training images)").c_str(), a, s.confidence);
        std::printf("FD (real baseline vs reference): %.4f\n", sgm::eval::frechet_distance(fit(a, 0, n, f), ref_fit));
    }
    if (s.floor) {
        const std::size_t half = ref_n / 2;
        const double floor = sgm::eval::frechet_distance(fit(ref, 0, half, f), fit(ref, half, ref_n - half, f));
        std::printf("FD floor (reference images 0..%zu vs %zu..%zu): %.4f\n", half, half, ref_n, floor);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_main("sgm-fd", [&] { return run(argc, argv); }); }
