#pragma once
// sgm::io::input_file — a read-only file with its size and exact positioned
// reads, each failure an sgm::error naming the path and the OS error. POSIX only.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "../error.hpp"

namespace sgm::io {

class input_file {
public:
    explicit input_file(std::filesystem::path path) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw error(sgm::detail::concat("cannot open '", path_.string(), "': ", std::strerror(errno)));
        struct stat st {};
        if (::fstat(fd_, &st) != 0) {
            const int err = errno;
            ::close(fd_);
            throw error(sgm::detail::concat("cannot stat '", path_.string(), "': ", std::strerror(err)));
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(fd_);
            throw error(sgm::detail::concat("'", path_.string(), "' is not a regular file"));
        }
        size_ = static_cast<std::uint64_t>(st.st_size);
    }

    input_file(const input_file&) = delete;
    input_file& operator=(const input_file&) = delete;
    ~input_file() { ::close(fd_); }

    [[nodiscard]] std::uint64_t size() const { return size_; }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

    // Fills `out` from byte `offset`; a file that ends early is an error.
    void read_at(std::uint64_t offset, std::span<std::byte> out) const {
        std::size_t done = 0;
        while (done < out.size()) {
            const ::ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                                        static_cast<::off_t>(offset + done));
            if (n < 0) {
                if (errno == EINTR) continue;
                throw error(sgm::detail::concat("cannot read '", path_.string(), "': ", std::strerror(errno)));
            }
            if (n == 0)
                throw error(sgm::detail::concat("'", path_.string(), "' ended at byte ", offset + done,
                                           " while reading ", out.size(), " bytes from byte ", offset,
                                           " (the file shrank while being read)"));
            done += static_cast<std::size_t>(n);
        }
    }

    // The whole file.
    [[nodiscard]] std::vector<std::byte> read_all() const {
        std::vector<std::byte> bytes(static_cast<std::size_t>(size_));
        read_at(0, bytes);
        return bytes;
    }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

}  // namespace sgm::io
