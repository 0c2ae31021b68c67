#pragma once
// A run-time description of one of the library's SDEs, as text and back.
//
//   "ve SIGMA_MIN SIGMA_MAX [N [T]]"   e.g. "ve 0.01 25 1000"
//   "vp BETA_MIN BETA_MAX [N [T]]"     e.g. "vp 0.1 20 1000"
//   "subvp BETA_MIN BETA_MAX [N [T]]"
//
// Trained models store it with their weights (config key "sde"), so a sampling
// program rebuilds the SDE the network was trained with. visit_sde turns the
// description into the concrete SDE type, with any number of discretization levels.

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstddef>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../sde/sub_vp.hpp"
#include "../sde/ve.hpp"
#include "../sde/vp.hpp"

namespace sgm::models {

enum class sde_kind { ve, vp, sub_vp };

struct sde_spec {
    sde_kind kind = sde_kind::vp;
    double first = 0.1;   // σ_min (VE) or β_min (VP, sub-VP)
    double second = 20;   // σ_max or β_max
    std::size_t steps = 1000;
    double end_time = 1;
};

[[nodiscard]] inline std::string sde_kind_name(sde_kind k) {
    return k == sde_kind::ve ? "ve" : k == sde_kind::vp ? "vp" : "subvp";
}

[[nodiscard]] inline sde_kind parse_sde_kind(const std::string& text) {
    if (text == "ve") return sde_kind::ve;
    if (text == "vp") return sde_kind::vp;
    if (text == "subvp" || text == "sub-vp" || text == "sub_vp") return sde_kind::sub_vp;
    throw error("unknown SDE '" + text + "'; expected ve, vp or subvp");
}

// The shortest text that reads back as the same double ("0.1", not "0.10000000000000001").
[[nodiscard]] inline std::string number_text(double x) {
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, x);
    return std::string(buffer, r.ptr);
}

[[nodiscard]] inline std::string to_string(const sde_spec& s) {
    std::string text = sde_kind_name(s.kind);
    for (const std::string& part : {number_text(s.first), number_text(s.second), std::to_string(s.steps),
                                    number_text(s.end_time)})
        text.append(" ").append(part);
    return text;
}

// The paper's defaults for MNIST-sized data: VE σ ∈ [0.01, 50], VP/sub-VP β ∈ [0.1, 20].
[[nodiscard]] inline sde_spec default_sde_spec(sde_kind k) {
    if (k == sde_kind::ve) return {k, 0.01, 50, 1000, 1};
    return {k, 0.1, 20, 1000, 1};
}

[[nodiscard]] inline sde_spec parse_sde_spec(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) throw error("SDE description '" + text + "' is empty; expected e.g. 'vp 0.1 20 1000'");
    if (words.size() > 5)
        throw error("SDE description '" + text + "' has extra text '" + words[5] + "'; expected KIND A B [N [T]]");
    sde_spec s;
    s.kind = parse_sde_kind(words[0]);
    if (words.size() < 3)
        throw error("SDE description '" + text + "' lacks its two schedule parameters; expected e.g. 'vp 0.1 20 1000'");
    const auto number = [&](const std::string& w) {
        char* end = nullptr;
        const double v = std::strtod(w.c_str(), &end);
        if (end != w.c_str() + w.size() || !std::isfinite(v))
            throw error("SDE description '" + text + "': '" + w + "' is not a finite number");
        return v;
    };
    s.first = number(words[1]);
    s.second = number(words[2]);
    if (words.size() >= 4) {
        const double n = number(words[3]);
        if (!(n >= 1 && n == std::floor(n) && n < 1e12))
            throw error("SDE description '" + text + "': N = " + words[3] + " must be a positive integer");
        s.steps = static_cast<std::size_t>(n);
    }
    if (words.size() == 5) s.end_time = number(words[4]);
    return s;
}

// Calls f(sde) with the concrete SDE of `spec`, discretized with `steps` levels
// (0 = the spec's own). The SDE constructors validate the parameters.
template <class Real, class F>
decltype(auto) visit_sde(const sde_spec& spec, std::size_t steps, F&& f) {
    const std::size_t n = steps == 0 ? spec.steps : steps;
    const Real a = static_cast<Real>(spec.first), b = static_cast<Real>(spec.second);
    const Real t = static_cast<Real>(spec.end_time);
    switch (spec.kind) {
        case sde_kind::ve: return std::forward<F>(f)(ve_sde<Real>(a, b, n, t));
        case sde_kind::sub_vp: return std::forward<F>(f)(sub_vp_sde<Real>(a, b, n, t));
        default: return std::forward<F>(f)(vp_sde<Real>(a, b, n, t));
    }
}

}  // namespace sgm::models
