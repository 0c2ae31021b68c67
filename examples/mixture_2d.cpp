// mixture_2d — every sampler of sgm on a 2-D Gaussian mixture with a known score.
//
// The target is a five-component Gaussian mixture. A mixture stays a mixture when
// an SDE adds noise to it, so sgm::mixture_score gives the exact score of every
// noised version: what you see below is each sampler alone, with no trained
// network in the way. For each sampler the program prints the number of score
// evaluations (NFE), the wall time and how far the samples are from the target;
// it writes the samples as CSV and draws them over the true density (PNG).
//
// usage: mixture_2d [output-folder] [--count N] [--threads N]

#include <sgm/sgm.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "common/canvas.hpp"
#include "common/colormap.hpp"
#include "common/csv.hpp"
#include "common/moments.hpp"
#include "common/plot.hpp"

namespace {

using Real = double;
using backend = sgm::tbb_backend<Real>;
using mixture = sgm::gaussian_mixture<Real>;

struct settings {
    std::filesystem::path folder = "mixture_2d_output";
    std::size_t count = 4000;  // samples per sampler
    int threads = 0;           // 0: all cores
    std::uint64_t seed = 2021;
};

// Five well-separated components: two with correlated covariances, one
// elongated, two round (one small, one broad).
mixture make_target() {
    return mixture({0.30, 0.20, 0.15, 0.20, 0.15},                          // weights
                   {-4.0, -2.5, 4.0, 3.5, -3.0, 4.5, 3.5, -3.5, 0.0, 0.5},  // means, 5 × 2
                   {1.2, 0.9, 0.9, 1.0,                                     // covariances, 5 × 2 × 2
                    0.8, -0.55, -0.55, 0.6,                                 //
                    0.15, 0.0, 0.0, 0.15,                                   //
                    1.5, 0.0, 0.0, 0.1,                                     //
                    0.3, 0.0, 0.0, 0.3});
}

// One sampler's outcome.
struct run {
    std::string title;  // what the sampler is
    std::string sde;    // which SDE it ran with
    std::string slug;   // file-name stem
    std::vector<Real> xy;
    std::size_t nfe = 0;
    double seconds = 0;
};

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// A predictor–corrector sampler: N = sde.steps() steps from the prior at T to eps.
template <class SDE, class Predictor, class Corrector>
run pc_run(std::string title, std::string sde_name, std::string slug, const SDE& sde, const mixture& target,
           const Predictor& predictor, const Corrector& corrector, double eps, const settings& s,
           const backend& be) {
    sgm::mixture_score<backend, SDE> model(target, sde, be);
    sgm::pc_options options;
    options.count = s.count;
    options.eps = eps;
    options.seed = s.seed;
    const auto start = clock_type::now();
    const auto result = sgm::pc_sample(sde, model, predictor, corrector, options, be);
    const double seconds = seconds_since(start);
    return {std::move(title), std::move(sde_name), std::move(slug), result.samples.to_host(be), result.nfe, seconds};
}

// The probability-flow ODE, solved by adaptive RK45 from T to eps.
template <class SDE>
run ode_run(std::string title, std::string sde_name, std::string slug, const SDE& sde, const mixture& target,
            double eps, const settings& s, const backend& be) {
    sgm::mixture_score<backend, SDE> model(target, sde, be);
    sgm::ode_options options;
    options.count = s.count;
    options.method = sgm::ode_method::rk45;
    options.eps = eps;
    options.seed = s.seed;
    const auto start = clock_type::now();
    const auto result = sgm::ode_sample(sde, model, options, be);
    const double seconds = seconds_since(start);
    return {std::move(title), std::move(sde_name), std::move(slug), result.samples.to_host(be), result.nfe, seconds};
}

// Evaluates the target's exact density and component posteriors at (almost) t = 0:
// the VE kernel at t = 0 adds sigma_min² = 1e-4 to every variance, which is negligible here.
class target_density {
public:
    target_density(const mixture& target, const backend& be)
        : be_(be), model_(target, sgm::ve_sde<Real>(), be), components_(target.components()) {}

