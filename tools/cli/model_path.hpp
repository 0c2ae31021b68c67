#pragma once
// Where the tools find a bundled model named on the command line: a path that
// exists is used as given; a bare name such as "mnist_vp" means
// <models>/mnist_vp/weights.safetensors, looked up in ./models, the source tree's
// models/ and the installed share/sgm/models, in that order.

#include <filesystem>
#include <string>
#include <vector>

#include "flags.hpp"

#ifndef SGM_SOURCE_MODEL_DIR
#define SGM_SOURCE_MODEL_DIR "models"
#endif
#ifndef SGM_INSTALLED_MODEL_DIR
#define SGM_INSTALLED_MODEL_DIR "models"
#endif

namespace cli {

// flag: the option that named it, for the error message.
[[nodiscard]] inline std::filesystem::path resolve_model(const std::string& name, const std::string& flag = "--model") {
    std::error_code ec;
    if (std::filesystem::is_regular_file(name, ec)) return name;
    const std::vector<std::filesystem::path> roots{"models", SGM_SOURCE_MODEL_DIR, SGM_INSTALLED_MODEL_DIR};
    if (name.find('/') == std::string::npos && !name.ends_with(".safetensors"))
        for (const auto& root : roots) {
            const auto candidate = root / name / "weights.safetensors";
            if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
        }
    throw usage_error(flag + " '" + name + "': no such file, and no bundled model of that name (looked in ./models, " +
                      SGM_SOURCE_MODEL_DIR + " and " + SGM_INSTALLED_MODEL_DIR + ")");
}

}  // namespace cli
