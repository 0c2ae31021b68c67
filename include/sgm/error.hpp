#pragma once
// sgm::error — the one exception type the library throws for bad input and
// numerical failure. Messages name the bad value and what was expected.

#include <sstream>
#include <stdexcept>
#include <string>

namespace sgm {

class error : public std::runtime_error {
public:
    explicit error(const std::string& message) : std::runtime_error("sgm: " + message) {}
};

namespace detail {

template <class... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
    std::ostringstream out;
    out.precision(9);
    (out << ... << parts);
    return out.str();
}

// Throws sgm::error built from the message parts when the condition fails.
template <class... Parts>
void require(bool condition, const Parts&... parts) {
    if (!condition) throw error(concat(parts...));
}

}  // namespace detail
}  // namespace sgm
