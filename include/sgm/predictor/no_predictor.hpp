#pragma once
// The empty predictor: leaves the state unchanged (corrector-only sampling,
// e.g. NCSN's annealed Langevin dynamics).

#include "../sample/step_info.hpp"

namespace sgm {

struct no_predictor {
    template <class Context>
    void predict(Context&, const step_info<typename Context::value_type>&) const {}
};

}  // namespace sgm
