#pragma once
// Checkpoints: the whole state of a training run in one safetensors file, and
// weights-only files for shipping a trained network (see docs/checkpoints.md).
//
//   tensors   model.<name>    every parameter, its own shape
//             ema.<name>      the EMA weights, same shapes
//             adam.m.<name>   Adam's first and second moments (trainable
//             adam.v.<name>   parameters only)
//   metadata  format = sgm.training_state, format_version = 1, step,
//             adam_steps, ema_updates, seed, config.<key> for the caller's
//             description of the run, data_crc32 and metadata_crc32.
//
// data_crc32 is the CRC-32 of the tensors' bytes concatenated in name order;
// metadata_crc32 that of "key\0value\0" for every other metadata entry in key
// order. The safetensors reader validates the layout; the two checksums catch
// flipped bits that leave the layout valid. Loading checks everything before
// it returns, so a failed load changes nothing.

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "../io/safetensors.hpp"
#include "../nn/parameter.hpp"
#include "adam.hpp"
#include "ema.hpp"

namespace sgm::train {

// The caller's description of a run (network, SDE, optimizer settings ...):
// stored with a checkpoint and compared, key by key, when it is loaded.
using config_map = std::map<std::string, std::string>;

inline constexpr std::string_view checkpoint_format = "sgm.training_state";
inline constexpr std::string_view weights_format = "sgm.weights";
inline constexpr std::uint64_t checkpoint_format_version = 1;

// Everything a run needs to continue exactly where it stopped.
template <class Real>
struct training_state {
    std::uint64_t step = 0;            // training steps done
    std::uint64_t seed = 0;            // the run's seed (data order and noise)
    std::vector<Real> model;           // all parameter values, flat in list order
    std::vector<Real> ema;             // EMA weights, same layout
    std::uint64_t ema_updates = 0;
    std::vector<Real> adam_m, adam_v;  // Adam moments, flat over trainable parameters in list order
    std::uint64_t adam_steps = 0;
    config_map config;

    friend bool operator==(const training_state&, const training_state&) = default;
};

namespace detail {
using sgm::detail::concat;
using sgm::detail::require;

inline std::uint32_t crc32_of(std::uint32_t crc, std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        const std::size_t n = std::min<std::size_t>(bytes.size(), std::size_t{1} << 30);
        crc = static_cast<std::uint32_t>(
            ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n)));
        bytes = bytes.subspan(n);
    }
    return crc;
}

inline std::uint32_t crc32_of(std::uint32_t crc, std::string_view s) {
    return crc32_of(crc, std::as_bytes(std::span<const char>(s.data(), s.size())));
}

[[nodiscard]] inline std::string hex32(std::uint32_t v) {
    char text[9];
    std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(v));
    return text;
}

// CRC-32 of the tensors' bytes, concatenated in (byte-wise) name order.
[[nodiscard]] inline std::uint32_t data_crc32(const io::tensor_file& file) {
    std::vector<const io::tensor_record*> sorted;
    for (const auto& t : file.tensors()) sorted.push_back(&t);
    std::ranges::sort(sorted, std::less<>{}, [](const io::tensor_record* t) -> const std::string& { return t->name; });
    std::uint32_t crc = 0;
    for (const auto* t : sorted) crc = crc32_of(crc, t->bytes);
    return crc;
}

// CRC-32 of "key\0value\0" for every metadata entry but metadata_crc32, in key order.
[[nodiscard]] inline std::uint32_t metadata_crc32(const io::tensor_file::metadata_map& metadata) {
    std::uint32_t crc = 0;
    for (const auto& [key, value] : metadata) {
        if (key == "metadata_crc32") continue;
        crc = crc32_of(crc, key);
        crc = crc32_of(crc, std::string_view("\0", 1));
        crc = crc32_of(crc, value);
        crc = crc32_of(crc, std::string_view("\0", 1));
    }
    return crc;
}

