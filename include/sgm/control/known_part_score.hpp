#pragma once
// sgm::known_part_score — the score used by probability-flow ODE inpainting. On
// missing coordinates it is the model's score; on known ones it is the score of
// the perturbation kernel around the observation,
//   −(x − m(t) y) / s(t)²,
// whose probability flow carries x_known(T) = m(T) y + s(T) z exactly along
// m(t) y + s(t) z: the known part follows one smoothly noised copy of the data
// while the missing part flows with the model's score of the whole state, and
// Tweedie's formula at the end returns exactly y on the known part.

#include <cstddef>
#include <utility>

#include "../batch_view.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../config.hpp"
#include "../error.hpp"

namespace sgm {

template <score_model Model, affine_sde SDE>
class known_part_score {
public:
    using backend_type = typename Model::backend_type;
    using value_type = typename Model::value_type;
    using Real = value_type;

    // mask and values: backend memory, as many samples as the batches to come.
    known_part_score(Model& model, const SDE& sde, const Real* mask, const Real* values, std::size_t count,
                     backend_type be = backend_type{})
        : model_(model), sde_(sde), mask_(mask), values_(values), count_(count), be_(std::move(be)) {}

    [[nodiscard]] std::size_t dim() const { return model_.dim(); }

    void score(batch_view<const Real> x, const Real* t, batch_view<Real> out) {
        detail::require(x.size == count_, "known_part_score: the batch has ", x.size, " samples, the mask ", count_);
        model_.score(x, t, out);
        const SDE sde = sde_;
        const Real* mask = mask_;
        const Real* y = values_;
        const Real* xs = x.data;
        Real* o = out.data;
        const std::size_t d = x.dim;
        be_.for_each_index(x.size * d, [=] SGM_HOST_DEVICE(std::size_t i) {
            if (mask[i] == Real(0)) return;
            const Real tb = t[i / d];
            const Real s = sde.marginal_std(tb);
            o[i] = -(xs[i] - sde.mean_coefficient(tb) * y[i]) / (s * s);
        });
    }

private:
    Model& model_;
    SDE sde_;
    const Real* mask_;
    const Real* values_;
    std::size_t count_;
    backend_type be_;
};

}  // namespace sgm
