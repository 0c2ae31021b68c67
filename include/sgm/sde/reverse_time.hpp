#pragma once
// The reverse-time SDE and the probability-flow ODE of any SDE, given a score s:
//   reverse SDE:        dx = [f(x,t) − g(t)² s(x,t)] dt + g(t) dw̄
//   probability flow:   dx = [f(x,t) − ½ g(t)² s(x,t)] dt
// Both are written once here, coordinate-wise, for every SDE.

#include "../concepts/sde.hpp"
#include "../config.hpp"

namespace sgm {

template <sde S>
struct reverse_time {
    using value_type = typename S::value_type;
    S forward;

    SGM_HOST_DEVICE value_type sde_drift(value_type x, value_type score, value_type t) const {
        const value_type g = forward.diffusion(t);
        return forward.drift(x, t) - g * g * score;
    }
    SGM_HOST_DEVICE value_type ode_drift(value_type x, value_type score, value_type t) const {
        const value_type g = forward.diffusion(t);
        return forward.drift(x, t) - value_type(0.5) * g * g * score;
    }
    SGM_HOST_DEVICE value_type diffusion(value_type t) const { return forward.diffusion(t); }
};

template <sde S>
reverse_time(S) -> reverse_time<S>;

}  // namespace sgm