    std::vector<Real> log_density(const std::vector<Real>& xy) {
        const std::size_t n = xy.size() / 2;
        const auto x = sgm::batch<backend>::from_host(xy, n, 2, be_);
        const std::vector<Real> t(n, 0.0);
        std::vector<Real> out(n);
        model_.log_density(x.view(), t.data(), out.data());  // tbb_backend memory is host memory
        return out;
    }

    // Fraction of the points whose most probable component is k, for every k.
    std::vector<double> component_fractions(const std::vector<Real>& xy) {
        const std::size_t n = xy.size() / 2;
        const auto x = sgm::batch<backend>::from_host(xy, n, 2, be_);
        const std::vector<Real> t(n, 0.0);
        std::vector<Real> posterior(n * components_);
        model_.component_posterior(x.view(), t.data(), posterior.data());
        std::vector<double> fractions(components_, 0.0);
        for (std::size_t b = 0; b < n; ++b) {
            const auto row = posterior.begin() + std::ptrdiff_t(b * components_);
            fractions[std::size_t(std::max_element(row, row + std::ptrdiff_t(components_)) - row)] += 1.0 / double(n);
        }
        return fractions;
    }

private:
    backend be_;
    sgm::mixture_score<backend, sgm::ve_sde<Real>> model_;
    std::size_t components_;
};

struct quality {
    examples::moment_error moments;
    double weight_error;  // total-variation distance between component fractions and weights
};

quality measure(const std::vector<Real>& xy, const mixture& target, target_density& density) {
    quality q{examples::compare_moments(xy, 2, target.mean(), target.covariance()), 0.0};
    const auto fractions = density.component_fractions(xy);
    for (std::size_t k = 0; k < fractions.size(); ++k) q.weight_error += 0.5 * std::abs(fractions[k] - target.weights()[k]);
    return q;
}

std::string format(const char* fmt, auto... values) {
    char text[256];
    std::snprintf(text, sizeof text, fmt, values...);
    return text;
}

// ---- Pictures ---------------------------------------------------------------

constexpr int plot_size = 400;  // pixels per panel's plot area
constexpr int header = 62;      // title lines above each plot
constexpr int margin = 14;

const examples::rgb ink{30, 30, 30}, grey{90, 90, 90}, point_colour{200, 55, 25}, contour_colour{40, 70, 120};

// A panel at (left, top): title, subtitle, then the density (heat map alone when
// there are no points; pale background, contours and points otherwise).
void draw_panel(examples::canvas& c, int left, int top, examples::view v, const std::vector<Real>& log_density,
                const std::string& title, const std::string& subtitle, const std::string& details,
                const std::vector<Real>* xy) {
    c.text(left, top + 2, title, ink, 2);
    c.text(left, top + 22, subtitle, grey, 2);
    c.text(left, top + 42, details, grey, 1);
    v.left = left;
    v.top = top + header;
    constexpr double range = 12;  // nats of density shown below the peak
    if (xy == nullptr) {
        examples::heat_map(c, v, log_density, range, examples::viridis);
        examples::contours(c, v, log_density, 2.0, range, {255, 255, 255}, 0.35);
    } else {
        examples::heat_map(c, v, log_density, range, examples::pale_blues);
        examples::contours(c, v, log_density, 2.0, range, contour_colour, 0.45);
        examples::scatter(c, v, *xy, point_colour, 1.3, 0.55);
    }
    examples::grid(c, v, 5.0, {120, 120, 120}, {110, 110, 110});
    c.frame(v.left - 1, v.top - 1, v.width + 2, v.height + 2, {60, 60, 60});
}

std::string subtitle_of(const run& r) { return format("%s SDE   NFE %zu   %.2f s", r.sde.c_str(), r.nfe, r.seconds); }

std::string details_of(const quality& q) {
    return format("errors: mean %.3f   covariance %.1f%%   weights %.1f%%", q.moments.mean, 100 * q.moments.covariance,
                  100 * q.weight_error);
}

settings parse(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--count" || arg == "--threads") && i + 1 < argc) {
            const long value = std::strtol(argv[++i], nullptr, 10);
            if (arg == "--count") s.count = std::size_t(std::max(2L, value));
            else s.threads = int(std::max(0L, value));
        } else if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s [output-folder] [--count N] [--threads N]\n", argv[0]);
            std::exit(0);
        } else {
            s.folder = arg;
        }
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) try {
    const settings s = parse(argc, argv);
    const backend be(s.threads);
    const mixture target = make_target();
    std::filesystem::create_directories(s.folder);

    // Exact samples: the reference the samplers are judged against, and the
    // error that s.count samples carry by chance alone.
    const std::vector<Real> exact = target.sample(s.count, s.seed);

    // The paper's settings: N = 1000 levels, VP beta 0.1 -> 20, VE sigma 0.01 -> sigma_max
    // with sigma_max about the largest distance between two data points.
    const double sigma_max = std::ceil(examples::largest_distance_2d(exact));
    const sgm::ve_sde<Real> ve(0.01, sigma_max, 1000);
    const sgm::vp_sde<Real> vp(0.1, 20.0, 1000);
    constexpr double ve_eps = 1e-5, vp_eps = 1e-3;

    // In 2-D the Langevin corrector needs batch-averaged norms: the per-sample
    // ratio ‖z‖/‖s‖ has a heavy tail in low dimension and a few samples blow up.
    const sgm::langevin langevin(0.16, 1, /*batch_averaged_norms=*/true);

    std::printf("sgm %s — sampling a 2-D mixture of %zu Gaussians with its exact score\n", SGM_VERSION_STRING,
                target.components());
    std::printf("%zu samples per sampler, N = 1000 steps, VE sigma_max = %.0f, tbb backend\n\n", s.count, sigma_max);

    std::vector<run> runs;
    const auto progress = [&](const run& r) {
        std::printf("  done: %-40s %6.2f s\n", (r.title + " (" + r.sde + ")").c_str(), r.seconds);
        std::fflush(stdout);
    };
    const auto add = [&](run r) {
        progress(r);
        runs.push_back(std::move(r));
    };
    add(pc_run("Reverse diffusion + Langevin", "VE", "pc_reverse_diffusion_langevin_ve", ve, target,
               sgm::reverse_diffusion{}, langevin, ve_eps, s, be));
    add(pc_run("Reverse diffusion + Langevin", "VP", "pc_reverse_diffusion_langevin_vp", vp, target,
               sgm::reverse_diffusion{}, langevin, vp_eps, s, be));
    add(pc_run("Euler-Maruyama", "VP", "euler_maruyama_vp", vp, target, sgm::euler_maruyama{},
               sgm::no_corrector{}, vp_eps, s, be));
    add(pc_run("Ancestral sampling (DDPM)", "VP", "ancestral_ddpm_vp", vp, target, sgm::ancestral_sampling{},
               sgm::no_corrector{}, vp_eps, s, be));
    add(pc_run("Ancestral sampling (SMLD)", "VE", "ancestral_smld_ve", ve, target, sgm::ancestral_sampling{},
               sgm::no_corrector{}, ve_eps, s, be));
    add(pc_run("Annealed Langevin (NCSN)", "VE", "annealed_langevin_ncsn_ve", ve, target, sgm::no_predictor{},
               sgm::annealed_langevin(0.16, 2), ve_eps, s, be));
    add(ode_run("Probability-flow ODE, RK45", "VP", "ode_rk45_vp", vp, target, vp_eps, s, be));
    add(ode_run("Probability-flow ODE, RK45", "VE", "ode_rk45_ve", ve, target, ve_eps, s, be));

    // Quality of each sampler, next to that of exact samples.
    target_density density(target, be);
    // The errors exact samples make by chance: root mean square over 16 independent draws.
    quality reference{{0, 0}, 0};
    constexpr int draws = 16;
    for (int d = 0; d < draws; ++d) {
        const quality q = measure(target.sample(s.count, s.seed + 1 + std::uint64_t(d)), target, density);
        reference.moments.mean += q.moments.mean * q.moments.mean / draws;
        reference.moments.covariance += q.moments.covariance * q.moments.covariance / draws;
        reference.weight_error += q.weight_error * q.weight_error / draws;
    }
    reference.moments.mean = std::sqrt(reference.moments.mean);
    reference.moments.covariance = std::sqrt(reference.moments.covariance);
    reference.weight_error = std::sqrt(reference.weight_error);
    std::printf("\n  %-36s %-4s %6s %8s %9s %8s %10s\n", "sampler", "SDE", "NFE", "time", "mean err", "cov err",
                "weight err");
    std::printf("  %-36s %-4s %6s %8s %9.3f %7.1f%% %9.1f%%\n", "exact samples (typical error)", "-", "-", "-",
                reference.moments.mean, 100 * reference.moments.covariance, 100 * reference.weight_error);
    std::vector<quality> qualities;
    for (const run& r : runs) {
        qualities.push_back(measure(r.xy, target, density));
        const quality& q = qualities.back();
        std::printf("  %-36s %-4s %6zu %6.2f s %9.3f %7.1f%% %9.1f%%\n", r.title.c_str(), r.sde.c_str(), r.nfe,
                    r.seconds, q.moments.mean, 100 * q.moments.covariance, 100 * q.weight_error);
    }
    std::printf("\n  mean err:   distance between the sample mean and the mixture's mean\n"
                "  cov err:    ||sample covariance - true covariance|| / ||true covariance|| (Frobenius)\n"
                "  weight err: total-variation distance between the fractions of samples that belong\n"
                "              to each component and the mixture's weights\n"
                "  The first row is the typical (root-mean-square) error of %zu exact samples:\n"
                "  a sampler within about twice these numbers is as good as exact at this sample size.\n",
                s.count);

    // Pictures: one panel per sampler plus the true density, and one PNG per sampler.
    const mixture::value_type pad = 0.5;
    examples::view v{-8.0 - pad, 7.5 + pad, -7.0 - pad, 8.5 + pad, 0, 0, plot_size, plot_size};
    const auto log_density = density.log_density(examples::pixel_centres(v));

    constexpr int columns = 3;
    const int rows = int(runs.size() + 1 + columns - 1) / columns;
    const int cell_w = plot_size + margin, cell_h = header + plot_size + margin;
    constexpr int banner = 40;
    examples::canvas all(margin + columns * cell_w, banner + margin + rows * cell_h);
    all.text(margin, 12, format("sgm: %zu samples from each sampler, drawn over the true density", s.count), ink, 2);
    draw_panel(all, margin, banner + margin, v, log_density, "True density",
               format("mixture of %zu Gaussians", target.components()),
               "log scale, 12 nats below the peak; contours every 2 nats", nullptr);
    std::vector<std::string> written;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const run& r = runs[i];
        const std::string subtitle = subtitle_of(r), details = details_of(qualities[i]);
        const int cell = int(i + 1);
        draw_panel(all, margin + (cell % columns) * cell_w, banner + margin + (cell / columns) * cell_h, v,
                   log_density, r.title, subtitle, details, &r.xy);

        examples::canvas one(plot_size + 2 * margin, header + plot_size + 2 * margin);
        draw_panel(one, margin, margin, v, log_density, r.title, subtitle, details, &r.xy);
        const auto png = s.folder / (r.slug + ".png");
        const auto csv = s.folder / (r.slug + ".csv");
        if (one.write_png(png.string())) written.push_back(png.string());
        if (!examples::write_csv(csv.string(), r.xy, 2)) throw std::runtime_error("cannot write " + csv.string());
        written.push_back(csv.string());
    }
    const auto grid_png = s.folder / "mixture_2d.png";
    const bool have_png = all.write_png(grid_png.string());
    const auto exact_csv = s.folder / "exact_samples.csv";
    examples::write_csv(exact_csv.string(), exact, 2);

    std::printf("\nWrote %zu files to %s/:\n", written.size() + 1 + (have_png ? 1 : 0), s.folder.string().c_str());
    if (have_png)
        std::printf("  mixture_2d.png       all samplers side by side, over the true density\n");
    else
        std::printf("  (no PNG files: this build has no stb_image_write; install libstb-dev and rebuild)\n");
    std::printf("  <sampler>.csv/.png   each sampler's samples (columns x0,x1) and its own picture\n"
                "  exact_samples.csv    exact samples from the mixture\n");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "mixture_2d: %s\n", e.what());
    return 1;
}
