#pragma once
// Adaptive Dormand–Prince RK45 through Boost.Odeint over a backend vector, shared by
// the ODE sampler and the likelihood. The element loops run through the backend
// (sgm::odeint::backend_algebra), so device vectors never visit the host.

#include <boost/numeric/odeint/integrate/integrate_adaptive.hpp>
#include <boost/numeric/odeint/stepper/controlled_runge_kutta.hpp>
#include <boost/numeric/odeint/stepper/generation.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>
#include <boost/numeric/odeint/util/odeint_error.hpp>

#include <cstddef>
#include <functional>

#include "../concepts/backend.hpp"
#include "../error.hpp"
#include "../odeint/backend_algebra.hpp"
#include "../odeint/backend_operations.hpp"

namespace sgm::detail {

// Integrates state from t0 to t1; `norm` is the norm of the scaled error. on_step(t, steps) runs after every accepted step;
// before_step(steps) before each attempt (for error messages). Returns the number
// of accepted steps. Solver failures become sgm::error prefixed with describe(),
// called at the failure so that it can quote the work done.
template <backend Backend, class System, class OnStep, class BeforeStep, class Describe>
std::size_t integrate_rk45(System& system, typename Backend::vector& state, double t0, double t1, double rtol,
                           double atol, sgm::odeint::error_norm norm, const Backend& be, OnStep&& on_step,
                           BeforeStep&& before_step, Describe&& describe) {
    using Real = typename Backend::value_type;
    using vector = typename Backend::vector;
    namespace odeint = boost::numeric::odeint;
    using stepper = odeint::runge_kutta_dopri5<vector, Real, vector, Real, sgm::odeint::backend_algebra<Backend>,
                                               sgm::odeint::backend_operations>;
    using controlled = odeint::controlled_runge_kutta<stepper>;
    using checker = typename controlled::error_checker_type;
    controlled solver(checker(Real(atol), Real(rtol)), odeint::default_step_adjuster<Real, Real>(),
                      stepper(sgm::odeint::backend_algebra<Backend>(be, norm)));
    const Real initial_dt = Real((t1 - t0) * 1e-3);
    std::size_t steps = 0;
    bool started = false;
    try {
        odeint::integrate_adaptive(solver, std::ref(system), state, Real(t0), Real(t1), initial_dt,
                                   [&](const vector&, Real t) {
                                       // odeint also observes the initial state; report steps only.
                                       if (started) {
                                           ++steps;
                                           on_step(double(t), steps);
                                       }
                                       started = true;
                                       before_step(steps);
                                   });
    } catch (const odeint::odeint_error& e) {
        // The step-size controller gave up (for example, a stiff or exploding flow).
        throw error(concat(describe(), ": the RK45 solver failed after ", steps, " steps (rtol ", rtol, ", atol ", atol,
                           "): ", e.what()));
    }
    return steps;
}

}  // namespace sgm::detail
