// likelihood_2d — exact log-likelihoods from a score model, through the
// probability-flow ODE, checked against the true density.
//
// The method (Song et al. 2021, appendix D.2). An SDE turns data into noise; its
// probability-flow ODE
//     dx/dt = F(x, t) = f(x, t) − ½ g(t)² ∇log p_t(x)
// moves every point so that the density p_t is carried along exactly. Following
// one point x from t = eps to t = T gives its latent z = x(T), and the change of
// variables along the path gives
//     log p_eps(x) = log p_T(z) + ∫_eps^T ∇·F(x(t), t) dt.
// sgm::log_likelihood solves the ODE and the integral together (adaptive RK45).
// The divergence ∇·F needs the trace of the score's Jacobian: exactly (D
// Jacobian-vector products per point) or by Hutchinson's estimator (K random
// probes per point, unbiased but noisy). p_T is not known for real data, so the
// prior N(0, σ_T² I) stands in for it.
//
// Here the data are a 2-D Gaussian mixture, whose noised densities p_t are known
// in closed form (sgm::mixture_score): we can compare the ODE's answer with the
// true log p_eps on a grid of points, and split the difference into
//   solver part          = log p_T(z) + ∫∇·F dt − log p_eps(x)   (ODE and trace error)
//   prior-mismatch part  = log prior(z) − log p_T(z)              (the stand-in prior)
// whose sum is the total error  ode_log_p − analytic_log_p.
//
// Hutchinson's estimator is meant for high dimension; in 2-D a Rademacher probe ε
// gives εᵀJε = J₁₁ + J₂₂ ± 2J₁₂, only two values, so a few points may draw the same
// sign on every probe and report a zero standard error. Gaussian probes avoid that.
//
// usage: likelihood_2d [output-folder] [--sde ve|vp|subvp] [--divergence exact|rademacher|gaussian]
//                      [--probes K] [--grid N] [--threads N]

#include <sgm/sgm.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/canvas.hpp"
#include "common/colormap.hpp"
#include "common/heat_grid.hpp"
#include "common/moments.hpp"
#include "common/plot.hpp"

