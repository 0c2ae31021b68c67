// Step and piece benchmarks for thrust_backend on the CPU systems (cpp, tbb).
// thrust_tbb takes its thread count from the tbb::global_control every benchmark sets.

#include <sgm/backend/thrust.hpp>

#include "step_benchmarks.hpp"

namespace sgm_bench {

struct thrust_cpp_config {
    static constexpr const char* name = "thrust_cpp";
    static constexpr bool parallel = false;
    template <class Real>
    static sgm::thrust_backend<Real, sgm::thrust_cpp> make(int) { return {}; }
};

struct thrust_tbb_config {
    static constexpr const char* name = "thrust_tbb";
    static constexpr bool parallel = true;
    template <class Real>
    static sgm::thrust_backend<Real, sgm::thrust_tbb> make(int) { return {}; }
};

void register_thrust() {
    register_backend<thrust_cpp_config, float>(float_grid());
    register_backend<thrust_tbb_config, float>(float_grid());
}

}  // namespace sgm_bench
