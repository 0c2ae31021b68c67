// Prototype backend "tbb_copy": tbb_backend whose for_each_index gives every task
// its own copy of the element functor. tbb_backend calls the functor through a
// reference; its captured floats (t, dt, SDE parameters) then live in memory
// that the loop's float stores may alias, so the compiler reloads them, recomputes
// the per-step coefficients for every element and does not vectorize. A private
// copy lets it keep them in registers.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "step_benchmarks.hpp"

namespace sgm_bench {

namespace {

// Runs on TBB's default arena (thread count from the global_control), as the
// benchmarks' tbb configuration does.
template <class Real>
class tbb_copy_backend : public sgm::tbb_backend<Real> {
public:
    tbb_copy_backend() : sgm::tbb_backend<Real>(0) {}

    template <class F>
    void for_each_index(std::size_t n, F f) const {
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1024), [f](const tbb::blocked_range<std::size_t>& r) {
            const F local = f;
            for (std::size_t i = r.begin(); i < r.end(); ++i) local(i);
        });
    }
};

struct tbb_copy_config {
    static constexpr const char* name = "tbb_copy";
    static constexpr bool parallel = true;
    template <class Real>
    static tbb_copy_backend<Real> make(int) { return {}; }
};

}  // namespace

void register_tbb_copy() {
    register_backend<tbb_copy_config, float>(
        {{step_kind::euler_maruyama, step_kind::reverse_diffusion, step_kind::langevin, step_kind::pf_ode},
         {piece_kind::update},
         {score_kind::excluded},
         dims,
         batches});
}

}  // namespace sgm_bench
