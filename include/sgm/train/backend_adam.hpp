#pragma once
// sgm::train::backend_adam — Adam (adam.hpp) over a network's tensors in
// backend memory: the same warm-up, clipping and update arithmetic as the host
// optimizer, run in the backend's loops, so a GPU network trains without
// copying weights or gradients to the host.
//
//   backend_unet<gpu> net(host_unet);
//   backend_adam<gpu> opt(net.tensors(), options);
//   ... forward, backward ...; opt.step();
//
// Each step copies one partial sum of squares per 4,096 gradient values to the
// host, into a buffer kept between steps (for the global norm, the clip factor and the non-finite check); the
// moments stay in backend memory. The moments are flat over the trainable
// tensors in list order, as the host optimizer's, so checkpoints are shared.

#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "../concepts/backend.hpp"
#include "../error.hpp"
#include "../nn/backend_parameters.hpp"
#include "adam.hpp"
#include "kernels/optimizer_updates.hpp"

namespace sgm::train {

template <class Backend>
class backend_adam {
public:
    using value_type = typename Backend::value_type;
    using Real = value_type;

    // tensors: a backend network's tensors() (they must outlive the optimizer).
    explicit backend_adam(std::vector<nn::backend_tensor<Real>> tensors, adam_options options = {},
                          Backend be = Backend{})
        : tensors_(std::move(tensors)), options_(options), be_(std::move(be)) {
        check_adam_options(options);
        std::size_t chunks = 0;
        for (const auto& t : tensors_) {
            if (!t.trainable) continue;
            count_ += t.size;
            chunks += (t.size + chunk - 1) / chunk;
        }
        m_ = be_.make_vector(count_);
        v_ = be_.make_vector(count_);
        partials_ = be_.make_vector(chunks);
        partials_host_.resize(chunks);
    }

    // One update from the tensors' gradients; returns the global gradient norm
    // before clipping. Throws sgm::error naming the tensor and index of the
    // first non-finite gradient.
    double step() {
        const double norm = gradient_norm();
        const double clip = clip_factor(options_, norm);
        const double b1 = options_.beta1, b2 = options_.beta2, k = double(steps_ + 1);
        const double step_size = learning_rate(steps_) / (1 - std::pow(b1, k));
        const double root_correction = std::sqrt(1 - std::pow(b2, k));
        std::size_t offset = 0;
        for (const auto& t : tensors_) {
            if (!t.trainable) continue;
            be_.for_each_index(t.size, kernels::adam_update<Real>{t.value, t.grad, Backend::data(m_) + offset,
                                                                  Backend::data(v_) + offset, clip, b1, b2, step_size,
                                                                  root_correction, Real(options_.epsilon)});
            offset += t.size;
        }
        ++steps_;
        return norm;
    }

    [[nodiscard]] std::size_t steps() const { return steps_; }
    [[nodiscard]] double learning_rate(std::size_t step) const { return scheduled_learning_rate(options_, step); }
    [[nodiscard]] const adam_options& options() const { return options_; }
    [[nodiscard]] std::size_t trainable_count() const { return count_; }

    // Moments on the host, flat over trainable tensors in list order (checkpoints).
    [[nodiscard]] std::vector<Real> first_moment() const { return be_.to_host(m_); }
    [[nodiscard]] std::vector<Real> second_moment() const { return be_.to_host(v_); }

    void set_state(std::size_t steps, const std::vector<Real>& m, const std::vector<Real>& v) {
        check_moments("backend_adam::set_state", m, v, count_);
        be_.copy_from_host(m, m_);
        be_.copy_from_host(v, v_);
        steps_ = steps;
    }

private:
    static constexpr std::size_t chunk = 4096;

    double gradient_norm() {
        std::size_t first = 0;
        for (const auto& t : tensors_) {
            if (!t.trainable) continue;
            const std::size_t chunks = (t.size + chunk - 1) / chunk;
            be_.for_each_index(chunks, kernels::squared_chunk_sums<Real>{t.grad, Backend::data(partials_) + first,
                                                                         t.size, chunk});
            first += chunks;
        }
        sgm::copy_to_host(be_, partials_, std::span<Real>(partials_host_));
        double sum = 0;
        for (const Real p : partials_host_) sum += double(p);
        if (!std::isfinite(sum)) throw_non_finite();
        return std::sqrt(sum);
    }

    // The error path: find the first non-finite gradient on the host.
    [[noreturn]] void throw_non_finite() const {
        for (const auto& t : tensors_) {
            if (!t.trainable) continue;
            typename Backend::vector grad = be_.make_vector(t.size);
            const std::vector<Real> host = be_.to_host(view(t.grad, t.size, grad));
            for (std::size_t i = 0; i < host.size(); ++i)
                if (!std::isfinite(host[i]))
                    throw sgm::error(sgm::detail::concat("adam::step: non-finite gradient ", host[i],
                                                         " in parameter '", t.name, "' at index ", i, " (update ",
                                                         steps_, ")"));
        }
        throw sgm::error(sgm::detail::concat("adam::step: the gradient norm overflows (update ", steps_, ")"));
    }

    // Copies size values at p (backend memory) into v.
    typename Backend::vector& view(const Real* p, std::size_t size, typename Backend::vector& v) const {
        Real* out = Backend::data(v);
        be_.for_each_index(size, kernels::copy_values<Real>{p, out});
        return v;
    }

    std::vector<nn::backend_tensor<Real>> tensors_;
    adam_options options_;
    Backend be_;
    typename Backend::vector m_, v_, partials_;
    std::vector<Real> partials_host_;
    std::size_t count_ = 0, steps_ = 0;
};

}  // namespace sgm::train