namespace {

using Real = double;
using backend = sgm::tbb_backend<Real>;
using mixture = sgm::gaussian_mixture<Real>;

struct settings {
    std::filesystem::path folder = "likelihood-output";
    std::string sde = "vp";
    sgm::divergence_estimator divergence = sgm::divergence_estimator::exact;
    std::size_t probes = 1;  // Hutchinson probes per point
    int grid = 64;           // grid × grid points
    int threads = 0;         // 0: all cores
};

// Three components, two of them correlated, one elongated.
mixture make_target() {
    return mixture({0.45, 0.30, 0.25},                   // weights
                   {-3.0, -2.0, 3.0, 2.5, 2.5, -3.0},    // means, 3 × 2
                   {1.2, 0.8, 0.8, 1.0,                  // covariances, 3 × 2 × 2
                    0.8, -0.5, -0.5, 0.7,                //
                    1.5, 0.0, 0.0, 0.15});
}

// The data's extent: every component's mean ± 3.5 standard deviations per axis.
examples::view data_box(const mixture& target) {
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    for (std::size_t k = 0; k < target.components(); ++k) {
        const double* m = target.means().data() + 2 * k;
        const double* c = target.covariances().data() + 4 * k;
        const double sx = 3.5 * std::sqrt(c[0]), sy = 3.5 * std::sqrt(c[3]);
        x0 = std::min(x0, m[0] - sx), x1 = std::max(x1, m[0] + sx);
        y0 = std::min(y0, m[1] - sy), y1 = std::max(y1, m[1] + sy);
    }
    return {x0, x1, y0, y1, 0, 0, 0, 0};
}

// Everything one run computes, per grid point where a vector.
struct outcome {
    std::vector<double> ode_log_p, analytic_log_p, std_error;
    std::vector<double> solver_error, prior_error;  // their sum is ode_log_p − analytic_log_p
    std::size_t nfe = 0, steps = 0;
    double seconds = 0;
    double eps = 0;
};

template <class SDE>
outcome evaluate(const SDE& sde, const mixture& target, const std::vector<Real>& xy, const settings& s,
                 const backend& be) {
    const std::size_t n = xy.size() / 2;
    // 1. The score model: here the exact score of the mixture noised by this SDE. A
    //    trained network would take its place; log_likelihood needs its score and
    //    Jacobian-vector products (mixture_score provides both exactly).
    sgm::mixture_score<backend, SDE> model(target, sde, be);

    // 2. The points, as one batch of n samples of dimension 2.
    const auto x = sgm::batch<backend>::from_host(xy, n, 2, be);

    // 3. The likelihood: RK45 from eps to T with the paper's tolerances (1e-5).
    sgm::likelihood_options options;
    options.divergence = s.divergence;
    options.probes = s.probes;
    options.seed = 7;  // Hutchinson probes only
    const auto start = std::chrono::steady_clock::now();
    const auto result = sgm::log_likelihood(sde, model, x, options, be);
    // Per point: log_p = prior_log_p (log N(z; 0, σ_T² I)) + delta_log_p (∫∇·F dt),
    // std_error (Hutchinson with K ≥ 2), and the latent z; nfe and steps for the batch.
    outcome out;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.nfe = result.nfe;
    out.steps = result.steps;
    out.eps = options.eps;
    out.ode_log_p = result.log_p;
    out.std_error = result.std_error;

    // 4. The truth: log p_eps(x) in closed form (the result is the density at eps, not at 0).
    std::vector<Real> t(n, Real(options.eps)), truth(n);
    model.log_density(x.view(), t.data(), truth.data());  // tbb_backend memory is host memory
    out.analytic_log_p.assign(truth.begin(), truth.end());

    // 5. The true p_T at the latents, to separate the prior's share of the error.
    std::fill(t.begin(), t.end(), Real(sde.T()));
    std::vector<Real> latent_log_p(n);
    model.log_density(result.latent.view(), t.data(), latent_log_p.data());
    for (std::size_t b = 0; b < n; ++b) {
        out.prior_error.push_back(result.prior_log_p[b] - latent_log_p[b]);
        out.solver_error.push_back(latent_log_p[b] + result.delta_log_p[b] - truth[b]);
    }
    return out;
}

struct summary {
    double max = 0, mean = 0;
};

summary abs_summary(const std::vector<double>& v) {
    summary s;
    for (const double e : v) {
        s.max = std::max(s.max, std::abs(e));
        s.mean += std::abs(e) / double(v.size());
    }
    return s;
}

std::string format(const char* fmt, auto... values) {
    char text[256];
    std::snprintf(text, sizeof text, fmt, values...);
    return text;
}

// ---- Picture: three panels side by side ------------------------------------

const examples::rgb ink{30, 30, 30}, grey{90, 90, 90};

void draw_panel(examples::canvas& c, examples::view v, int left, int top, const std::vector<double>& values,
                int grid, double low, double high, const std::function<examples::rgb(double)>& colormap,
                const std::string& title, const std::string& subtitle, const char* bar_format) {
    c.text(left, top + 2, title, ink, 2);
    c.text(left, top + 22, subtitle, grey, 1);
    v.left = left;
    v.top = top + 38;
    examples::cell_heat_map(c, v, values, grid, grid, low, high, colormap);
    examples::grid(c, v, 2.0, {230, 230, 230}, {150, 150, 150});
    c.frame(v.left - 1, v.top - 1, v.width + 2, v.height + 2, {60, 60, 60});
    examples::color_bar(c, v.left, v.top + v.height + 10, v.width, 10, low, high, colormap, bar_format, grey);
}

settings parse(int argc, char** argv) {
    settings s;
    const auto usage = [&](int code) {
        std::fprintf(code == 0 ? stdout : stderr, "usage: %s [output-folder] [--sde ve|vp|subvp] [--divergence exact|rademacher|gaussian]\n"
                    "       [--probes K] [--grid N] [--threads N]\n",
                    argv[0]);
        std::exit(code);
    };
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--sde" && has_value) {
            s.sde = argv[++i];
            if (s.sde != "ve" && s.sde != "vp" && s.sde != "subvp") usage(2);
        } else if (arg == "--divergence" && has_value) {
            const std::string d = argv[++i];
            if (d == "exact") s.divergence = sgm::divergence_estimator::exact;
            else if (d == "rademacher") s.divergence = sgm::divergence_estimator::rademacher;
            else if (d == "gaussian") s.divergence = sgm::divergence_estimator::gaussian;
            else usage(2);
        } else if ((arg == "--probes" || arg == "--grid" || arg == "--threads") && has_value) {
            const long value = std::strtol(argv[++i], nullptr, 10);
            if (arg == "--probes") s.probes = std::size_t(std::max(1L, value));
            else if (arg == "--grid") s.grid = int(std::clamp(value, 2L, 512L));
            else s.threads = int(std::max(0L, value));
        } else if (arg == "--help" || arg == "-h") {
            usage(0);
        } else if (!arg.empty() && arg[0] == '-') {
            usage(2);
        } else {
            s.folder = arg;
        }
    }
    return s;
}

