// Colorization and interpolation against exact answers: the decoupling
// transform, the score seen through it, colorizing a Gaussian in colour space,
// and ODE interpolation whose end points decode to the inputs.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "sampler/mixture_2d_settings.hpp"
#include "sampler/sampler_matrix.hpp"
#include "support/statistics.hpp"

namespace {

using namespace sgm::test;

constexpr std::size_t channels = 3, pixels = 2, dim = channels * pixels;

// The per-pixel transform as a dim × dim matrix on channel-major images: x' = M x.
matrix full_transform(const sgm::channel_transform<double>& q) {
    matrix m = matrix::Zero(long(dim), long(dim));
    for (std::size_t a = 0; a < channels; ++a)
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t p = 0; p < pixels; ++p)
                m(long(a * pixels + p), long(c * pixels + p)) = q.rows()[a * channels + c];
    return m;
}

// A Gaussian given in decoupled coordinates: the gray channel (indices 0, 1) is
// independent of the colour channels (2 … 5), which are correlated with each
// other and across the two pixels.
struct colour_gaussian {
    sgm::channel_transform<double> q = sgm::channel_transform<double>::gray_first(channels);
    vector decoupled_mean{{1.2, 0.9, 0.4, -0.3, 0.25, 0.1}};
    matrix decoupled_cov = [] {
        matrix c = matrix::Zero(6, 6);
        c.topLeftCorner(2, 2) << 0.5, 0.2, 0.2, 0.4;
        c.bottomRightCorner(4, 4) << 0.30, 0.10, 0.05, 0.02, 0.10, 0.25, -0.04, 0.03, 0.05, -0.04, 0.20, 0.06, 0.02,
            0.03, 0.06, 0.15;
        return c;
    }();
    matrix m = full_transform(q);

    static std::vector<double> flat(const matrix& a) {
        std::vector<double> out;
        for (long i = 0; i < a.rows(); ++i)
            for (long j = 0; j < a.cols(); ++j) out.push_back(a(i, j));
        return out;
    }
    // The same Gaussian in channel coordinates x = Mᵀ x'.
    sgm::gaussian_mixture<double> in_channels() const {
        const vector mean = m.transpose() * decoupled_mean;
        return sgm::gaussian_mixture<double>::gaussian(std::vector<double>(mean.data(), mean.data() + 6),
                                                       flat(m.transpose() * decoupled_cov * m));
    }
    sgm::gaussian_mixture<double> decoupled() const {
        return sgm::gaussian_mixture<double>::gaussian(
            std::vector<double>(decoupled_mean.data(), decoupled_mean.data() + 6), flat(decoupled_cov));
    }
};

// Colour samples: their gray (channel mean) must be the given one, and their
// decoupled colour channels must follow the exact N(μ'_C, Σ'_CC).
void check_colorized(const std::vector<double>& host, std::size_t n, const std::vector<double>& gray,
                     const colour_gaussian& g) {
    double worst_gray = 0;
    matrix colour(long(n), 4);
    for (std::size_t b = 0; b < n; ++b) {
        const vector x = Eigen::Map<const vector>(host.data() + b * dim, long(dim));
        for (std::size_t p = 0; p < pixels; ++p)
            worst_gray = std::max(worst_gray, std::abs((x(long(p)) + x(long(pixels + p)) + x(long(2 * pixels + p))) / 3 -
                                                       gray[b * pixels + p]));
        colour.row(long(b)) = (g.m * x).tail(4).transpose();
    }
    CHECK(worst_gray < 1e-12);
    const auto s = summarize_whitened(whiten(colour, g.decoupled_mean.tail(4), g.decoupled_cov.bottomRightCorner(4, 4)));
    INFO("gray error " << worst_gray << "; colour mean z " << s.max_mean_z << ", trace z " << s.trace_z
                       << ", entry z " << s.max_entry_z);
    CHECK(s.max_mean_z <= family_threshold(4));
    CHECK(std::abs(s.trace_z) <= 5);
    CHECK(s.max_entry_z <= family_threshold(16));
}

}  // namespace