// Adds the two checksums; call last, after every tensor and metadata entry.
inline void seal(io::tensor_file& file) {
    file.metadata()["data_crc32"] = hex32(data_crc32(file));
    file.metadata()["metadata_crc32"] = hex32(metadata_crc32(file.metadata()));
}

[[nodiscard]] inline std::string source_name(std::string_view kind, std::string_view source) {
    return concat(kind, " '", source, "'");
}

[[nodiscard]] inline const std::string& metadata_value(const io::tensor_file& file, std::string_view key,
                                                       const std::string& src) {
    const auto it = file.metadata().find(std::string(key));
    require(it != file.metadata().end(), src, ": metadata has no '", key, "' entry");
    return it->second;
}

[[nodiscard]] inline std::uint64_t metadata_uint(const io::tensor_file& file, std::string_view key,
                                                 const std::string& src) {
    const std::string& text = metadata_value(file, key, src);
    bool ok = !text.empty() && text.size() <= 20 && (text.size() == 1 || text[0] != '0');
    std::uint64_t value = 0;
    for (const char c : text) {
        if (!ok) break;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        ok = c >= '0' && c <= '9' && value <= (UINT64_MAX - digit) / 10;
        value = value * 10 + digit;
    }
    require(ok, src, ": metadata '", key, "' = '", text, "' is not a non-negative 64-bit integer");
    return value;
}

// Checks the format name, version and both checksums of a file read from `src`.
inline void verify_file(const io::tensor_file& file, std::string_view format, const std::string& src) {
    const auto it = file.metadata().find("format");
    require(it != file.metadata().end(), src, ": not an sgm file: the metadata has no 'format' entry (expected '",
            format, "')");
    const std::string& recorded = metadata_value(file, "metadata_crc32", src);
    const std::string actual = hex32(metadata_crc32(file.metadata()));
    require(recorded == actual, src, ": metadata checksum mismatch: the file records metadata_crc32 '", recorded,
            "', its metadata hashes to '", actual, "' (corrupted header)");
    require(it->second == format, src, ": the file is a '", it->second, "' file, expected '", format, "'");
    const std::uint64_t version = metadata_uint(file, "format_version", src);
    require(version == checkpoint_format_version, src, ": format_version ", version, " is not supported (this build reads version ",
            checkpoint_format_version, ")");
    const std::string& data_recorded = metadata_value(file, "data_crc32", src);
    const std::string data_actual = hex32(data_crc32(file));
    require(data_recorded == data_actual, src, ": data checksum mismatch: the file records data_crc32 '",
            data_recorded, "', the tensor data hashes to '", data_actual, "' (corrupted tensor data)");
}

inline void put_config(io::tensor_file& file, const config_map& config) {
    for (const auto& [key, value] : config) file.metadata()["config." + key] = value;
}

[[nodiscard]] inline config_map read_config(const io::tensor_file& file) {
    config_map config;
    constexpr std::string_view prefix = "config.";
    for (const auto& [key, value] : file.metadata())
        if (key.starts_with(prefix)) config.emplace(key.substr(prefix.size()), value);
    return config;
}

// The stored config must hold exactly the expected keys and values.
inline void check_config(const config_map& stored, const config_map& expected, const std::string& src) {
    for (const auto& [key, value] : expected) {
        const auto it = stored.find(key);
        require(it != stored.end(), src, ": config key '", key, "' is missing from the file (expected '", value,
                "')");
        require(it->second == value, src, ": config mismatch for '", key, "': the file has '", it->second,
                "', expected '", value, "'");
    }
    for (const auto& [key, value] : stored)
        require(expected.contains(key), src, ": the file has config key '", key, "' = '", value,
                "', which this run does not set");
}

[[nodiscard]] inline io::tensor_shape shape_of(const std::vector<std::size_t>& shape) {
    return io::tensor_shape(shape.begin(), shape.end());
}

// One expected tensor: its name, its parameter and where its values go.
template <class Real>
struct tensor_slot {
    std::string name;
    const nn::parameter<Real>* parameter;
    std::vector<Real>* target;
    std::size_t offset;
    bool non_negative;
};

