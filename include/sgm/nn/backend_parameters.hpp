#pragma once
// sgm::nn::backend_parameters — a copy of a host parameter list in a backend's
// memory: one value vector and one gradient vector per tensor, in list order
// and with the same names. Backend layers read their weights from it and
// accumulate their gradients into it; upload() and copy_gradients_to() move
// values between it and the host list (checkpoints stay on the host).

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "kernels/dense.hpp"
#include "parameter.hpp"

namespace sgm::nn {

// One tensor of a network in backend memory: what an optimizer needs.
template <class Real>
struct backend_tensor {
    std::string name;
    std::size_t size = 0;
    bool trainable = true;
    Real* value = nullptr;
    Real* grad = nullptr;
};

// A network's tensors in the order of its host parameter list, whose names
// they carry (so flat layouts match the host optimizer's and checkpoints).
template <class Real>
[[nodiscard]] std::vector<backend_tensor<Real>> in_list_order(std::vector<backend_tensor<Real>> tensors,
                                                              const parameter_list<Real>& host) {
    sgm::detail::require(tensors.size() == host.size(), "backend network: ", tensors.size(),
                         " tensors on the backend, ", host.size(), " in the host list");
    std::vector<backend_tensor<Real>> ordered;
    ordered.reserve(tensors.size());
    for (const auto& e : host) {
        auto it = std::find_if(tensors.begin(), tensors.end(), [&](const auto& t) { return t.name == e.name; });
        sgm::detail::require(it != tensors.end(), "backend network: no backend tensor '", e.name, "'");
        ordered.push_back(*it);
    }
    return ordered;
}

template <class Backend>
class backend_parameters {
public:
    using value_type = typename Backend::value_type;
    using vector = typename Backend::vector;

    explicit backend_parameters(const parameter_list<value_type>& host, Backend be = Backend{}) : be_(std::move(be)) {
        for (const auto& e : host)
            tensors_.push_back({e.name, e.tensor->trainable, be_.make_vector(e.tensor->size()),
                                be_.make_vector(e.tensor->size())});
        upload(host);
    }

    [[nodiscard]] std::size_t size() const { return tensors_.size(); }
    [[nodiscard]] const value_type* value(std::size_t i) const { return Backend::data(tensors_[i].value); }
    [[nodiscard]] value_type* grad(std::size_t i) { return Backend::data(tensors_[i].grad); }

    // Every tensor as a backend_tensor (name, size, trainable, pointers), for
    // optimizers that update the values in place.
    void append_tensors(std::vector<backend_tensor<value_type>>& out) {
        for (auto& t : tensors_)
            out.push_back({t.name, t.value.size(), t.trainable, Backend::data(t.value), Backend::data(t.grad)});
    }

    // Writes the backend values into the host list's values (for checkpoints).
    void download(const parameter_list<value_type>& host) const {
        for (const auto& t : tensors_) matching(host, t)->value = be_.to_host(t.value);
    }

    // Copies the host list's values (same names, same sizes) to the backend.
    void upload(const parameter_list<value_type>& host) {
        for (auto& t : tensors_) {
            const parameter<value_type>* p = matching(host, t);
            be_.copy_from_host({p->value.data(), p->value.size()}, t.value);
        }
    }

    // Writes the accumulated gradients into the host list's grads.
    void copy_gradients_to(const parameter_list<value_type>& host) const {
        for (const auto& t : tensors_) matching(host, t)->grad = be_.to_host(t.grad);
    }

    void zero_grad() {
        for (auto& t : tensors_) be_.for_each_index(t.grad.size(), kernels::zero_fill<value_type>{Backend::data(t.grad)});
    }

private:
    struct tensor {
        std::string name;
        bool trainable;
        vector value, grad;
    };

    static parameter<value_type>* matching(const parameter_list<value_type>& host, const tensor& t) {
        parameter<value_type>* p = host.find(t.name);
        sgm::detail::require(p != nullptr, "backend_parameters: the host list has no tensor '", t.name, "'");
        sgm::detail::require(p->size() == t.value.size(), "backend_parameters: tensor '", t.name, "' has ",
                             p->size(), " values on the host, ", t.value.size(), " on the backend");
        return p;
    }

    Backend be_;
    std::vector<tensor> tensors_;
};

}  // namespace sgm::nn