TEST_CASE("gray_first is orthonormal with the normalized mean first; transforms round-trip", "[control][colorization]") {
    for (std::size_t c = 2; c <= 5; ++c) {
        const auto q = sgm::channel_transform<double>::gray_first(c);  // the constructor checks orthonormality
        for (std::size_t j = 0; j < c; ++j) CHECK(q.rows()[j] == Approx(1 / std::sqrt(double(c))));
        for (std::size_t k = 1; k < c; ++k) {
            double sum = 0;
            for (std::size_t j = 0; j < c; ++j) sum += q.rows()[k * c + j];
            CHECK(std::abs(sum) < 1e-12);  // colour rows see no gray
        }
    }
    const backend be;
    const auto q = sgm::channel_transform<double>::gray_first(3);
    const std::vector<double> x{0.1, 0.9, 0.5, 0.3, 0.8, -0.2, 1, 2, 3, 4, 5, 6};
    const auto images = sgm::batch<backend>::from_host(x, 2, 6, be);
    const auto back = q.to_channels(q.to_decoupled(images, be), be).to_host(be);
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(back[i] == Approx(x[i]).margin(1e-14));
    // Decoupled channel 0 is √3 · gray.
    const auto d = q.to_decoupled(images, be).to_host(be);
    CHECK(d[0] == Approx(std::sqrt(3.0) * (0.1 + 0.5 + 0.8) / 3));

    CHECK_THROWS_WITH(sgm::channel_transform<double>({1, 0, 0, 0.9}), Catch::Contains("rows 1 and 1 have dot product 0.81"));
    CHECK_THROWS_WITH(sgm::channel_transform<double>({1, 0, 0}), Catch::Contains("3 values do not form a square"));
    CHECK_THROWS_WITH(sgm::channel_transform<double>::gray_first(1), Catch::Contains("1 channels; expected at least 2"));
}

TEMPLATE_TEST_CASE("the decoupled score is the exact score of the decoupled Gaussian", "[control][colorization]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>) {
    const colour_gaussian g;
    const backend be;
    const auto sde = sde_traits<TestType>::make(1000, 10.0);
    sgm::mixture_score<backend, TestType> channel_model(g.in_channels(), sde, be), decoupled_model(g.decoupled(), sde, be);
    sgm::decoupled_score<sgm::mixture_score<backend, TestType>> seen(channel_model, g.q, be);
    const std::size_t n = 4;
    const auto x = g.decoupled().sample(n, 3);
    const std::vector<double> t{0.01, 0.3, 0.6, 0.95};
    std::vector<double> got(n * dim), want(n * dim);
    seen.score({x.data(), n, dim}, t.data(), {got.data(), n, dim});
    decoupled_model.score({x.data(), n, dim}, t.data(), {want.data(), n, dim});
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-12));
}

TEMPLATE_TEST_CASE("colorizing a colour Gaussian draws the exact colour conditional", "[control][colorization]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>) {
    const colour_gaussian g;
    const backend be;
    const std::size_t n = 4000;
    // Observed gray images: two fixed pairs of values, alternating.
    std::vector<double> gray(n * pixels);
    for (std::size_t b = 0; b < n; ++b) {
        gray[b * pixels] = b % 2 ? 0.9 : 0.2;
        gray[b * pixels + 1] = b % 2 ? 0.1 : 0.7;
    }
    const pc_settings s = settings_2d<TestType>(predictor_kind::reverse_diffusion, corrector_kind::langevin, n);
    const auto sde = sde_traits<TestType>::make(s.steps, 10.0);
    sgm::mixture_score<backend, TestType> model(g.in_channels(), sde, be);
    sgm::pc_options options;
    options.eps = sde_traits<TestType>::eps;
    options.seed = 11;
    SECTION("PC: reverse diffusion + Langevin") {
        const auto r = sgm::colorize_pc(sde, model, sgm::reverse_diffusion{},
                                        sgm::langevin(s.snr, s.corrector_steps, s.batch_averaged_norms), gray, n,
                                        channels, options, be);
        check_colorized(r.samples.to_host(be), n, gray, g);
    }
    SECTION("probability-flow ODE") {
        // VP only: VE's prior N(0, σ_max² I) is off-centre for the colour part and the
        // deterministic flow keeps part of that offset (see the ODE inpainting test).
        if constexpr (std::is_same_v<TestType, sgm::vp_sde<double>>) {
            sgm::ode_options o;
            o.eps = sde_traits<TestType>::eps;
            o.seed = 12;
            const auto r = sgm::colorize_ode(sde, model, gray, n, channels, o, be);
            check_colorized(r.samples.to_host(be), n, gray, g);
        }
    }
}

TEST_CASE("colorization rejects gray images that do not fit", "[control][colorization][errors]") {
    const colour_gaussian g;
    const backend be;
    const sgm::vp_sde<double> sde;
    sgm::mixture_score<backend, sgm::vp_sde<double>> model(g.in_channels(), sde, be);
    const std::vector<double> gray(5, 0.5);
    CHECK_THROWS_WITH(sgm::colorize_pc(sde, model, sgm::reverse_diffusion{}, sgm::no_corrector{}, gray, 2, 3, {}, be),
                      Catch::Contains("5 gray values do not split into 2 images"));
    const std::vector<double> wide(2 * 3, 0.5);  // 3 pixels: 9 values per colour image, the model takes 6
    CHECK_THROWS_WITH(sgm::colorize_pc(sde, model, sgm::reverse_diffusion{}, sgm::no_corrector{}, wide, 2, 3, {}, be),
                      Catch::Contains("the target has dim 9 but the score model expects dim 6"));
}

