// Atomic writes: the target is always either the old or the new complete file,
// and no temporary file is left behind, whatever fails.

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <thread>
#include <vector>

#include <sgm/error.hpp>
#include <sgm/io/atomic_file.hpp>
#include <sgm/io/safetensors.hpp>

#include "io_test_support.hpp"

using Catch::Contains;
using sgm_test::bytes;

namespace {

sgm::io::tensor_file checkpoint(float value, std::size_t n) {
    sgm::io::tensor_file f;
    f.put("weights", std::vector<float>(n, value));
    f.metadata()["value"] = std::to_string(value);
    return f;
}

// Limits the size of files this process may write, so writes fail with EFBIG
// as on a full disk; restores the limit and the SIGXFSZ action on exit.
class file_size_limit {
public:
    explicit file_size_limit(rlim_t bytes) {
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
        old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
        rlimit lim = saved_;
        lim.rlim_cur = bytes;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
    }
    file_size_limit(const file_size_limit&) = delete;
    file_size_limit& operator=(const file_size_limit&) = delete;
    ~file_size_limit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, old_handler_);
    }

private:
    rlimit saved_{};
    void (*old_handler_)(int) = nullptr;
};

}  // namespace

TEST_CASE("write_safetensors replaces the old file and leaves no temporary file", "[io][atomic]") {
    const sgm_test::scratch_dir dir;
    const auto path = dir / "ckpt.safetensors";
    sgm::io::write_safetensors(path, checkpoint(1.0f, 10));
    sgm::io::write_safetensors(path, checkpoint(2.0f, 20));
    CHECK(sgm::io::read_safetensors(path) == checkpoint(2.0f, 20));
    CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("a failed write keeps the old file and removes the temporary file", "[io][atomic]") {
    const sgm_test::scratch_dir dir;
    const auto path = dir / "ckpt.safetensors";
    const auto old_checkpoint = checkpoint(1.0f, 100);
    sgm::io::write_safetensors(path, old_checkpoint);
    const bytes old_bytes = sgm_test::read_file(path);

    SECTION("the disk fills up in the middle of the data") {
        {
            const file_size_limit limit(64 * 1024);
            REQUIRE_THROWS_WITH(sgm::io::write_safetensors(path, checkpoint(2.0f, 1 << 20)),
                                Contains("cannot write '" + path.string() + "'") &&
                                    Contains("cannot write temporary file") && Contains("File too large"));
        }
        CHECK(sgm_test::read_file(path) == old_bytes);
        CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
    }
    SECTION("the target is a directory, so the rename fails") {
        const auto target = dir / "taken";
        std::filesystem::create_directory(target);
        sgm_test::write_file(target / "inside", old_bytes);
        REQUIRE_THROWS_WITH(sgm::io::write_safetensors(target, checkpoint(2.0f, 10)),
                            Contains("cannot rename temporary file") && Contains(target.string()));
        CHECK(sgm_test::read_file(target / "inside") == old_bytes);
        auto names = dir.entries();
        std::ranges::sort(names);
        CHECK(names == std::vector<std::string>{"ckpt.safetensors", "taken"});
    }
    SECTION("the directory does not exist") {
        const auto missing = dir / "no_such_dir" / "ckpt.safetensors";
        REQUIRE_THROWS_WITH(sgm::io::write_safetensors(missing, checkpoint(2.0f, 10)),
                            Contains("cannot create temporary file") && Contains(missing.string()) &&
                                Contains("No such file or directory"));
        CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
    }
    SECTION("an unwritable header is refused before anything is written") {
        sgm::io::tensor_file bad;
        bad.put("\xfe", std::vector<float>{1});
        REQUIRE_THROWS_WITH(sgm::io::write_safetensors(path, bad), Contains("not valid UTF-8"));
        CHECK(sgm_test::read_file(path) == old_bytes);
        CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
    }
}

TEST_CASE("a write into a read-only directory fails cleanly", "[io][atomic]") {
    if (::geteuid() == 0) {
        WARN("running as root, which may write anywhere: the read-only directory case is not testable here");
        return;
    }
    const sgm_test::scratch_dir dir;
    const auto path = dir / "ckpt.safetensors";
    sgm::io::write_safetensors(path, checkpoint(1.0f, 10));
    const bytes old_bytes = sgm_test::read_file(path);
    std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    REQUIRE_THROWS_WITH(sgm::io::write_safetensors(path, checkpoint(2.0f, 10)),
                        Contains("cannot create temporary file") && Contains("Permission denied"));
    std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all);
    CHECK(sgm_test::read_file(path) == old_bytes);
    CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("atomic_file without commit leaves the target untouched", "[io][atomic]") {
    const sgm_test::scratch_dir dir;
    const auto path = dir / "f.bin";
    sgm_test::write_file(path, sgm_test::to_bytes("old"));
    {
        sgm::io::atomic_file file(path);
        CHECK(std::filesystem::exists(file.temp_path()));
        CHECK(file.temp_path().parent_path() == dir.path());
        file.write(sgm_test::to_bytes("new content"));
        // Abandoned: destroyed without commit(), as when an exception unwinds.
    }
    CHECK(sgm_test::read_file(path) == sgm_test::to_bytes("old"));
    CHECK(dir.entries() == std::vector<std::string>{"f.bin"});

    {
        sgm::io::atomic_file file(path);
        file.write(sgm_test::to_bytes("new"));
        file.commit();
        REQUIRE_THROWS_WITH(file.write(sgm_test::to_bytes("x")), Contains("after commit"));
    }
    CHECK(sgm_test::read_file(path) == sgm_test::to_bytes("new"));
    REQUIRE_THROWS_WITH(sgm::io::atomic_file(dir.path() / ""), Contains("does not name a file"));
}

TEST_CASE("a reader never sees a partial checkpoint while it is rewritten", "[io][atomic]") {
    const sgm_test::scratch_dir dir;
    const auto path = dir / "live.safetensors";
    // Different sizes, so a torn or half-written file cannot parse as either.
    const auto a = checkpoint(1.0f, 30000);
    const auto b = checkpoint(2.0f, 50000);
    sgm::io::write_safetensors(path, a);

    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, bad{0};
    std::thread reader([&] {
        while (!done.load()) {
            try {
                const auto f = sgm::io::read_safetensors(path);
                if (!(f == a) && !(f == b)) ++bad;
            } catch (const sgm::error&) {
                ++bad;
            }
            ++reads;
        }
    });
    for (int i = 0; i < 30; ++i) sgm::io::write_safetensors(path, i % 2 ? a : b);
    // Let the reader see the last version at least once.
    const int seen = reads.load();
    while (reads.load() < seen + 2) std::this_thread::yield();
    done = true;
    reader.join();
    CHECK(bad.load() == 0);
    CHECK(reads.load() > 2);
    CHECK(dir.entries() == std::vector<std::string>{"live.safetensors"});
}