// Reads the expected tensors into their targets; missing, unexpected,
// mistyped, misshapen and non-finite tensors are errors.
template <class Real>
void read_tensors(const io::tensor_file& file, const std::vector<tensor_slot<Real>>& slots, const std::string& src) {
    std::set<std::string, std::less<>> expected;
    for (const auto& s : slots) {
        require(file.contains(s.name), src, ": missing tensor '", s.name,
                "' (was the file written for a different network?)");
        expected.insert(s.name);
    }
    for (const auto& t : file.tensors())
        require(expected.contains(t.name), src, ": unexpected tensor '", t.name,
                "' (was the file written for a different network?)");
    for (const auto& s : slots) {
        const auto& t = file.at(s.name);
        require(t.dtype == io::dtype_of<Real>, src, ": tensor '", s.name, "' has dtype ", io::dtype_name(t.dtype),
                ", expected ", io::dtype_name(io::dtype_of<Real>));
        const auto shape = shape_of(s.parameter->shape);
        require(t.shape == shape, src, ": tensor '", s.name, "' has shape ", io::shape_string(t.shape),
                ", the network's parameter has shape ", io::shape_string(shape));
        const std::span<Real> out(s.target->data() + s.offset, s.parameter->size());
        io::detail::load_little_endian<Real>(t.bytes, out);
        for (std::size_t i = 0; i < out.size(); ++i) {
            require(std::isfinite(out[i]), src, ": tensor '", s.name, "' holds the non-finite value ", out[i],
                    " at element ", i);
            require(!s.non_negative || out[i] >= 0, src, ": tensor '", s.name, "' holds the negative value ",
                    out[i], " at element ", i, " (second moments are never negative)");
        }
    }
}

template <class Real>
void put_slice(io::tensor_file& file, std::string name, const nn::parameter<Real>& p, const std::vector<Real>& flat,
               std::size_t offset) {
    file.put(std::move(name), std::span<const Real>(flat.data() + offset, p.size()), shape_of(p.shape));
}

template <class Real>
void check_sizes(const training_state<Real>& s, const nn::parameter_list<Real>& layout) {
    const std::size_t all = layout.value_count(), trainable = layout.trainable_count();
    require(s.model.size() == all && s.ema.size() == all, "save_checkpoint: the state has ", s.model.size(),
            " model and ", s.ema.size(), " EMA values, the network has ", all);
    require(s.adam_m.size() == trainable && s.adam_v.size() == trainable, "save_checkpoint: the state has ",
            s.adam_m.size(), " and ", s.adam_v.size(), " Adam moments, the network has ", trainable,
            " trainable values");
}

template <class Real>
[[nodiscard]] std::vector<tensor_slot<Real>> weight_slots(const nn::parameter_list<Real>& layout,
                                                          std::vector<Real>& values, std::string_view prefix) {
    std::vector<tensor_slot<Real>> slots;
    std::size_t offset = 0;
    for (const auto& e : layout) {
        slots.push_back({std::string(prefix) + e.name, e.tensor, &values, offset, false});
        offset += e.tensor->size();
    }
    return slots;
}

}  // namespace detail

// ---- training state ---------------------------------------------------------

// Copies the live objects of a run into a training_state.
// Optimizer and Average: adam and ema, or their backend versions (backend_adam,
// backend_ema), which give their state to the host in the same layout.
template <class Real, class Optimizer = adam<Real>, class Average = ema<Real>>
[[nodiscard]] training_state<Real> capture_training_state(const nn::parameter_list<Real>& params,
                                                          const Optimizer& optimizer, const Average& average,
                                                          std::uint64_t step, std::uint64_t seed,
                                                          config_map config = {}) {
    training_state<Real> s;
    s.step = step;
    s.seed = seed;
    s.model = params.flatten_values();
    s.ema = average.shadow();
    s.ema_updates = average.updates();
    s.adam_m = optimizer.first_moment();
    s.adam_v = optimizer.second_moment();
    // An optimizer that has not stepped may not have allocated its moments yet: they are zero.
    if (s.adam_m.empty()) s.adam_m.assign(params.trainable_count(), Real(0));
    if (s.adam_v.empty()) s.adam_v.assign(params.trainable_count(), Real(0));
    s.adam_steps = optimizer.steps();
    s.config = std::move(config);
    return s;
}

