#pragma once
// sgm::train::trainer — the training loop: batches drawn from a data set, a
// loss, Adam, EMA weights, a progress bar, a CSV log and checkpoints.
//
// Sample b of step s is global sample g = s·batch_size + b. Its data index and
// (through batch_key{seed, s, s·batch_size}) its noise are pure functions of
// (seed, g), so the run does not depend on when it was stopped: resume() from
// a checkpoint and continue, and the weights, EMA and Adam state are
// bit-identical to those of an uninterrupted run (with the same thread count
// independence the network itself has; see nn/cpu_context.hpp).
//
// Each step: zero the grads, loss(model, batch, n, key, true), adam.step,
// ema.update. A non-finite loss stops with sgm::error naming the step.

#include <Random123/philox.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../nn/layer.hpp"
#include "../nn/parameter.hpp"
#include "adam.hpp"
#include "backend_engine.hpp"
#include "batch_key.hpp"
#include "checkpoint.hpp"
#include "ema.hpp"
#include "host_engine.hpp"

namespace sgm::train {

// How the data index of each global sample is chosen.
enum class data_sampling {
    // Index = a counter-based uniform draw in [0, count): the Philox stream of
    // random::uniform with key step_seed(batch_key), counter g and draw 2.
    with_replacement,
    // Global sample g is position g mod count of a permutation of epoch g / count
    // (indices sorted by random keys: draw 3, key step_seed({seed, epoch, 0})).
    shuffled_epochs
};

struct trainer_options {
    std::size_t steps = 10000;      // total steps; a resumed run continues up to this count
    std::size_t batch_size = 128;
    std::uint64_t seed = 0;         // data order and noise
    double ema_rate = 0.999;
    adam_options adam{};
    std::filesystem::path checkpoint_path;  // empty: no checkpoints
    std::size_t checkpoint_every = 0;       // steps between checkpoints; 0: only at the end
    std::filesystem::path log_csv_path;     // empty: no CSV log
    std::size_t log_every = 100;            // steps per CSV row (each row averages them)
    bool progress = false;                  // progress bar on stderr
    data_sampling sampling = data_sampling::with_replacement;
};

struct training_summary {
    std::uint64_t first_step = 0;   // this call trained steps [first_step, last_step)
    std::uint64_t last_step = 0;
    double final_loss = 0;          // running mean over (about) the last 100 steps
    double last_loss = 0;           // the last step's loss
    double steps_per_second = 0;
    double seconds = 0;             // wall time of this call
};

namespace detail {

// 64 random bits for (key, counter, draw): the first two words of the Philox4x32-10
// block that random::uniform(key, counter, draw, 0..3) reads.
[[nodiscard]] inline std::uint64_t philox_bits(std::uint64_t key, std::uint64_t counter, std::uint32_t draw) {
    r123::Philox4x32 rng;
    const r123::Philox4x32::ctr_type ctr = {
        {0, draw, static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32)}};
    const r123::Philox4x32::key_type k = {{static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)}};
    const auto w = rng(ctr, k);
    return std::uint64_t{w.v[0]} | (std::uint64_t{w.v[1]} << 32);
}

// Draws of the data order (batch_key.hpp leaves draws 2 and up to the caller).
inline constexpr std::uint32_t data_index_draw = first_free_draw;
inline constexpr std::uint32_t shuffle_draw = first_free_draw + 1;

// Uniform in [0, count) (multiply-shift; bias below count / 2^64).
[[nodiscard]] inline std::uint64_t scale_to(std::uint64_t bits, std::uint64_t count) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(bits) * count) >> 64);
}

// The shortest text that reads back as exactly v.
[[nodiscard]] inline std::string number_text(double v) {
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, v).ptr;
    return std::string(text, end);
}

[[nodiscard]] inline std::string clock_text(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "--:--";
    const auto s = static_cast<long long>(seconds + 0.5);
    char text[32];
    if (s >= 3600)
        std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
    return text;
}

template <class Model>
void set_pass_mode(Model& model, const nn::pass_mode& mode) {
    if constexpr (requires { model.network().set_mode(mode); })
        model.network().set_mode(mode);
    else if constexpr (requires { model.set_mode(mode); })
        model.set_mode(mode);
}

}  // namespace detail

