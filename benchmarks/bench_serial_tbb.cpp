// Step and piece benchmarks for serial_backend and tbb_backend.

#include "step_benchmarks.hpp"

namespace sgm_bench {

void register_serial_tbb() {
    register_backend<serial_config, float>(float_grid());
    register_backend<tbb_config, float>(float_grid());
    register_backend<serial_config, double>(double_grid());
    register_backend<tbb_config, double>(double_grid());
}

}  // namespace sgm_bench
