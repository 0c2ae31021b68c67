#pragma once
// sgm::batch — an owning batch of B samples × D values in a backend's memory.

#include <cstddef>
#include <span>
#include <vector>

#include "batch_view.hpp"
#include "concepts/backend.hpp"
#include "error.hpp"

namespace sgm {

template <backend Backend>
class batch {
public:
    using backend_type = Backend;
    using value_type = typename Backend::value_type;
    using vector_type = typename Backend::vector;

    batch() = default;
    batch(std::size_t size, std::size_t dim, const Backend& be = Backend{})
        : values_(be.make_vector(size * dim)), size_(size), dim_(dim) {}

    // Copies host values (size × dim, sample-major) into the backend's memory.
    static batch from_host(std::span<const value_type> host, std::size_t size, std::size_t dim,
                           const Backend& be = Backend{}) {
        detail::require(host.size() == size * dim, "batch::from_host: got ", host.size(),
                        " values, expected size*dim = ", size, "*", dim, " = ", size * dim);
        batch b(size, dim, be);
        be.copy_from_host(host, b.values_);
        return b;
    }

    [[nodiscard]] std::vector<value_type> to_host(const Backend& be = Backend{}) const {
        return be.to_host(values_);
    }

    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] std::size_t dim() const { return dim_; }
    [[nodiscard]] vector_type& values() { return values_; }
    [[nodiscard]] const vector_type& values() const { return values_; }
    [[nodiscard]] value_type* data() { return Backend::data(values_); }
    [[nodiscard]] const value_type* data() const { return Backend::data(values_); }
    [[nodiscard]] batch_view<value_type> view() { return {data(), size_, dim_}; }
    [[nodiscard]] batch_view<const value_type> view() const { return {data(), size_, dim_}; }

private:
    vector_type values_{};
    std::size_t size_ = 0;
    std::size_t dim_ = 0;
};

}  // namespace sgm