// Where the weights, gradients and optimizer state live: in the host network's
// parameter list (host_engine), or in backend memory when the model's network
// is a backend network, e.g. on a GPU (backend_engine).
template <class Model, class Loss>
struct training_engine_selector {
    using type = host_engine<Model, Loss>;
};
template <backend_network_model Model, class Loss>
struct training_engine_selector<Model, Loss> {
    using type = backend_engine<Model, Loss>;
};
template <class Model, class Loss>
using training_engine_for = typename training_engine_selector<Model, Loss>::type;

// Model: a score network (value_type, dim(), forward/backward as the losses use
// them, parameters() directly or through network()), or a score_network over a
// backend network (then Loss is a DSM loss, run through backend_dsm_loss).
// Loss: a training loss (see the losses' headers). The model and the data must
// outlive the trainer.
template <class Model, class Loss, class Engine = training_engine_for<Model, Loss>>
class trainer {
public:
    using value_type = typename Model::value_type;
    using Real = value_type;

    // data: `count` samples of model.dim() values each, sample after sample.
    // config: the caller's description of the run (network, SDE, ...), stored in
    // checkpoints and checked on resume; the trainer adds its own settings.
    trainer(Model& model, Loss loss, std::span<const Real> data, std::size_t count, trainer_options options,
            config_map config = {})
        : model_(model),
          loss_(std::move(loss)),
          data_(data),
          count_(count),
          dim_(model.dim()),
          options_(std::move(options)),
          engine_(model, options_.adam, options_.ema_rate),
          config_(std::move(config)) {
        using sgm::detail::require;
        require(count_ > 0, "trainer: the data set is empty");
        require(data_.size() == count_ * dim_, "trainer: the data has ", data_.size(), " values, ", count_,
                " samples of dimension ", dim_, " need ", count_ * dim_);
        require(options_.batch_size > 0, "trainer: batch_size must be positive");
        require(options_.log_every > 0, "trainer: log_every must be positive");
        for (std::size_t i = 0; i < data_.size(); ++i)
            require(std::isfinite(data_[i]), "trainer: data sample ", i / dim_, " holds the non-finite value ",
                    data_[i], " at coordinate ", i % dim_);
        add_config("train.batch_size", std::to_string(options_.batch_size));
        add_config("train.ema_rate", detail::number_text(options_.ema_rate));
        add_config("train.sampling",
                   options_.sampling == data_sampling::with_replacement ? "with_replacement" : "shuffled_epochs");
        add_config("train.data_count", std::to_string(count_));
        add_config("train.data_crc32",
                   detail::hex32(detail::crc32_of(0, std::as_bytes(std::span<const Real>(data_)))));
        add_config("adam.learning_rate", detail::number_text(options_.adam.learning_rate));
        add_config("adam.beta1", detail::number_text(options_.adam.beta1));
        add_config("adam.beta2", detail::number_text(options_.adam.beta2));
        add_config("adam.epsilon", detail::number_text(options_.adam.epsilon));
        add_config("adam.warmup", std::to_string(options_.adam.warmup));
        add_config("adam.grad_clip", detail::number_text(options_.adam.grad_clip));
        batch_.resize(options_.batch_size * dim_);
    }

    // Restores model, EMA, Adam and the step count from a checkpoint written by a
    // trainer with the same config and seed; train() then continues from there.
    void resume(const std::filesystem::path& path) {
        const auto state = load_checkpoint(path, engine_.parameters(), config_);
        sgm::detail::require(state.seed == options_.seed, "checkpoint '", path.string(),
                             "' was written by a run with seed ", state.seed, "; this run's seed is ", options_.seed);
        engine_.restore(state);
        step_ = state.step;
    }

    // Trains until options.steps steps are done in all (nothing when already there).
    training_summary train() {
        const std::uint64_t first = step_;
        const auto start = clock::now();
        open_log();
        running_ = 0;
        running_count_ = 0;
        interval_loss_ = interval_grad_ = 0;
        interval_steps_ = 0;
        last_draw_ = start;
        double last_loss = 0;
        while (step_ < options_.steps) {
            last_loss = one_step();
            if (options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0 &&
                !options_.checkpoint_path.empty())
                save(options_.checkpoint_path);
            if (step_ % options_.log_every == 0) write_log_row();
            if (options_.progress) draw_progress(first, start, false);
        }
        if (interval_steps_ > 0) write_log_row();
        if (!options_.checkpoint_path.empty() && saved_step_ != step_) save(options_.checkpoint_path);
        engine_.sync();
        detail::set_pass_mode(model_, nn::pass_mode{});
        const double seconds = std::chrono::duration<double>(clock::now() - start).count();
        if (options_.progress && step_ > first) draw_progress(first, start, true);
        training_summary s;
        s.first_step = first;
        s.last_step = step_;
        s.final_loss = running_;
        s.last_loss = last_loss;
        s.seconds = seconds;
        s.steps_per_second = seconds > 0 ? double(step_ - first) / seconds : 0;
        return s;
    }