TEST_CASE("slerp walks the great circle and keeps its end points", "[control][interpolation]") {
    const std::vector<double> a{1, 0, 0}, b{0, 2, 0};
    CHECK(sgm::slerp<double>(a, b, 0) == a);
    const auto end = sgm::slerp<double>(a, b, 1);
    for (std::size_t i = 0; i < 3; ++i) CHECK(end[i] == Approx(b[i]).margin(1e-15));
    // Equal angles for equal fractions; the norm goes linearly from |a| = 1 to |b| = 2.
    for (const double u : {0.25, 0.5, 0.8}) {
        const auto p = sgm::slerp<double>(a, b, u);
        CHECK(std::atan2(p[1], p[0]) == Approx(u * M_PI / 2));
        CHECK(std::hypot(p[0], p[1]) == Approx(1 + u));
        CHECK(p[2] == 0);
    }
    // Nearly opposite end points of unequal norms: the norm stays between theirs
    // (the unnormalized formula would give ~|1 − 3|/(2 cos(θ/2)) ≈ 1e4 here).
    const std::vector<double> far{-3, 3e-4, 0};
    const auto mid = sgm::slerp<double>(a, far, 0.5);
    CHECK(std::hypot(mid[0], mid[1], mid[2]) == Approx(2));
    // Exactly antiparallel end points fall back to linear mixing.
    const std::vector<double> minus{-1, 0, 0};
    CHECK(sgm::slerp<double>(a, minus, 0.5) == std::vector<double>{0, 0, 0});
    const auto path = sgm::slerp_path<double>(a, b, 5);
    CHECK(path.size() == 15);
    CHECK(std::vector<double>(path.begin(), path.begin() + 3) == a);
    CHECK_THROWS_WITH(sgm::slerp<double>(a, b, 1.5), Catch::Contains("u = 1.5; expected a value in [0, 1]"));
    CHECK_THROWS_WITH(sgm::slerp<double>(a, std::vector<double>{1, 2}, 0.5), Catch::Contains("sizes 3 and 2"));
    CHECK_THROWS_WITH(sgm::slerp_path<double>(a, b, 1), Catch::Contains("frames = 1; expected at least 2"));
}

TEMPLATE_TEST_CASE("ODE interpolation decodes its end points to the inputs", "[control][interpolation]",
                   sgm::ve_sde<double>, sgm::vp_sde<double>, sgm::sub_vp_sde<double>) {
    const auto& t = mixture_2d_target();
    const backend be;
    const auto sde = sde_traits<TestType>::make(1000, t.sigma_max);
    sgm::mixture_score<backend, TestType> model(t.mixture, sde, be);
    const auto ends = t.mixture.sample(2, 8);
    const std::vector<double> a(ends.begin(), ends.begin() + 2), b(ends.begin() + 2, ends.end());
    sgm::ode_options o;
    o.rtol = o.atol = 1e-9;
    o.eps = sde_traits<TestType>::eps;
    const auto r = sgm::ode_interpolate(sde, model, std::span<const double>(a), std::span<const double>(b), 7, o, 1.0, be);
    const auto frames = r.frames.to_host(be);
    REQUIRE(frames.size() == 14);
    INFO("NFE " << r.nfe << "; a = (" << a[0] << ", " << a[1] << "), decoded (" << frames[0] << ", " << frames[1]
                << "); b = (" << b[0] << ", " << b[1] << "), decoded (" << frames[12] << ", " << frames[13] << ")");
    for (std::size_t j = 0; j < 2; ++j) {
        CHECK(frames[j] == Approx(a[j]).margin(1e-5));
        CHECK(frames[12 + j] == Approx(b[j]).margin(1e-5));
    }
    // Temperature scales the latents and nothing else.
    const auto cooler = sgm::ode_interpolate(sde, model, std::span<const double>(a), std::span<const double>(b), 7, o,
                                             0.5, be);
    const auto hot = r.latents.to_host(be), cool = cooler.latents.to_host(be);
    for (std::size_t i = 0; i < hot.size(); ++i) CHECK(cool[i] == Approx(0.5 * hot[i]).margin(1e-12));
    CHECK_THROWS_WITH(sgm::ode_interpolate(sde, model, std::span<const double>(a), std::span<const double>(b), 3, o,
                                           0.0, be),
                      Catch::Contains("temperature = 0; expected a finite value > 0"));
}
