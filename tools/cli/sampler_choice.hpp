#pragma once
// The sampler a tool runs, chosen by flags: the predictor–corrector sampler with any
// predictor and corrector, or the probability-flow ODE; and a function that runs it
// on one batch of samples.
//
//   --sampler pc|ode  --predictor ...  --corrector ...  --snr X  --corrector-steps N
//   --steps N  --ode-method rk45|euler|heun  --rtol X  --atol X  --ode-norm max|rms  --eps X  --no-denoise

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include <sgm/concepts/sde.hpp>
#include <sgm/control/impute.hpp>
#include <sgm/corrector/annealed_langevin.hpp>
#include <sgm/corrector/langevin.hpp>
#include <sgm/corrector/no_corrector.hpp>
#include <sgm/predictor/ancestral_sampling.hpp>
#include <sgm/predictor/euler_maruyama.hpp>
#include <sgm/predictor/no_predictor.hpp>
#include <sgm/predictor/reverse_diffusion.hpp>
#include <sgm/sample/ode_sampler.hpp>
#include <sgm/sample/pc_sampler.hpp>

#include "flags.hpp"

namespace cli {

struct sampler_choice {
    std::string sampler = "pc";
    std::string predictor = "reverse-diffusion";
    std::string corrector = "langevin";
    double snr = 0.16;
    std::size_t corrector_steps = 1;
    std::size_t steps = 0;  // PC: discretization levels N; ODE euler/heun: steps (0 = the model's N)
    std::string ode_method = "rk45";
    double rtol = 1e-5, atol = 1e-5;
    std::string ode_norm = "max";
    double eps = 0;  // 0: the SDE's default (1e-5 VE, 1e-3 VP)
    bool no_denoise = false;

    void add_flags(flags& f) {
        f.add("--sampler", sampler, "KIND", "predictor-corrector or probability-flow ODE", {"pc", "ode"});
        f.add("--predictor", predictor, "P", "PC predictor",
              {"reverse-diffusion", "euler-maruyama", "ancestral", "none"});
        f.add("--corrector", corrector, "C", "PC corrector", {"langevin", "annealed-langevin", "none"});
        f.add("--snr", snr, "X", "corrector signal-to-noise ratio", 1e-6, 10);
        f.add("--corrector-steps", corrector_steps, "N", "corrector steps per predictor step");
        f.add("--steps", steps, "N", "PC levels N, or fixed ODE steps (0 = the model's N)", true);
        f.add("--ode-method", ode_method, "M", "ODE solver", {"rk45", "euler", "heun"});
        f.add("--rtol", rtol, "X", "RK45 relative tolerance", 1e-12, 1);
        f.add("--atol", atol, "X", "RK45 absolute tolerance", 1e-12, 1);
        f.add("--ode-norm", ode_norm, "N", "RK45 error norm: max over all values, or RMS (scipy's)", {"max", "rms"});
        f.add("--eps", eps, "X", "smallest time (0 = 1e-5 for VE, 1e-3 otherwise)", 0, 1);
        f.add("--no-denoise", no_denoise, "skip the final Tweedie denoising step");
    }

    // Discretization levels the sampling SDE needs: the PC sampler's N; the ODE keeps
    // the model's own SDE (0) and takes --steps as its fixed step count.
    [[nodiscard]] std::size_t sde_levels() const { return sampler == "pc" ? steps : 0; }

    // Short text for logs and tables, e.g. "pc reverse-diffusion+langevin snr 0.16 N 1000".
    [[nodiscard]] std::string describe(std::size_t n) const {
        if (sampler == "ode")
            return "ode " + ode_method +
                   (ode_method == "rk45" ? " rtol " + detail::show(rtol) + " atol " + detail::show(atol) +
                                               (ode_norm == "rms" ? " rms" : "")
                                         : " steps " + std::to_string(steps != 0 ? steps : n));
        std::string s = "pc " + predictor + "+" + corrector;
        if (corrector != "none") s += " snr " + detail::show(snr);
        return s + " N " + std::to_string(n);
    }

    // Draws `count` samples with global indices [first, first + count) under `seed`.
    template <class SDE, class Model, class Backend, class Observer = sgm::no_observer>
    sgm::sample_result<Backend> run(const SDE& sde, Model& model, std::size_t count, std::uint64_t seed,
                                    std::uint64_t first, const Backend& be, Observer&& observer = {}) const {
        if (sampler == "ode") return sgm::ode_sample(sde, model, ode(sde, count, seed, first), be, std::forward<Observer>(observer));
        const sgm::pc_options o = pc(count, seed, first);
        return with_predictor<SDE>([&](const auto& p) {
            return with_corrector([&](const auto& c) {
                return sgm::pc_sample(sde, model, p, c, o, be, std::forward<Observer>(observer));
            });
        });
    }

    // Inpaints the target's samples (global indices from `first`) with the same sampler.
    template <class SDE, class Model, class Backend>
    sgm::sample_result<Backend> impute(const SDE& sde, Model& model, const sgm::imputation_target<Backend>& target,
                                       std::uint64_t seed, std::uint64_t first, const Backend& be) const {
        if constexpr (!sgm::affine_sde<SDE>) {
            throw usage_error("inpainting needs an SDE with a Gaussian perturbation kernel");
        } else {
            if (sampler == "ode") return sgm::impute_ode(sde, model, target, ode(sde, target.size(), seed, first), be);
            const sgm::pc_options o = pc(target.size(), seed, first);
            return with_predictor<SDE>([&](const auto& p) {
                return with_corrector([&](const auto& c) { return sgm::impute_pc(sde, model, p, c, target, o, be); });
            });
        }
    }

    [[nodiscard]] sgm::pc_options pc(std::size_t count, std::uint64_t seed, std::uint64_t first) const {
        sgm::pc_options o;
        o.count = count;
        o.seed = seed;
        o.first_sample = first;
        if (eps > 0) o.eps = eps;
        o.denoise = !no_denoise;
        return o;
    }

    template <class SDE>
    [[nodiscard]] sgm::ode_options ode(const SDE& sde, std::size_t count, std::uint64_t seed, std::uint64_t first) const {
        sgm::ode_options o;
        o.count = count;
        o.seed = seed;
        o.first_sample = first;
        o.method = ode_method == "rk45"    ? sgm::ode_method::rk45
                   : ode_method == "euler" ? sgm::ode_method::euler
                                           : sgm::ode_method::heun;
        o.rtol = rtol;
        o.atol = atol;
        o.error_norm = ode_norm == "rms" ? sgm::odeint::error_norm::rms : sgm::odeint::error_norm::max;
        o.steps = steps != 0 ? steps : sde.steps();
        if (eps > 0) o.eps = eps;
        o.denoise = !no_denoise;
        return o;
    }

private:
    template <class SDE, class F>
    decltype(auto) with_predictor(F&& f) const {
        if (predictor == "euler-maruyama") return f(sgm::euler_maruyama{});
        if (predictor == "none") return f(sgm::no_predictor{});
        if (predictor == "ancestral") {
            if constexpr (sgm::ancestral_sde<SDE>) return f(sgm::ancestral_sampling{});
            else throw usage_error("--predictor ancestral needs a VE or VP model (this SDE has no ancestral step)");
        }
        return f(sgm::reverse_diffusion{});
    }
    template <class F>
    decltype(auto) with_corrector(F&& f) const {
        if (corrector == "langevin") return f(sgm::langevin(snr, corrector_steps));
        if (corrector == "annealed-langevin") return f(sgm::annealed_langevin(snr, corrector_steps));
        return f(sgm::no_corrector{});
    }
};

}  // namespace cli
