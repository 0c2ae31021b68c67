#pragma once
// sgm::train::backend_engine — the trainer's optimizer side for a score model
// whose network runs on a backend (nn::backend_unet, nn::backend_mlp, e.g. on
// a CUDA GPU): the loss (backend_dsm_loss around the trainer's loss), Adam and
// the EMA all work in backend memory. Per step, the batch (gathered on the
// host) is uploaded once; the weights, gradients and moments never leave the
// backend, except into checkpoints, which are the host trainer's format: the
// host network's parameter list is their layout, and download() fills it.
//
// The trainer picks this engine when model.network() has tensors() and
// download() (see trainer.hpp); nothing else changes for the user.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "../nn/backend_parameters.hpp"
#include "../nn/parameter.hpp"
#include "backend_adam.hpp"
#include "backend_dsm_loss.hpp"
#include "backend_ema.hpp"
#include "batch_key.hpp"
#include "checkpoint.hpp"

namespace sgm::train {

// A score model whose network keeps its weights on a backend.
template <class Model>
concept backend_network_model = requires(Model& m) {
    m.network().tensors();
    m.network().download();
    m.network().upload();
    m.network().zero_grad();
    m.backend();
};

template <backend_network_model Model, class Loss>
class backend_engine {
public:
    using Real = typename Model::value_type;
    using Backend = std::remove_cvref_t<decltype(std::declval<Model&>().backend())>;

    backend_engine(Model& model, const adam_options& adam_opts, double ema_rate)
        : model_(model),
          be_(model.backend()),
          params_(model.network().host().parameters()),
          optimizer_(model.network().tensors(), adam_opts, be_),
          average_(model.network().tensors(), ema_rate, be_) {}

    // The host network's parameters: the checkpoint layout. Their values are
    // the trained ones after train() returns (sync()), not during it.
    [[nodiscard]] const nn::parameter_list<Real>& parameters() const { return params_; }
    [[nodiscard]] const backend_adam<Backend>& optimizer() const { return optimizer_; }
    [[nodiscard]] const backend_ema<Backend>& average() const { return average_; }

    void zero_grad() { model_.network().zero_grad(); }
    // Uploads the batch (host memory) and evaluates the loss on the backend.
    double loss(const Loss& loss, Model& model, const Real* batch, std::size_t n, const batch_key& key) {
        be_.copy_from_host(std::span<const Real>(batch, n * model.dim()), batch_);
        if (!loss_) loss_.emplace(loss, be_);
        return (*loss_)(model, Backend::data(batch_), n, key, true);
    }
    double step() { return optimizer_.step(); }
    void update_average() { average_.update(); }
    [[nodiscard]] double learning_rate(std::size_t step) const { return optimizer_.learning_rate(step); }
    // Brings the backend weights into the host network's list.
    void sync() const { model_.network().download(); }

    [[nodiscard]] training_state<Real> capture(std::uint64_t step, std::uint64_t seed, config_map config) const {
        sync();
        return capture_training_state(params_, optimizer_, average_, step, seed, std::move(config));
    }
    // The host list gets the state's weights, then the backend gets them from it.
    void restore(const training_state<Real>& s) {
        restore_training_state(s, params_, optimizer_, average_);
        model_.network().upload();
    }

private:
    Model& model_;
    Backend be_;
    nn::parameter_list<Real> params_;
    backend_adam<Backend> optimizer_;
    backend_ema<Backend> average_;
    std::optional<backend_dsm_loss<Loss, Backend>> loss_;
    typename Backend::vector batch_;
};

}  // namespace sgm::train