// Puts a training_state back into the live objects.
template <class Real, class Optimizer = adam<Real>, class Average = ema<Real>>
void restore_training_state(const training_state<Real>& s, const nn::parameter_list<Real>& params,
                            Optimizer& optimizer, Average& average) {
    detail::check_sizes(s, params);
    params.assign_values(s.model);
    average.set_state(s.ema_updates, s.ema);
    optimizer.set_state(s.adam_steps, s.adam_m, s.adam_v);
}

// The checkpoint as a tensor file (names and shapes from `layout`), checksums included.
template <class Real>
[[nodiscard]] io::tensor_file checkpoint_file(const training_state<Real>& s, const nn::parameter_list<Real>& layout) {
    detail::check_sizes(s, layout);
    io::tensor_file file;
    std::size_t offset = 0, trainable_offset = 0;
    for (const auto& e : layout) {
        detail::put_slice(file, "model." + e.name, *e.tensor, s.model, offset);
        detail::put_slice(file, "ema." + e.name, *e.tensor, s.ema, offset);
        if (e.tensor->trainable) {
            detail::put_slice(file, "adam.m." + e.name, *e.tensor, s.adam_m, trainable_offset);
            detail::put_slice(file, "adam.v." + e.name, *e.tensor, s.adam_v, trainable_offset);
            trainable_offset += e.tensor->size();
        }
        offset += e.tensor->size();
    }
    auto& m = file.metadata();
    m["format"] = checkpoint_format;
    m["format_version"] = std::to_string(checkpoint_format_version);
    m["step"] = std::to_string(s.step);
    m["seed"] = std::to_string(s.seed);
    m["ema_updates"] = std::to_string(s.ema_updates);
    m["adam_steps"] = std::to_string(s.adam_steps);
    detail::put_config(file, s.config);
    detail::seal(file);
    return file;
}

// Reads a checkpoint from a parsed file; `source` names it in errors. The file's
// config must equal `expected` (same keys, same values).
template <class Real>
[[nodiscard]] training_state<Real> read_checkpoint(const io::tensor_file& file, const nn::parameter_list<Real>& layout,
                                                   const config_map& expected, std::string_view source) {
    const std::string src = detail::source_name("checkpoint", source);
    detail::verify_file(file, checkpoint_format, src);
    training_state<Real> s;
    s.step = detail::metadata_uint(file, "step", src);
    s.seed = detail::metadata_uint(file, "seed", src);
    s.ema_updates = detail::metadata_uint(file, "ema_updates", src);
    s.adam_steps = detail::metadata_uint(file, "adam_steps", src);
    s.config = detail::read_config(file);
    detail::check_config(s.config, expected, src);

    s.model.resize(layout.value_count());
    s.ema.resize(layout.value_count());
    s.adam_m.resize(layout.trainable_count());
    s.adam_v.resize(layout.trainable_count());
    std::vector<detail::tensor_slot<Real>> slots = detail::weight_slots(layout, s.model, "model.");
    for (auto& slot : detail::weight_slots(layout, s.ema, "ema.")) slots.push_back(std::move(slot));
    std::size_t trainable_offset = 0;
    for (const auto& e : layout) {
        if (!e.tensor->trainable) continue;
        slots.push_back({"adam.m." + e.name, e.tensor, &s.adam_m, trainable_offset, false});
        slots.push_back({"adam.v." + e.name, e.tensor, &s.adam_v, trainable_offset, true});
        trainable_offset += e.tensor->size();
    }
    detail::read_tensors(file, slots, src);
    return s;
}

