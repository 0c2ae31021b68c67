#pragma once
// A named, trainable tensor and the flat list of a network's tensors.
//
// Layers own their parameters; a network collects pointers to them, in a fixed
// order and with dotted names ("down.0.conv1.weight"), into a parameter_list.
// The optimizer, the EMA and the checkpoint code work on that list only.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"

namespace sgm::nn {

// How a parameter is filled by nn::initialize (see init.hpp).
struct init_rule {
    enum class kind { zeros, ones, uniform, normal } type = kind::zeros;
    double scale = 0;  // uniform: half-width; normal: standard deviation
};

template <class Real>
struct parameter {
    std::string name;                 // local name inside its layer, e.g. "weight"
    std::vector<std::size_t> shape;   // row-major
    std::vector<Real> value;
    std::vector<Real> grad;           // same size; accumulated by backward passes
    init_rule init;
    bool trainable = true;            // false: a fixed buffer (saved, never optimized)

    parameter(std::string n, std::vector<std::size_t> s, init_rule rule = {}, bool train = true)
        : name(std::move(n)), shape(std::move(s)), init(rule), trainable(train) {
        const std::size_t count =
            std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
        value.assign(count, Real(0));
        grad.assign(count, Real(0));
    }

    [[nodiscard]] std::size_t size() const { return value.size(); }
};

template <class Real>
class parameter_list {
public:
    struct entry {
        std::string name;  // full dotted name
        parameter<Real>* tensor;
    };

    void add(parameter<Real>& p, std::string_view prefix) {
        std::string full = prefix.empty() ? p.name : std::string(prefix) + "." + p.name;
        for (const auto& e : entries_)
            sgm::detail::require(e.name != full, "parameter_list: duplicate parameter name '", full, "'");
        entries_.push_back({std::move(full), &p});
    }

    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    [[nodiscard]] const entry& operator[](std::size_t i) const { return entries_[i]; }
    [[nodiscard]] auto begin() const { return entries_.begin(); }
    [[nodiscard]] auto end() const { return entries_.end(); }

    // Total number of scalar values (trainable or not).
    [[nodiscard]] std::size_t value_count() const {
        std::size_t n = 0;
        for (const auto& e : entries_) n += e.tensor->size();
        return n;
    }
    [[nodiscard]] std::size_t trainable_count() const {
        std::size_t n = 0;
        for (const auto& e : entries_)
            if (e.tensor->trainable) n += e.tensor->size();
        return n;
    }

    void zero_grad() const {
        for (const auto& e : entries_) std::fill(e.tensor->grad.begin(), e.tensor->grad.end(), Real(0));
    }

    [[nodiscard]] parameter<Real>* find(std::string_view name) const {
        for (const auto& e : entries_)
            if (e.name == name) return e.tensor;
        return nullptr;
    }

    // Copies every value into one flat vector (in list order) and back; used for
    // EMA weights and for swapping weights in and out of a network.
    [[nodiscard]] std::vector<Real> flatten_values() const {
        std::vector<Real> out;
        out.reserve(value_count());
        for (const auto& e : entries_) out.insert(out.end(), e.tensor->value.begin(), e.tensor->value.end());
        return out;
    }
    void assign_values(const std::vector<Real>& flat) const {
        sgm::detail::require(flat.size() == value_count(), "parameter_list: ", flat.size(),
                        " values given, the network has ", value_count());
        std::size_t offset = 0;
        for (const auto& e : entries_) {
            std::copy_n(flat.begin() + static_cast<std::ptrdiff_t>(offset), e.tensor->size(),
                        e.tensor->value.begin());
            offset += e.tensor->size();
        }
    }

private:
    std::vector<entry> entries_;
};

}  // namespace sgm::nn
