#pragma once
// sgm::train::host_engine — the trainer's optimizer side for a network whose
// weights live on the host (nn::mlp, nn::unet, nn::classifier): its parameter
// list, Adam, the EMA, and the checkpoint state built from them. trainer.hpp
// picks it for every model whose network is not a backend network
// (backend_engine.hpp).

#include <cstddef>
#include <cstdint>

#include "../nn/parameter.hpp"
#include "adam.hpp"
#include "batch_key.hpp"
#include "checkpoint.hpp"
#include "ema.hpp"

namespace sgm::train {

namespace detail {
template <class Model>
[[nodiscard]] auto parameters_of(Model& model) {
    if constexpr (requires { model.parameters(); })
        return model.parameters();
    else
        return model.network().parameters();
}
}  // namespace detail

template <class Model, class Loss>
class host_engine {
public:
    using Real = typename Model::value_type;

    host_engine(Model& model, const adam_options& adam_opts, double ema_rate)
        : params_(detail::parameters_of(model)), optimizer_(params_, adam_opts), average_(params_, ema_rate) {}

    // The network's parameters: the checkpoint layout, and the live weights.
    [[nodiscard]] const nn::parameter_list<Real>& parameters() const { return params_; }
    [[nodiscard]] const adam<Real>& optimizer() const { return optimizer_; }
    [[nodiscard]] const ema<Real>& average() const { return average_; }

    void zero_grad() { params_.zero_grad(); }
    // The loss of a batch in host memory, with parameter gradients.
    double loss(const Loss& loss, Model& model, const Real* batch, std::size_t n, const batch_key& key) {
        return loss(model, batch, n, key, true);
    }
    double step() { return optimizer_.step(params_); }
    void update_average() { average_.update(params_); }
    [[nodiscard]] double learning_rate(std::size_t step) const { return optimizer_.learning_rate(step); }
    // Nothing to bring back: the weights are the host list's.
    void sync() const {}

    [[nodiscard]] training_state<Real> capture(std::uint64_t step, std::uint64_t seed, config_map config) const {
        return capture_training_state(params_, optimizer_, average_, step, seed, std::move(config));
    }
    void restore(const training_state<Real>& s) { restore_training_state(s, params_, optimizer_, average_); }

private:
    nn::parameter_list<Real> params_;
    adam<Real> optimizer_;
    ema<Real> average_;
};

}  // namespace sgm::train
