#pragma once
// sgm::train::backend_ema — the exponential moving average of ema.hpp over a
// network's tensors in backend memory: same decay schedule, same arithmetic,
// the shadow kept on the backend. shadow() brings it to the host, flat in list
// order as the host average's, so checkpoints are shared.

#include <cstddef>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../nn/backend_parameters.hpp"
#include "ema.hpp"
#include "kernels/optimizer_updates.hpp"

namespace sgm::train {

template <class Backend>
class backend_ema {
public:
    using value_type = typename Backend::value_type;
    using Real = value_type;

    // Copies the tensors' current values (a backend network's tensors(); they
    // must outlive the average).
    backend_ema(std::vector<nn::backend_tensor<Real>> tensors, double rate, Backend be = Backend{})
        : tensors_(std::move(tensors)), rate_(rate), be_(std::move(be)) {
        sgm::detail::require(rate >= 0 && rate <= 1, "ema: rate = ", rate, "; expected a value in [0, 1]");
        for (const auto& t : tensors_) count_ += t.size;
        shadow_ = be_.make_vector(count_);
        std::size_t offset = 0;
        for (const auto& t : tensors_) {
            be_.for_each_index(t.size, kernels::copy_values<Real>{t.value, Backend::data(shadow_) + offset});
            offset += t.size;
        }
    }

    [[nodiscard]] double next_decay() const { return ema<Real>::decay(rate_, updates_ + 1); }

    void update() {
        const Real d = Real(next_decay());
        const Real keep = Real(1) - d;
        std::size_t offset = 0;
        for (const auto& t : tensors_) {
            be_.for_each_index(t.size, kernels::ema_update<Real>{Backend::data(shadow_) + offset, t.value, d, keep,
                                                                 t.trainable});
            offset += t.size;
        }
        ++updates_;
    }

    // Flat, all tensors in list order, on the host.
    [[nodiscard]] std::vector<Real> shadow() const { return be_.to_host(shadow_); }
    [[nodiscard]] std::size_t updates() const { return updates_; }
    [[nodiscard]] double rate() const { return rate_; }

    void set_state(std::size_t updates, const std::vector<Real>& shadow) {
        sgm::detail::require(shadow.size() == count_, "ema::set_state: shadow has ", shadow.size(),
                             " values, expected ", count_);
        be_.copy_from_host(shadow, shadow_);
        updates_ = updates;
    }

    // Writes the averaged weights into a host parameter list (as ema::copy_to),
    // e.g. the host network's, to save them or to upload() them later.
    void copy_to(const nn::parameter_list<Real>& params) const { params.assign_values(shadow()); }

    // Writes the averaged weights into the tensors' values, on the backend
    // (e.g. to sample with the average after training).
    void copy_to_tensors() const {
        std::size_t offset = 0;
        for (const auto& t : tensors_) {
            be_.for_each_index(t.size, kernels::copy_values<Real>{Backend::data(shadow_) + offset, t.value});
            offset += t.size;
        }
    }

private:
    std::vector<nn::backend_tensor<Real>> tensors_;
    double rate_;
    Backend be_;
    typename Backend::vector shadow_;
    std::size_t count_ = 0, updates_ = 0;
};

}  // namespace sgm::train
