#pragma once
// A one-line progress bar on stderr: done/total, percent, rate and ETA, redrawn at
// most ten times a second; silent when stderr is not a terminal unless forced.

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace cli {

class progress_bar {
public:
    progress_bar(std::string label, std::size_t total, std::string unit = "it")
        : label_(std::move(label)), unit_(std::move(unit)), total_(total), enabled_(isatty(fileno(stderr)) != 0),
          start_(clock::now()), last_(start_) {}

    void update(std::size_t done) {
        if (!enabled_) return;
        const auto now = clock::now();
        if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        draw(done, now);
    }
    void finish() {
        if (!enabled_) return;
        draw(total_, clock::now());
        std::fputc('\n', stderr);
    }

private:
    using clock = std::chrono::steady_clock;
    void draw(std::size_t done, clock::time_point now) const {
        const double seconds = std::chrono::duration<double>(now - start_).count();
        const double rate = seconds > 0 ? double(done) / seconds : 0;
        const double eta = rate > 0 ? double(total_ - done) / rate : 0;
        const int width = 24, filled = total_ ? int(width * double(done) / double(total_)) : width;
        std::string bar(std::size_t(filled), '#');
        bar.resize(width, '.');
        std::fprintf(stderr, "\r%s %zu/%zu [%s] %3.0f%%  %.1f %s/s  ETA %d:%02d ", label_.c_str(), done, total_,
                     bar.c_str(), total_ ? 100.0 * double(done) / double(total_) : 100.0, rate, unit_.c_str(),
                     int(eta) / 60, int(eta) % 60);
        std::fflush(stderr);
    }

    std::string label_, unit_;
    std::size_t total_;
    bool enabled_;
    clock::time_point start_, last_;
};

}  // namespace cli
