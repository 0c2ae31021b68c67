#pragma once
// sgm::io::atomic_file — writes a file so that readers see either the old
// complete file or the new complete file, never a partial one: the bytes go
// to a temporary file in the target's directory, which is flushed to disk and
// then renamed over the target; the directory is synced so the rename lasts.
// POSIX only (open, fsync, rename).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>

#include "../error.hpp"

namespace sgm::io {

class atomic_file {
public:
    // Creates the temporary file "<dir>/.<name>.tmp-<pid>-<n>" beside `target`.
    explicit atomic_file(std::filesystem::path target) : target_(std::move(target)) {
        sgm::detail::require(!target_.empty() && target_.has_filename(), "atomic_file: '", target_.string(),
                        "' does not name a file");
        static std::atomic<unsigned> counter{0};
        const auto dir = directory();
        for (int attempt = 0;; ++attempt) {
            // Appended piece by piece: g++ 12 warns falsely (-Wrestrict) on "." + string.
            std::string name(1, '.');
            name.append(target_.filename().string()).append(".tmp-").append(std::to_string(::getpid()));
            name.append("-").append(std::to_string(counter++));
            temp_ = dir / name;
            fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd_ >= 0) return;
            if (errno != EEXIST || attempt == 100)
                throw error(sgm::detail::concat("cannot write '", target_.string(), "': cannot create temporary file '",
                                           temp_.string(), "': ", std::strerror(errno)));
        }
    }

    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;

    // Without commit(), the temporary file is removed and the target untouched.
    ~atomic_file() { abandon(); }

    void write(std::span<const std::byte> bytes) {
        sgm::detail::require(fd_ >= 0, "atomic_file: write to '", target_.string(), "' after commit or failure");
        const std::byte* p = bytes.data();
        std::size_t left = bytes.size();
        while (left > 0) {
            const ::ssize_t n = ::write(fd_, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                fail("cannot write temporary file '" + temp_.string() + "'");
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }

    // Flushes the data to disk and renames the temporary file over the target.
    void commit() {
        sgm::detail::require(fd_ >= 0, "atomic_file: commit of '", target_.string(), "' after commit or failure");
        if (::fsync(fd_) != 0) fail("cannot sync temporary file '" + temp_.string() + "'");
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) fail("cannot close temporary file '" + temp_.string() + "'");
        if (::rename(temp_.c_str(), target_.c_str()) != 0)
            fail("cannot rename temporary file '" + temp_.string() + "' to the target");
        temp_.clear();
        // The new file is in place; syncing the directory makes the rename durable.
        const int dir_fd = ::open(directory().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd >= 0) {
            const int rc = ::fsync(dir_fd);
            const int err = errno;
            ::close(dir_fd);
            if (rc != 0 && err != EINVAL)  // EINVAL: the file system cannot sync directories
                throw error(sgm::detail::concat("wrote '", target_.string(), "' but cannot sync its directory: ",
                                           std::strerror(err)));
        }
    }

    [[nodiscard]] const std::filesystem::path& target() const { return target_; }
    [[nodiscard]] const std::filesystem::path& temp_path() const { return temp_; }

private:
    [[nodiscard]] std::filesystem::path directory() const {
        auto dir = target_.parent_path();
        return dir.empty() ? std::filesystem::path(".") : dir;
    }

    void abandon() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        if (!temp_.empty()) ::unlink(temp_.c_str());
        temp_.clear();
    }

    [[noreturn]] void fail(const std::string& what) {
        const int err = errno;
        abandon();
        throw error(sgm::detail::concat("cannot write '", target_.string(), "': ", what, ": ", std::strerror(err)));
    }

    std::filesystem::path target_;
    std::filesystem::path temp_;
    int fd_ = -1;
};

// Writes the pieces, in order, as the new content of `path`, atomically.
inline void write_file_atomically(const std::filesystem::path& path,
                                  std::span<const std::span<const std::byte>> pieces) {
    atomic_file file(path);
    for (const auto piece : pieces) file.write(piece);
    file.commit();
}

}  // namespace sgm::io