    // Writes a checkpoint of the current state (atomically).
    void save(const std::filesystem::path& path) {
        save_checkpoint(path, state(), engine_.parameters());
        saved_step_ = step_;
    }

    [[nodiscard]] training_state<Real> state() const {
        return engine_.capture(step_, options_.seed, config_);
    }

    // The data index of sample b of step `step` (see data_sampling).
    [[nodiscard]] std::uint64_t data_index(std::uint64_t step, std::size_t b) {
        const std::uint64_t g = step * options_.batch_size + b;
        if (options_.sampling == data_sampling::with_replacement)
            return detail::scale_to(
                detail::philox_bits(step_seed(batch_key{options_.seed, step, step * options_.batch_size}), g,
                                    detail::data_index_draw),
                count_);
        const std::uint64_t epoch = g / count_;
        if (!permutation_epoch_ || *permutation_epoch_ != epoch) shuffle(epoch);
        return permutation_[g % count_];
    }

    [[nodiscard]] std::uint64_t step() const { return step_; }
    [[nodiscard]] const trainer_options& options() const { return options_; }
    // Extends (or shortens) the run: train() then continues up to this many steps in all.
    void set_total_steps(std::size_t steps) { options_.steps = steps; }
    [[nodiscard]] const config_map& config() const { return config_; }
    // The parameter list (for a backend network: the host copy, updated when train() returns).
    [[nodiscard]] const nn::parameter_list<Real>& parameters() const { return engine_.parameters(); }
    [[nodiscard]] const auto& optimizer() const { return engine_.optimizer(); }
    [[nodiscard]] const auto& average() const { return engine_.average(); }

private:
    using clock = std::chrono::steady_clock;

    void add_config(const std::string& key, std::string value) {
        sgm::detail::require(!config_.contains(key), "trainer: config key '", key,
                             "' is the trainer's own; choose another name");
        config_.emplace(key, std::move(value));
    }

    double one_step() {
        const std::size_t n = options_.batch_size;
        for (std::size_t b = 0; b < n; ++b) {
            const auto index = static_cast<std::size_t>(data_index(step_, b));
            std::copy_n(data_.data() + index * dim_, dim_, batch_.data() + b * dim_);
        }
        const batch_key key{options_.seed, step_, step_ * n};
        engine_.zero_grad();
        detail::set_pass_mode(model_, nn::pass_mode{true, key.seed, key.step, key.first_sample});
        const double loss = engine_.loss(loss_, model_, batch_.data(), n, key);
        sgm::detail::require(std::isfinite(loss), "trainer: the loss is ", loss, " at step ", step_,
                             " (global samples ", key.first_sample, " to ", key.first_sample + n - 1,
                             "); try a lower learning rate or check the data");
        double grad_norm = 0;
        try {
            grad_norm = engine_.step();
        } catch (const sgm::error& e) {
            throw error(sgm::detail::concat("trainer: step ", step_, ": ", e.what()));
        }
        engine_.update_average();
        lr_ = engine_.learning_rate(static_cast<std::size_t>(step_));
        ++step_;
        ++running_count_;
        running_ += (loss - running_) / double(std::min<std::size_t>(running_count_, 100));
        interval_loss_ += loss;
        interval_grad_ += grad_norm;
        ++interval_steps_;
        return loss;
    }

    void shuffle(std::uint64_t epoch) {
        // Sorting by random 64-bit keys; the key of the epoch is that of a step with the same number.
        const std::uint64_t key = step_seed(batch_key{options_.seed, epoch, 0});
        std::vector<std::pair<std::uint64_t, std::uint64_t>> keyed(count_);
        for (std::uint64_t i = 0; i < count_; ++i)
            keyed[i] = {detail::philox_bits(key, i, detail::shuffle_draw), i};
        std::ranges::sort(keyed);
        permutation_.resize(count_);
        for (std::size_t i = 0; i < count_; ++i) permutation_[i] = keyed[i].second;
        permutation_epoch_ = epoch;
    }

