#pragma once
// sgm::decoupled_score — a score model seen in a channel_transform's basis. For
// x' = Q x per pixel with Q orthonormal, p'(x') = p(Qᵀx') and
//   ∇ log p'(x') = Q ∇ log p(Qᵀ x'),
// so the wrapped model is evaluated on the images mapped back to their channels
// and its scores are mapped forward. Colorization imputes decoupled channel 0.

#include <cstddef>
#include <span>
#include <utility>

#include "../batch_view.hpp"
#include "../concepts/score_model.hpp"
#include "../error.hpp"
#include "channel_transform.hpp"

namespace sgm {

template <score_model Model>
class decoupled_score {
public:
    using backend_type = typename Model::backend_type;
    using value_type = typename Model::value_type;
    using Real = value_type;

    decoupled_score(Model& model, const channel_transform<Real>& transform, backend_type be = backend_type{})
        : model_(model), channels_(transform.channels()), be_(std::move(be)) {
        detail::require(std::size_t(model.dim()) % channels_ == 0, "decoupled_score: the model's dim ", model.dim(),
                        " does not split into ", channels_, " channels");
        rows_ = be_.make_vector(channels_ * channels_);
        be_.copy_from_host(std::span<const Real>(transform.rows()), rows_);
    }

    [[nodiscard]] std::size_t dim() const { return model_.dim(); }

    void score(batch_view<const Real> x, const Real* t, batch_view<Real> out) {
        const std::size_t n = x.size * x.dim;
        if (n > capacity_) {
            images_ = be_.make_vector(n);
            scores_ = be_.make_vector(n);
            capacity_ = n;
        }
        const std::size_t pixels = x.dim / channels_;
        const Real* q = backend_type::data(rows_);
        Real* images = backend_type::data(images_);
        Real* scores = backend_type::data(scores_);
        channel_transform<Real>::apply(be_, q, channels_, x.data, images, x.size, pixels, true);
        model_.score(batch_view<const Real>{images, x.size, x.dim}, t, batch_view<Real>{scores, x.size, x.dim});
        channel_transform<Real>::apply(be_, q, channels_, scores, out.data, x.size, pixels, false);
    }

private:
    Model& model_;
    std::size_t channels_;
    backend_type be_;
    typename backend_type::vector rows_{}, images_{}, scores_{};
    std::size_t capacity_ = 0;
};

}  // namespace sgm