// Writes the checkpoint atomically: a reader sees the previous file or the new one, whole.
template <class Real>
void save_checkpoint(const std::filesystem::path& path, const training_state<Real>& s,
                     const nn::parameter_list<Real>& layout) {
    io::write_safetensors(path, checkpoint_file(s, layout));
}

template <class Real>
[[nodiscard]] training_state<Real> load_checkpoint(const std::filesystem::path& path,
                                                   const nn::parameter_list<Real>& layout, const config_map& expected) {
    return read_checkpoint(io::read_safetensors(path), layout, expected, path.string());
}

// The same from the file's bytes in memory.
template <class Real>
[[nodiscard]] training_state<Real> load_checkpoint(std::span<const std::byte> bytes,
                                                   const nn::parameter_list<Real>& layout, const config_map& expected,
                                                   std::string_view source = "<memory>") {
    return read_checkpoint(io::parse_safetensors(bytes, source), layout, expected, source);
}

// ---- weights only -----------------------------------------------------------

// A weights file: one tensor per parameter under its own name, format
// sgm.weights, optional config.<key> entries and the two checksums.
template <class Real>
[[nodiscard]] io::tensor_file weights_file(const nn::parameter_list<Real>& layout, const std::vector<Real>& values,
                                           const config_map& config = {}) {
    sgm::detail::require(values.size() == layout.value_count(), "save_weights: ", values.size(),
                         " values given, the network has ", layout.value_count());
    io::tensor_file file;
    std::size_t offset = 0;
    for (const auto& e : layout) {
        detail::put_slice(file, e.name, *e.tensor, values, offset);
        offset += e.tensor->size();
    }
    file.metadata()["format"] = weights_format;
    file.metadata()["format_version"] = std::to_string(checkpoint_format_version);
    detail::put_config(file, config);
    detail::seal(file);
    return file;
}

// Reads the flat weights of `layout` from a parsed weights file; with `expected`,
// the file's config must equal it.
template <class Real>
[[nodiscard]] std::vector<Real> read_weights(const io::tensor_file& file, const nn::parameter_list<Real>& layout,
                                             const config_map* expected, std::string_view source) {
    const std::string src = detail::source_name("weights file", source);
    detail::verify_file(file, weights_format, src);
    if (expected != nullptr) detail::check_config(detail::read_config(file), *expected, src);
    std::vector<Real> values(layout.value_count());
    detail::read_tensors(file, detail::weight_slots(layout, values, ""), src);
    return values;
}

// The config entries of a weights file (verified first): what a program needs to
// rebuild the network and SDE before it reads the weights themselves.
[[nodiscard]] inline config_map read_weights_config(const io::tensor_file& file, std::string_view source) {
    const std::string src = detail::source_name("weights file", source);
    detail::verify_file(file, weights_format, src);
    return detail::read_config(file);
}

// Saves the parameters' current values, or the given flat values (e.g. ema.shadow()).
template <class Real>
void save_weights(const std::filesystem::path& path, const nn::parameter_list<Real>& params,
                  const config_map& config = {}) {
    io::write_safetensors(path, weights_file(params, params.flatten_values(), config));
}
template <class Real>
void save_weights(const std::filesystem::path& path, const nn::parameter_list<Real>& params,
                  const std::vector<Real>& values, const config_map& config = {}) {
    io::write_safetensors(path, weights_file(params, values, config));
}

// Loads weights into the parameters; on any error they are left unchanged.
template <class Real>
void load_weights(const std::filesystem::path& path, const nn::parameter_list<Real>& params) {
    params.assign_values(read_weights(io::read_safetensors(path), params, nullptr, path.string()));
}
template <class Real>
void load_weights(const std::filesystem::path& path, const nn::parameter_list<Real>& params,
                  const config_map& expected) {
    params.assign_values(read_weights(io::read_safetensors(path), params, &expected, path.string()));
}

}  // namespace sgm::train