const char* divergence_name(sgm::divergence_estimator d) {
    switch (d) {
        case sgm::divergence_estimator::exact: return "exact trace";
        case sgm::divergence_estimator::rademacher: return "Hutchinson, Rademacher probes";
        case sgm::divergence_estimator::gaussian: return "Hutchinson, Gaussian probes";
    }
    return "?";
}

}  // namespace

int main(int argc, char** argv) try {
    const settings s = parse(argc, argv);
    const backend be(s.threads);
    const mixture target = make_target();
    std::filesystem::create_directories(s.folder);

    // The grid: s.grid × s.grid points over the data's extent, row after row from the top.
    examples::view box = data_box(target);
    box.width = box.height = s.grid;
    const std::vector<Real> xy = examples::pixel_centres(box);
    const std::size_t n = xy.size() / 2;

    // The SDE, with the paper's parameters; VE's sigma_max is the largest distance
    // between two data points, so that its prior covers the data.
    outcome r;
    std::string sde_name;
    if (s.sde == "ve") {
        const double sigma_max = std::ceil(examples::largest_distance_2d(target.sample(2000, 1)));
        sde_name = format("VE (sigma 0.01 -> %g)", sigma_max);
        r = evaluate(sgm::ve_sde<Real>(0.01, sigma_max), target, xy, s, be);
    } else if (s.sde == "subvp") {
        sde_name = "sub-VP (beta 0.1 -> 20)";
        r = evaluate(sgm::sub_vp_sde<Real>(0.1, 20.0), target, xy, s, be);
    } else {
        sde_name = "VP (beta 0.1 -> 20)";
        r = evaluate(sgm::vp_sde<Real>(0.1, 20.0), target, xy, s, be);
    }
    const bool exact = s.divergence == sgm::divergence_estimator::exact;
    std::string estimator = divergence_name(s.divergence);
    if (!exact) estimator += format(", K = %zu", s.probes);

    // The errors.
    std::vector<double> error(n), abs_error(n);
    for (std::size_t b = 0; b < n; ++b) {
        error[b] = r.ode_log_p[b] - r.analytic_log_p[b];
        abs_error[b] = std::abs(error[b]);
    }
    const summary total = abs_summary(error), solver = abs_summary(r.solver_error), prior = abs_summary(r.prior_error);

    std::printf("sgm %s — log-likelihood of a 2-D mixture of %zu Gaussians by the probability-flow ODE\n\n",
                SGM_VERSION_STRING, target.components());
    std::printf("  SDE             %s, likelihood at t = eps = %g\n", sde_name.c_str(), r.eps);
    std::printf("  divergence      %s\n", estimator.c_str());
    std::printf("  grid            %d x %d = %zu points over [%.2f, %.2f] x [%.2f, %.2f]\n", s.grid, s.grid, n,
                box.x_min, box.x_max, box.y_min, box.y_max);
    std::printf("  solver          RK45, rtol = atol = 1e-5: %zu steps, NFE %zu (evaluations of the\n"
                "                  augmented right-hand side, each one score and %s per point)\n",
                r.steps, r.nfe, exact ? "2 Jacobian products" : format("%zu Jacobian product(s)", s.probes).c_str());
    std::printf("  wall time       %.2f s for all %zu points (%.1f us per point), tbb backend\n\n", r.seconds, n,
                1e6 * r.seconds / double(n));
    const auto row = [](const char* label, const summary& e) {
        std::printf("  %-42s max %.2e   mean %.2e\n", label, e.max, e.mean);
    };
    row("|ode_log_p - analytic_log_p| in nats:", total);
    row(exact ? "  solver part" : "  solver part (with probe noise)", solver);
    row("  prior-mismatch part", prior);
    std::printf("  solver part:         log p_T(z) + integral of div F - log p_eps(x), with the true p_T\n"
                "  prior-mismatch part: log prior(z) - log p_T(z), the price of the N(0, sigma_T^2 I) stand-in\n");
    if (!exact) {
        const summary se = abs_summary(r.std_error);
        if (s.probes >= 2)
            row("Hutchinson standard error per point:", se);
        else
            std::printf("  (one probe per point: no standard error; use --probes 2 or more for one)\n");
    }

    // CSV: one row per grid point.
    const auto csv = s.folder / "likelihood_2d.csv";
    {
        std::ofstream out(csv);
        out << "x,y,ode_log_p,analytic_log_p,std_error\n";
        out.precision(10);
        for (std::size_t b = 0; b < n; ++b)
            out << xy[2 * b] << ',' << xy[2 * b + 1] << ',' << r.ode_log_p[b] << ',' << r.analytic_log_p[b] << ','
                << r.std_error[b] << '\n';
        if (!out) throw std::runtime_error("cannot write " + csv.string());
    }

    // PNG: ODE log p | analytic log p (one colour scale, 12 nats below the peak) | |error|.
    const int cell = std::max(2, 320 / s.grid), plot = cell * s.grid;
    constexpr int margin = 16, banner = 36, header = 38, footer = 40;
    examples::view v = box;
    v.width = v.height = plot;
    const double high = *std::max_element(r.analytic_log_p.begin(), r.analytic_log_p.end());
    const double low = high - 12.0;
    const double error_top = total.max > 0 ? total.max : 1.0;
    examples::canvas c(margin + 3 * (plot + margin), banner + header + plot + footer + margin);
    c.text(margin, 10, format("log p(x) of a 2-D mixture: %s SDE, %s", s.sde.c_str(), estimator.c_str()), ink, 2);
    const int top = banner;
    draw_panel(c, v, margin, top, r.ode_log_p, s.grid, low, high, examples::viridis, "Probability-flow ODE",
               format("NFE %zu, %.2f s; nats, clipped 12 below the peak", r.nfe, r.seconds), "%.1f");
    draw_panel(c, v, margin + plot + margin, top, r.analytic_log_p, s.grid, low, high, examples::viridis,
               "Analytic log p", format("mixture_score::log_density at t = %g", r.eps), "%.1f");
    draw_panel(c, v, margin + 2 * (plot + margin), top, abs_error, s.grid, 0.0, error_top, examples::white_to_red,
               "Absolute error", format("own scale 0 .. %.2g nats; mean %.2g", error_top, total.mean), "%.1e");
    const auto png = s.folder / "likelihood_2d.png";
    const bool have_png = c.write_png(png.string());

    std::printf("\nWrote to %s/:\n", s.folder.string().c_str());
    if (have_png)
        std::printf("  likelihood_2d.png  ODE log p | analytic log p (shared scale, %.1f .. %.1f nats) |\n"
                    "                     absolute error (its own scale, 0 .. %.2e nats)\n",
                    low, high, error_top);
    else
        std::printf("  (no PNG: this build has no stb_image_write; install libstb-dev and rebuild)\n");
    std::printf("  likelihood_2d.csv  x, y, ode_log_p, analytic_log_p, std_error (NaN for one probe)\n");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "likelihood_2d: %s\n", e.what());
    return 1;
}
