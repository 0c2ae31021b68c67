#pragma once
// Non-owning view of a batch: `size` samples of `dim` values each, stored
// contiguously sample after sample. The pointer lives in the backend's memory
// (host memory for CPU backends, device memory for CUDA).

#include <cstddef>
#include <type_traits>

namespace sgm {

template <class Real>
struct batch_view {
    Real* data = nullptr;
    std::size_t size = 0;  // number of samples B
    std::size_t dim = 0;   // values per sample D

    [[nodiscard]] std::size_t count() const { return size * dim; }
    // A view of mutable values converts to a read-only view.
    template <class U = Real>
        requires(!std::is_const_v<U>)
    operator batch_view<const U>() const {
        return {data, size, dim};
    }
};

}  // namespace sgm
