#pragma once
// Writes samples (n × D, sample after sample) as CSV with a header row.

#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

namespace examples {

// Columns are named x0, x1, …; false on an I/O error.
inline bool write_csv(const std::string& path, const std::vector<double>& xs, std::size_t dim) {
    std::ofstream out(path);
    for (std::size_t i = 0; i < dim; ++i) out << (i ? "," : "") << 'x' << i;
    out << '\n';
    out.precision(9);
    for (std::size_t s = 0; s < xs.size() / dim; ++s) {
        for (std::size_t i = 0; i < dim; ++i) out << (i ? "," : "") << xs[s * dim + i];
        out << '\n';
    }
    return bool(out);
}

}  // namespace examples
