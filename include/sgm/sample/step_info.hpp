#pragma once
// What a predictor or corrector is told about the step it takes.

#include <cstddef>

#include "../batch_view.hpp"

namespace sgm {

template <class Real>
struct step_info {
    Real t;             // current time (the same for every sample)
    Real dt;            // > 0: how far back in time the predictor moves
    std::size_t level;  // discrete noise level k = N − 1 − index, for chain-based predictors
    std::size_t index;  // step number i = 0 … N−1
};

// Passed to observers after every step of a sampler.
template <class Real>
struct step_report {
    std::size_t index;  // step just finished (0-based)
    std::size_t steps;  // total steps (for adaptive ODE solves: steps so far)
    Real t;             // time the state is now at
    batch_view<const Real> x;  // the state, in backend memory
    std::size_t nfe;    // score evaluations so far
};

// The default observer: does nothing.
struct no_observer {
    template <class Report>
    void operator()(const Report&) const {}
};

}  // namespace sgm
