#pragma once
// Where a network's loops run: a oneTBB arena of a fixed thread count.
//
// Layers split their work into pieces whose boundaries depend only on the
// problem size (never on the thread count) and combine partial results in a
// fixed order, so a forward or backward pass gives bit-identical results on 1
// or N threads.

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <memory>

#include "../error.hpp"

namespace sgm::nn {

class cpu_context {
public:
    // threads == 0: TBB's default (all cores, or a tbb::global_control limit).
    explicit cpu_context(int threads = 0) {
        sgm::detail::require(threads >= 0, "cpu_context: thread count ", threads,
                        " is negative; expected 0 (default) or a positive count");
        if (threads > 0) arena_ = std::make_shared<::tbb::task_arena>(threads);
    }

    [[nodiscard]] int threads() const {
        return arena_ ? arena_->max_concurrency() : ::tbb::this_task_arena::max_concurrency();
    }

    // Runs f(i) for every i in [0, count), each index one task.
    template <class F>
    void for_each(std::size_t count, F&& f) const {
        if (count == 0) return;
        if (count == 1) {
            f(std::size_t{0});
            return;
        }
        auto body = [&] {
            ::tbb::parallel_for(std::size_t{0}, count, [&](std::size_t i) { f(i); });
        };
        if (arena_)
            arena_->execute(body);
        else
            body();
    }

private:
    std::shared_ptr<::tbb::task_arena> arena_;
};

// Splits n items into pieces of at most `grain` (the last may be shorter);
// boundaries depend on n and grain only.
struct chunking {
    std::size_t n, grain;
    [[nodiscard]] std::size_t count() const { return n == 0 ? 0 : (n + grain - 1) / grain; }
    [[nodiscard]] std::size_t begin(std::size_t c) const { return c * grain; }
    [[nodiscard]] std::size_t end(std::size_t c) const { return std::min(n, (c + 1) * grain); }
};

}  // namespace sgm::nn
