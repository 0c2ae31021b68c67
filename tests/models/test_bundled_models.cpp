// The bundled MNIST models (models/mnist_*/weights.safetensors; mnist_color_vp on
// the digits painted one hue each): each file describes
// the model it holds, and the network denoises held-out digits — Tweedie's estimate
// E[x0 | xt] = (xt + σ² s(xt, t)) / m from the model's score is much closer to the
// clean digit than the noisy input is. A network that had not learned the data (or
// weights loaded into the wrong layers) gives an error ratio near 1 or above.

#include <catch2/catch.hpp>

#include <sgm/data/mnist_json.hpp>
#include <sgm/data/painted_digits.hpp>
#include <sgm/data/scaling.hpp>
#include <sgm/models/image_model.hpp>
#include <sgm/random/philox_normal.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path source_tree = fs::path(__FILE__).parent_path().parent_path().parent_path();

fs::path mnist_dir() {
    if (const char* env = std::getenv("SGM_MNIST_DIR")) return env;
    return fs::exists("data/mnist") ? fs::path("data/mnist") : source_tree / "data" / "mnist";
}

// Mean squared error of Tweedie's denoiser and of the rescaled noisy input, over
// `count` held-out digits at time t.
struct denoising {
    double model_mse = 0, input_mse = 0;
};

denoising denoise_test_digits(const fs::path& weights, float t, std::size_t count) {
    auto digits = sgm::data::load_mnist_json<float>(mnist_dir());
    auto [train, test] = digits.split(digits.size() - 1000);
    const auto spec = sgm::models::read_image_model_spec(weights);
    if (spec.network.channels == 3) test = sgm::data::paint_images(test, train.size());  // as sgm-train's mnist-color
    REQUIRE(test.dim() == spec.dim());
    std::vector<float> x0(test.pixels().begin(), test.pixels().begin() + std::ptrdiff_t(count * test.dim()));
    sgm::data::to_range(std::span<float>(x0), spec.range);
    return sgm::models::with_image_model<float>(weights, 2, 0, [&](auto& model, const auto& sde, const auto&) {
        const float m = sde.mean_coefficient(t), s = sde.marginal_std(t);
        const std::size_t d = spec.dim();
        std::vector<float> xt(x0.size()), score(x0.size()), times(count, t);
        for (std::size_t i = 0; i < x0.size(); ++i)
            xt[i] = m * x0[i] + s * sgm::random::normal<float>(7, i / d, 0, static_cast<std::uint32_t>(i % d));
        model.score({xt.data(), count, d}, times.data(), {score.data(), count, d});
        denoising r;
        std::size_t non_finite = 0;
        for (std::size_t i = 0; i < x0.size(); ++i) {
            non_finite += std::isfinite(score[i]) ? 0 : 1;
            const double est = (double(xt[i]) + double(s) * s * score[i]) / m;
            r.model_mse += (est - x0[i]) * (est - x0[i]) / double(x0.size());
            r.input_mse += (xt[i] / m - x0[i]) * (xt[i] / m - x0[i]) / double(x0.size());
        }
        CHECK(non_finite == 0);
        return r;
    });
}

}  // namespace

TEST_CASE("bundled models: each file describes a 28x28 MNIST model of its SDE", "[models][bundled]") {
    for (const std::string name : {"mnist_vp", "mnist_vp_13k", "mnist_ve", "mnist_ve_13k", "mnist_color_vp", "fashion_vp"}) {
        const fs::path path = source_tree / "models" / name / "weights.safetensors";
        INFO(path.string());
        REQUIRE(fs::exists(path));
        const auto spec = sgm::models::read_image_model_spec(path);
        CHECK(spec.network.channels == (name == "mnist_color_vp" ? 3u : 1u));
        CHECK(spec.network.height == 28);
        CHECK(spec.network.width == 28);
        CHECK(spec.data.find("mnist") != std::string::npos);
        const bool ve = name.starts_with("mnist_ve");
        if (!ve) {
            CHECK(spec.sde.kind == sgm::models::sde_kind::vp);
            CHECK(spec.range == sgm::data::pixel_range::symmetric);
        } else {
            CHECK(spec.sde.kind == sgm::models::sde_kind::ve);
            CHECK(spec.range == sgm::data::pixel_range::unit);
        }
    }
}

TEST_CASE("bundled models: the networks denoise held-out digits", "[models][bundled]") {
    // Noise from small to large; the denoiser must at least halve the error at
    // every level and cut it by 10x or more where the noise dominates.
    for (const std::string name : {"mnist_vp", "mnist_vp_13k", "mnist_ve", "mnist_ve_13k", "mnist_color_vp"}) {
        const fs::path path = source_tree / "models" / name / "weights.safetensors";
        for (const float t : {0.2f, 0.5f, 0.8f}) {
            const auto r = denoise_test_digits(path, t, 32);
            INFO(name << " t = " << t << ": Tweedie MSE " << r.model_mse << ", noisy input MSE " << r.input_mse);
            CHECK(r.model_mse < 0.5 * r.input_mse);
            if (t >= 0.5f) CHECK(r.model_mse < 0.1 * r.input_mse);
        }
    }
}
