#pragma once
// sgm::nn::classifier_guide — a trained time-conditioned classifier as an
// sgm::class_gradient_model: ∇ₓ log p_t(y | x) by one forward pass and one
// backward pass to the input, with dL/dlogits = onehot(y) − softmax(logits).
// The classifier must have been trained on inputs perturbed by the sampling SDE
// and in the score model's pixel range (sgm-train-classifier --time-conditioned).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../backend/tbb.hpp"
#include "../batch_view.hpp"
#include "../error.hpp"
#include "classifier.hpp"

namespace sgm::nn {

template <class Real, class Backend = tbb_backend<Real>>
class classifier_guide {
public:
    using backend_type = Backend;
    using value_type = Real;

    // Keeps a reference to the classifier; it must outlive the guide.
    explicit classifier_guide(classifier<Real>& net) : net_(net) {
        sgm::detail::require(net.time_conditioned(), "classifier_guide: the classifier is not time-conditioned; "
                                                     "guidance needs one trained on noisy inputs x(t)");
    }

    [[nodiscard]] std::size_t dim() const { return net_.input_size(); }
    [[nodiscard]] std::size_t classes() const { return net_.classes(); }

    void log_prob_gradient(batch_view<const Real> x, const Real* t, std::span<const std::size_t> labels,
                           batch_view<Real> out) {
        const std::size_t n = x.size, k = classes();
        sgm::detail::require(x.dim == dim() && out.dim == dim() && out.size == n, "classifier_guide: got ", n, " × ",
                             x.dim, " inputs and ", out.size, " × ", out.dim, " outputs; the classifier takes ",
                             dim(), " values per sample");
        sgm::detail::require(labels.size() == n, "classifier_guide: ", labels.size(), " labels for ", n,
                             " samples; expected one per sample");
        logits_.resize(n * k);
        net_.forward(x.data, t, logits_.data(), n);
        for (std::size_t b = 0; b < n; ++b) {
            sgm::detail::require(labels[b] < k, "classifier_guide: label[", b, "] = ", labels[b],
                                 "; expected a class in [0, ", k, ")");
            Real* row = logits_.data() + b * k;
            const Real top = *std::max_element(row, row + k);
            Real sum = 0;
            for (std::size_t c = 0; c < k; ++c) sum += std::exp(row[c] - top);
            for (std::size_t c = 0; c < k; ++c) row[c] = (c == labels[b] ? Real(1) : Real(0)) - std::exp(row[c] - top) / sum;
        }
        net_.backward(logits_.data(), out.data, n, gradients::input_only);
    }

private:
    classifier<Real>& net_;
    std::vector<Real> logits_;
};

}  // namespace sgm::nn
