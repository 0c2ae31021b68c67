#pragma once
// The empty corrector: predictor-only sampling.

#include "../sample/step_info.hpp"

namespace sgm {

struct no_corrector {
    template <class Context>
    void correct(Context&, const step_info<typename Context::value_type>&) const {}
};

}  // namespace sgm
