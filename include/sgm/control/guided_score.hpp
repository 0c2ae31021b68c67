#pragma once
// sgm::guided_score — classifier guidance (Song et al. 2021, section 5): the score
// of the conditional p_t(x | y),
//   ∇ₓ log p_t(x | y) = ∇ₓ log p_t(x) + w ∇ₓ log p_t(y | x),
// with guidance scale w (w = 1 is Bayes' rule; w > 1 sharpens the class). It is a
// score model itself, so every predictor, corrector, the ODE sampler and the
// likelihood take it unchanged. Set one class per sample before sampling; the
// batch a sampler passes must have that many samples.

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../batch_view.hpp"
#include "../concepts/class_gradient_model.hpp"
#include "../concepts/score_model.hpp"
#include "../config.hpp"
#include "../error.hpp"

namespace sgm {

template <score_model Model, class_gradient_model Guide>
    requires std::same_as<typename Model::backend_type, typename Guide::backend_type>
class guided_score {
public:
    using backend_type = typename Model::backend_type;
    using value_type = typename Model::value_type;
    using Real = value_type;

    // Keeps references to model and guide; they must outlive this object.
    guided_score(Model& model, Guide& guide, double scale = 1.0, backend_type be = backend_type{})
        : model_(model), guide_(guide), be_(std::move(be)) {
        detail::require(std::size_t(guide.dim()) == std::size_t(model.dim()), "guided_score: the classifier takes dim ",
                        guide.dim(), " but the score model takes dim ", model.dim());
        set_scale(scale);
    }

    [[nodiscard]] std::size_t dim() const { return model_.dim(); }
    [[nodiscard]] std::size_t classes() const { return guide_.classes(); }
    [[nodiscard]] double scale() const { return scale_; }
    [[nodiscard]] std::span<const std::size_t> labels() const { return labels_; }

    void set_scale(double scale) {
        detail::require(std::isfinite(scale) && scale >= 0, "guided_score: guidance scale = ", scale,
                        "; expected a finite value >= 0");
        scale_ = scale;
    }

    // The class of every sample of the batches to come, in batch order.
    void set_labels(std::span<const std::size_t> labels) {
        detail::require(!labels.empty(), "guided_score: no labels; expected one class per sample");
        const std::size_t k = guide_.classes();
        for (std::size_t b = 0; b < labels.size(); ++b)
            detail::require(labels[b] < k, "guided_score: label[", b, "] = ", labels[b], "; expected a class in [0, ",
                            k, ")");
        labels_.assign(labels.begin(), labels.end());
    }

    // The same class for `count` samples.
    void set_label(std::size_t label, std::size_t count) {
        const std::vector<std::size_t> labels(count, label);
        set_labels(labels);
    }

    void score(batch_view<const Real> x, const Real* t, batch_view<Real> out) {
        detail::require(x.size == labels_.size(), "guided_score: the batch has ", x.size, " samples but ",
                        labels_.size(), " labels are set; call set_labels with one class per sample");
        model_.score(x, t, out);
        if (scale_ == 0) return;
        const std::size_t n = x.size * x.dim;
        if (n > capacity_) {
            gradient_ = be_.make_vector(n);
            capacity_ = n;
        }
        Real* g = backend_type::data(gradient_);
        guide_.log_prob_gradient(x, t, std::span<const std::size_t>(labels_), batch_view<Real>{g, x.size, x.dim});
        const Real w = Real(scale_);
        Real* o = out.data;
        be_.for_each_index(n, [=] SGM_HOST_DEVICE(std::size_t i) { o[i] += w * g[i]; });
    }

private:
    Model& model_;
    Guide& guide_;
    backend_type be_;
    double scale_ = 1;
    std::vector<std::size_t> labels_;
    typename backend_type::vector gradient_{};
    std::size_t capacity_ = 0;
};

}  // namespace sgm