    // Starts the CSV log: a fresh file at step 0; after resume, the rows up to
    // the resumed step are kept (later ones belong to the lost part of the run).
    void open_log() {
        if (options_.log_csv_path.empty() || log_) return;
        constexpr const char* header = "step,loss,grad_norm,learning_rate,seconds";
        std::vector<std::string> kept{header};
        seconds_offset_ = 0;
        if (step_ > 0 && std::filesystem::exists(options_.log_csv_path)) {
            std::ifstream in(options_.log_csv_path);
            std::string line;
            bool first = true;
            while (std::getline(in, line)) {
                if (first) {
                    first = false;
                    if (line == header) continue;
                }
                std::istringstream row(line);
                std::uint64_t step = 0;
                char comma = 0;
                double loss = 0, grad = 0, lr = 0, seconds = 0;
                if (!(row >> step >> comma >> loss >> comma >> grad >> comma >> lr >> comma >> seconds)) continue;
                if (step > step_) break;
                kept.push_back(line);
                seconds_offset_ = seconds;
            }
        }
        log_.emplace(options_.log_csv_path, std::ios::trunc);
        for (const auto& line : kept) *log_ << line << '\n';
        log_->flush();
        sgm::detail::require(bool(*log_), "trainer: cannot write the log '", options_.log_csv_path.string(), "'");
        log_start_ = clock::now();
    }

    void write_log_row() {
        if (log_ && interval_steps_ > 0) {
            const double seconds =
                seconds_offset_ + std::chrono::duration<double>(clock::now() - log_start_).count();
            char row[160];
            std::snprintf(row, sizeof row, "%llu,%.9g,%.9g,%.9g,%.3f\n", static_cast<unsigned long long>(step_),
                          interval_loss_ / double(interval_steps_), interval_grad_ / double(interval_steps_), lr_,
                          seconds);
            *log_ << row;
            log_->flush();
            sgm::detail::require(bool(*log_), "trainer: cannot write the log '", options_.log_csv_path.string(),
                                 "'");
        }
        interval_loss_ = interval_grad_ = 0;
        interval_steps_ = 0;
    }

    // "  1200/5000 [#######.............]  24%  loss 0.8123  312 it/s  ETA 0:12",
    // redrawn at most five times a second.
    void draw_progress(std::uint64_t first, clock::time_point start, bool final) {
        const auto now = clock::now();
        if (!final && now - last_draw_ < std::chrono::milliseconds(200)) return;
        last_draw_ = now;
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const double rate = elapsed > 0 ? double(step_ - first) / elapsed : 0;
        const double fraction = options_.steps > 0 ? double(step_) / double(options_.steps) : 1;
        constexpr int width = 24;
        const int filled = std::clamp(int(fraction * width), 0, width);
        const std::string bar = std::string(std::size_t(filled), '#') + std::string(std::size_t(width - filled), '.');
        const std::string eta = final ? detail::clock_text(elapsed)
                                      : "ETA " + detail::clock_text(double(options_.steps - step_) / rate);
        std::fprintf(stderr, "\r%8llu/%llu [%s] %3d%%  loss %.4g  %.1f it/s  %s   ",
                     static_cast<unsigned long long>(step_), static_cast<unsigned long long>(options_.steps),
                     bar.c_str(), int(fraction * 100), running_, rate, eta.c_str());
        if (final) std::fputc('\n', stderr);
        std::fflush(stderr);
    }

    Model& model_;
    Loss loss_;
    std::span<const Real> data_;
    std::size_t count_, dim_;
    trainer_options options_;
    Engine engine_;
    config_map config_;
    std::vector<Real> batch_;
    std::uint64_t step_ = 0, saved_step_ = UINT64_MAX;
    // Statistics: running mean loss, the current log interval's sums.
    double running_ = 0, interval_loss_ = 0, interval_grad_ = 0, lr_ = 0;
    std::size_t running_count_ = 0, interval_steps_ = 0;
    // Shuffled sampling: the permutation of one epoch.
    std::vector<std::uint64_t> permutation_;
    std::optional<std::uint64_t> permutation_epoch_;
    // Log and progress.
    std::optional<std::ofstream> log_;
    double seconds_offset_ = 0;
    clock::time_point log_start_{}, last_draw_{};
};

}  // namespace sgm::train
