#pragma once
// Softmax cross-entropy over logits with integer labels, and the stable
// softmax / log-softmax used for prediction.
//
//   log p_k = z_k − m − log Σ_j exp(z_j − m),   m = max_j z_j
//   loss    = −(1/n) Σ_b log p_{b, y_b}
//   dloss/dz_{b,k} = (p_{b,k} − [k = y_b]) / n
//
// Subtracting the row maximum keeps every exp() in (0, 1], so logits of any
// finite size give finite results. Sums run in double.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../error.hpp"

namespace sgm::train {

// out[b, ·] = log softmax(logits[b, ·]) for n rows of `classes` values; out may alias logits
// (the row is read in full before it is written).
template <class In, class Out>
void log_softmax(const In* logits, Out* out, std::size_t n, std::size_t classes) {
    sgm::detail::require(classes > 0, "log_softmax: needs at least one class");
    for (std::size_t b = 0; b < n; ++b) {
        const In* z = logits + b * classes;
        Out* o = out + b * classes;
        const double m = static_cast<double>(*std::max_element(z, z + classes));
        sgm::detail::require(std::isfinite(m), "log_softmax: row ", b, " has a non-finite logit (max ", m, ")");
        double sum = 0;
        for (std::size_t k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(z[k]) - m);
        // (z − m) − log Σ, never z − (m + log Σ): with |m| huge the log would round away.
        const double log_sum = std::log(sum);
        for (std::size_t k = 0; k < classes; ++k) {
            const double v = static_cast<double>(z[k]);
            sgm::detail::require(std::isfinite(v), "log_softmax: logit [", b, ", ", k, "] = ", v,
                                 "; expected a finite value");
            o[k] = static_cast<Out>((v - m) - log_sum);
        }
    }
}

// out[b, ·] = softmax(logits[b, ·]); out may alias logits.
template <class In, class Out>
void softmax(const In* logits, Out* out, std::size_t n, std::size_t classes) {
    log_softmax(logits, out, n, classes);
    for (std::size_t i = 0; i < n * classes; ++i) out[i] = static_cast<Out>(std::exp(static_cast<double>(out[i])));
}

struct cross_entropy_result {
    double loss = 0;          // mean over the batch of −log p(label)
    std::size_t correct = 0;  // rows whose largest logit is the label (first maximum on ties)
};

// Mean cross-entropy of n rows; writes dloss/dlogits into dlogits (n × classes)
// when it is not null.
template <class Real>
cross_entropy_result cross_entropy(const Real* logits, std::span<const int> labels, Real* dlogits, std::size_t n,
                                   std::size_t classes) {
    sgm::detail::require(labels.size() == n, "cross_entropy: ", labels.size(), " labels for ", n, " rows");
    sgm::detail::require(n > 0 && classes > 0, "cross_entropy: needs at least one row and one class");
    cross_entropy_result r;
    std::vector<double> logp(classes);
    for (std::size_t b = 0; b < n; ++b) {
        const int y = labels[b];
        sgm::detail::require(y >= 0 && static_cast<std::size_t>(y) < classes, "cross_entropy: label[", b, "] = ", y,
                             "; expected a class in [0, ", classes, ")");
        const Real* z = logits + b * classes;
        log_softmax(z, logp.data(), 1, classes);
        r.loss -= logp[static_cast<std::size_t>(y)];
        if (static_cast<std::size_t>(std::max_element(z, z + classes) - z) == static_cast<std::size_t>(y)) ++r.correct;
        if (dlogits != nullptr)
            for (std::size_t k = 0; k < classes; ++k)
                dlogits[b * classes + k] = static_cast<Real>(
                    (std::exp(logp[k]) - (k == static_cast<std::size_t>(y) ? 1.0 : 0.0)) / static_cast<double>(n));
    }
    r.loss /= static_cast<double>(n);
    return r;
}

}  // namespace sgm::train
