#pragma once
// A small declarative command-line parser for the sgm tools.
//
//   cli::flags f("sgm-sample", "Draw images from a trained score model.");
//   f.add("--steps", s.steps, "N", "discretization steps of the sampler");
//   f.parse(argc, argv);   // --help prints the generated help and exits 0
//
// Every flag takes one value except switches (bool targets). A bad value, an
// unknown flag or a missing value throws cli::usage_error naming the flag, the
// value and what was expected; cli::run_main turns it into one line on stderr and
// exit status 2 (other errors: status 1).

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace cli {

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace detail {

inline std::string show(const std::string& s) { return s.empty() ? "\"\"" : s; }
inline std::string show(const std::filesystem::path& p) { return show(p.string()); }
inline std::string show(double x) {
    std::ostringstream o;
    o << x;
    return o.str();
}
template <class T>
std::string show(const T& x) {
    return std::to_string(x);
}

inline long long parse_integer(const std::string& flag, const std::string& text, long long lo, long long hi,
                               const char* expected) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || v < lo || v > hi)
        throw usage_error(flag + " '" + text + "' is not " + expected);
    return v;
}

}  // namespace detail

class flags {
public:
    flags(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

    const std::string& program() const { return program_; }

    // A free-form text value, optionally restricted to `choices`.
    void add(const std::string& name, std::string& target, const std::string& metavar, const std::string& help,
             std::vector<std::string> choices = {}) {
        std::string h = help;
        if (!choices.empty()) {
            h += " (";
            for (std::size_t i = 0; i < choices.size(); ++i) h += (i ? ", " : "") + choices[i];
            h += ")";
        }
        push(name, metavar, h, detail::show(target), [&target, name, choices](const std::string& v) {
            if (!choices.empty()) {
                bool ok = false;
                for (const auto& c : choices) ok = ok || c == v;
                if (!ok) {
                    std::string list;
                    for (std::size_t i = 0; i < choices.size(); ++i) list += (i ? ", " : "") + choices[i];
                    throw usage_error(name + " '" + v + "' is not one of: " + list);
                }
            }
            target = v;
        });
    }
    void add(const std::string& name, std::filesystem::path& target, const std::string& metavar,
             const std::string& help) {
        push(name, metavar, help, detail::show(target), [&target, name](const std::string& v) {
            if (v.empty()) throw usage_error(name + " needs a non-empty path");
            target = v;
        });
    }
    // A positive integer (or non-negative with allow_zero).
    void add(const std::string& name, std::size_t& target, const std::string& metavar, const std::string& help,
             bool allow_zero = false) {
        push(name, metavar, help, detail::show(target), [&target, name, allow_zero](const std::string& v) {
            target = static_cast<std::size_t>(detail::parse_integer(
                name, v, allow_zero ? 0 : 1, (1LL << 40), allow_zero ? "a non-negative integer" : "a positive integer"));
        });
    }
    void add(const std::string& name, int& target, const std::string& metavar, const std::string& help) {
        push(name, metavar, help, detail::show(target), [&target, name](const std::string& v) {
            target = static_cast<int>(detail::parse_integer(name, v, 0, 4096, "a thread count in [0, 4096]"));
        });
    }
    // A seed: any non-negative integer (std::uint64_t is std::size_t here, hence the name).
    void add_seed(const std::string& name, std::uint64_t& target, const std::string& metavar, const std::string& help) {
        push(name, metavar, help, detail::show(target), [&target, name](const std::string& v) {
            target = static_cast<std::uint64_t>(
                detail::parse_integer(name, v, 0, (1LL << 62), "a non-negative integer seed"));
        });
    }
    // A finite real number in [lo, hi].
    void add(const std::string& name, double& target, const std::string& metavar, const std::string& help,
             double lo = -HUGE_VAL, double hi = HUGE_VAL) {
        push(name, metavar, help, detail::show(target), [&target, name, lo, hi](const std::string& v) {
            errno = 0;
            char* end = nullptr;
            const double x = std::strtod(v.c_str(), &end);
            if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE || !std::isfinite(x) || x < lo || x > hi) {
                std::string expected = "a finite number";
                if (lo > -HUGE_VAL || hi < HUGE_VAL)
                    expected += " in [" + detail::show(lo) + ", " + (hi < HUGE_VAL ? detail::show(hi) : "inf") + "]";
                throw usage_error(name + " '" + v + "' is not " + expected);
            }
            target = x;
        });
    }
    // A switch: present = true.
    void add(const std::string& name, bool& target, const std::string& help) {
        entries_.push_back({name, "", help, "", [&target](const std::string&) { target = true; }, true});
    }

    void parse(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            if (arg == "--help" || arg == "-h") {
                print_help(stdout);
                std::exit(0);
            }
            std::string name = arg, value;
            bool inline_value = false;
            if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
                name = arg.substr(0, eq);
                value = arg.substr(eq + 1);
                inline_value = true;
            }
            const entry* e = find(name);
            if (e == nullptr) throw usage_error("unknown argument '" + arg + "' (see --help)");
            if (e->is_switch) {
                if (inline_value) throw usage_error(name + " takes no value");
                e->set("");
                continue;
            }
            if (!inline_value) {
                if (i + 1 >= argc) throw usage_error(name + " needs a value (" + e->metavar + ")");
                value = argv[++i];
            }
            e->set(value);
        }
    }

    void print_help(std::FILE* out) const {
        std::fprintf(out, "usage: %s [options]\n\n%s\n\noptions:\n", program_.c_str(), summary_.c_str());
        for (const auto& e : entries_) {
            std::string left = "  " + e.name + (e.metavar.empty() ? "" : " " + e.metavar);
            if (left.size() < 26) left.resize(26, ' ');
            else left += "\n" + std::string(26, ' ');
            std::string help = e.help;
            if (!e.is_switch) help += " [default: " + e.default_text + "]";
            std::fprintf(out, "%s%s\n", left.c_str(), help.c_str());
        }
        std::fprintf(out, "  %-24s%s\n", "--help", "print this help and exit");
    }

private:
    struct entry {
        std::string name, metavar, help, default_text;
        std::function<void(const std::string&)> set;
        bool is_switch = false;
    };
    void push(const std::string& name, const std::string& metavar, const std::string& help, std::string def,
              std::function<void(const std::string&)> set) {
        entries_.push_back({name, metavar, help, std::move(def), std::move(set), false});
    }
    const entry* find(const std::string& name) const {
        for (const auto& e : entries_)
            if (e.name == name) return &e;
        return nullptr;
    }

    std::string program_, summary_;
    std::vector<entry> entries_;
};

// Runs body(); a usage error prints "PROGRAM: error: ..." and a hint and returns 2,
// any other exception prints "PROGRAM: error: ..." and returns 1.
template <class Body>
int run_main(const char* program, Body body) {
    try {
        return body();
    } catch (const usage_error& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "%s: error: %s\n(run %s --help for the options)\n", program, e.what(), program);
        return 2;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "%s: error: %s\n", program, e.what());
        return 1;
    }
}

}  // namespace cli
