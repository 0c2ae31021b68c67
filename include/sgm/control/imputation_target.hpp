#pragma once
// sgm::imputation_target — what an inpainting (imputation) sampler holds fixed:
// per sample, a mask (1 = known, 0 = missing) and the observed values. Values at
// missing positions are ignored (they may be NaN); observed values must be finite.

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../concepts/backend.hpp"
#include "../error.hpp"

namespace sgm {

template <backend Backend>
class imputation_target {
public:
    using Real = typename Backend::value_type;

    // mask and values: count × dim host values, sample after sample.
    imputation_target(std::span<const Real> mask, std::span<const Real> values, std::size_t count, std::size_t dim,
                      const Backend& be = Backend{})
        : count_(count), dim_(dim) {
        detail::require(count >= 1 && dim >= 1, "imputation_target: ", count, " samples of dim ", dim,
                        "; expected at least one sample of dim >= 1");
        detail::require(mask.size() == count * dim, "imputation_target: the mask has ", mask.size(),
                        " values, expected count*dim = ", count, "*", dim, " = ", count * dim);
        detail::require(values.size() == count * dim, "imputation_target: got ", values.size(),
                        " observed values, expected count*dim = ", count, "*", dim, " = ", count * dim);
        std::vector<Real> observed(count * dim, Real(0));
        for (std::size_t i = 0; i < mask.size(); ++i) {
            detail::require(mask[i] == Real(0) || mask[i] == Real(1), "imputation_target: mask value ", mask[i],
                            " at sample ", i / dim, ", coordinate ", i % dim, "; expected 0 (missing) or 1 (known)");
            if (mask[i] == Real(0)) continue;
            detail::require(std::isfinite(values[i]), "imputation_target: observed value ", values[i], " at sample ",
                            i / dim, ", coordinate ", i % dim, " is not finite");
            observed[i] = values[i];
            ++known_;
        }
        mask_ = be.make_vector(count * dim);
        values_ = be.make_vector(count * dim);
        be.copy_from_host(mask, mask_);
        be.copy_from_host(std::span<const Real>(observed), values_);
    }

    // One mask (dim values) shared by every sample.
    static imputation_target shared_mask(std::span<const Real> mask, std::span<const Real> values, std::size_t count,
                                         std::size_t dim, const Backend& be = Backend{}) {
        detail::require(mask.size() == dim, "imputation_target::shared_mask: the mask has ", mask.size(),
                        " values, expected dim = ", dim);
        std::vector<Real> repeated(count * dim);
        for (std::size_t i = 0; i < repeated.size(); ++i) repeated[i] = mask[i % dim];
        return imputation_target(repeated, values, count, dim, be);
    }

    [[nodiscard]] std::size_t size() const { return count_; }
    [[nodiscard]] std::size_t dim() const { return dim_; }
    [[nodiscard]] std::size_t known_count() const { return known_; }  // known values over all samples
    [[nodiscard]] const Real* mask() const { return Backend::data(mask_); }
    [[nodiscard]] const Real* values() const { return Backend::data(values_); }  // 0 where missing

private:
    std::size_t count_, dim_, known_ = 0;
    typename Backend::vector mask_{}, values_{};
};

}  // namespace sgm
