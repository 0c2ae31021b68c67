// Checkpoints and the training loop: round trips, bit-identical resume, every
// kind of damaged file rejected with a clear message, and an end-to-end test
// that a trained score network samples a 2-D mixture (MMD against fresh data).

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sgm/sgm.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/train/checkpoint.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/trainer.hpp>

#include "io/io_test_support.hpp"

namespace {

namespace nn = sgm::nn;
namespace train = sgm::train;
using Catch::Contains;

using Real = float;
using net_type = nn::mlp<Real>;
using sde_type = sgm::vp_sde<Real>;
using backend = sgm::serial_backend<Real>;
using model_type = nn::score_network<net_type, sde_type, backend>;
using loss_type = train::continuous_dsm_loss<sde_type>;

nn::mlp_config tiny_network(std::size_t hidden = 8) {
    nn::mlp_config c;
    c.data_dim = 2;
    c.hidden = hidden;
    c.depth = 1;
    c.embedding_size = 4;
    c.seed = 7;
    return c;
}

model_type make_model(const nn::mlp_config& c) { return model_type(net_type(c), sde_type()); }

const train::config_map run_config{{"network", "mlp 2-8x1-2"}, {"sde", "vp 0.1 20"}};

// A state with distinct, non-trivial values everywhere: a few optimizer steps
// from made-up gradients.
train::training_state<Real> some_state(const nn::parameter_list<Real>& params) {
    train::adam_options o;
    o.warmup = 0;
    o.learning_rate = 1e-2;
    train::adam<Real> opt(params, o);
    train::ema<Real> avg(params, 0.9);
    for (int s = 0; s < 3; ++s) {
        std::size_t k = 0;
        for (const auto& e : params)
            for (auto& g : e.tensor->grad) g = Real(std::sin(0.37 * double(++k) + s));
        (void)opt.step(params);
        avg.update(params);
    }
    return train::capture_training_state(params, opt, avg, 3, 1234, run_config);
}

sgm_test::bytes file_bytes(const std::filesystem::path& p) { return sgm_test::read_file(p); }

// The length of the header JSON (the 8-byte little-endian prefix).
std::size_t header_length(const sgm_test::bytes& b) {
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | std::to_integer<std::uint64_t>(b[std::size_t(i)]);
    return std::size_t(n);
}

// Rewrites a parsed checkpoint with fresh checksums after `edit` changed it.
template <class Edit>
void rewrite_sealed(const std::filesystem::path& from, const std::filesystem::path& to, Edit edit) {
    const auto original = sgm::io::read_safetensors(from);
    sgm::io::tensor_file changed;
    changed.metadata() = original.metadata();
    for (const auto& t : original.tensors()) changed.add(t);
    edit(changed);
    train::detail::seal(changed);
    sgm::io::write_safetensors(to, changed);
}

// Copies a file without one of its tensors.
sgm::io::tensor_file without(const sgm::io::tensor_file& f, const std::string& name) {
    sgm::io::tensor_file out;
    out.metadata() = f.metadata();
    for (const auto& t : f.tensors())
        if (t.name != name) out.add(t);
    return out;
}

}  // namespace

TEST_CASE("a checkpoint round trip keeps every tensor and metadata entry", "[train][checkpoint]") {
    sgm_test::scratch_dir dir;
    auto model = make_model(tiny_network());
    const auto params = model.network().parameters();
    const auto state = some_state(params);
    train::save_checkpoint(dir / "run.ckpt", state, params);

    // Nothing but the checkpoint is left in the directory (the temporary file was renamed).
    CHECK(dir.entries() == std::vector<std::string>{"run.ckpt"});

    const auto loaded = train::load_checkpoint(dir / "run.ckpt", params, run_config);
    CHECK(loaded == state);
    CHECK(loaded.step == 3);
    CHECK(loaded.adam_steps == 3);
    CHECK(loaded.ema_updates == 3);
    CHECK(loaded.seed == 1234);

    // The file as any safetensors reader sees it: names, shapes, metadata.
    const auto file = sgm::io::read_safetensors(dir / "run.ckpt");
    CHECK(file.size() == 4 * params.size());  // every parameter of the MLP is trainable
    for (const auto& e : params) {
        const sgm::io::tensor_shape shape(e.tensor->shape.begin(), e.tensor->shape.end());
        for (const std::string prefix : {"model.", "ema.", "adam.m.", "adam.v."}) {
            INFO(prefix + e.name);
            REQUIRE(file.contains(prefix + e.name));
            CHECK(file.at(prefix + e.name).shape == shape);
        }
        CHECK(file.get<Real>("model." + e.name) == e.tensor->value);
    }
    const auto& m = file.metadata();
    CHECK(m.at("format") == "sgm.training_state");
    CHECK(m.at("format_version") == "1");
    CHECK(m.at("step") == "3");
    CHECK(m.at("seed") == "1234");
    CHECK(m.at("config.sde") == "vp 0.1 20");
    CHECK(m.at("data_crc32").size() == 8);
    CHECK(m.at("metadata_crc32").size() == 8);

    // In memory, and over an existing file.
    CHECK(train::load_checkpoint(std::span<const std::byte>(file_bytes(dir / "run.ckpt")), params, run_config) ==
          state);
    auto later = state;
    later.step = 4;
    train::save_checkpoint(dir / "run.ckpt", later, params);
    CHECK(train::load_checkpoint(dir / "run.ckpt", params, run_config).step == 4);
    CHECK(dir.entries().size() == 1);
}

TEST_CASE("weights files round trip and leave the network unchanged on failure", "[train][checkpoint]") {
    sgm_test::scratch_dir dir;
    auto a = make_model(tiny_network());
    const auto pa = a.network().parameters();
    const auto state = some_state(pa);
    train::save_weights(dir / "ema.safetensors", pa, state.ema, {{"sde", "vp"}});

    auto b_config = tiny_network();
    b_config.seed = 99;  // different initial values
    auto b = make_model(b_config);
    const auto pb = b.network().parameters();
    REQUIRE(pb.flatten_values() != state.ema);
    train::load_weights(dir / "ema.safetensors", pb, {{"sde", "vp"}});
    CHECK(pb.flatten_values() == state.ema);
    const auto file = sgm::io::read_safetensors(dir / "ema.safetensors");
    CHECK(file.metadata().at("format") == "sgm.weights");
    CHECK(file.contains("layers.0.weight"));

    auto c = make_model(b_config);
    const auto pc = c.network().parameters();
    const auto before = pc.flatten_values();
    REQUIRE_THROWS_WITH(train::load_weights(dir / "ema.safetensors", pc, {{"sde", "ve"}}),
                        Contains("config mismatch for 'sde': the file has 'vp', expected 've'"));
    auto bytes = file_bytes(dir / "ema.safetensors");
    bytes.back() ^= std::byte{0x10};
    sgm_test::write_file(dir / "bad.safetensors", bytes);
    REQUIRE_THROWS_WITH(train::load_weights(dir / "bad.safetensors", pc), Contains("data checksum mismatch"));
    CHECK(pc.flatten_values() == before);

    // A checkpoint is not a weights file, nor the reverse.
    train::save_checkpoint(dir / "run.ckpt", state, pa);
    REQUIRE_THROWS_WITH(train::load_weights(dir / "run.ckpt", pc),
                        Contains("is a 'sgm.training_state' file, expected 'sgm.weights'"));
    REQUIRE_THROWS_WITH(train::load_checkpoint(dir / "ema.safetensors", pa, run_config),
                        Contains("is a 'sgm.weights' file, expected 'sgm.training_state'"));
}

TEST_CASE("damaged or mismatched checkpoints are rejected with a clear message", "[train][checkpoint]") {
    sgm_test::scratch_dir dir;
    auto model = make_model(tiny_network());
    const auto params = model.network().parameters();
    const auto state = some_state(params);
    const auto good = dir / "good.ckpt";
    train::save_checkpoint(good, state, params);
    const auto original = file_bytes(good);
    const std::size_t data_begin = 8 + header_length(original);
    const auto bad = dir / "bad.ckpt";
    const auto load = [&](const std::filesystem::path& p, const train::config_map& config = run_config) {
        return train::load_checkpoint(p, params, config);
    };

    SECTION("truncated file") {
        auto b = original;
        b.resize(b.size() - 5);
        sgm_test::write_file(bad, b);
        REQUIRE_THROWS_WITH(load(bad), Contains("truncated file?"));
        b.resize(20);
        sgm_test::write_file(bad, b);
        REQUIRE_THROWS_WITH(load(bad), Contains("truncated file?"));
    }
    SECTION("flipped data byte") {
        auto b = original;
        b[data_begin + (b.size() - data_begin) / 2] ^= std::byte{0x01};
        sgm_test::write_file(bad, b);
        REQUIRE_THROWS_WITH(load(bad), Contains("data checksum mismatch") && Contains("corrupted tensor data"));
    }
    SECTION("flipped header byte in a metadata value") {
        // "step":"3" -> "step":"2": valid JSON, valid layout; only the checksum notices.
        auto b = original;
        const std::string header(reinterpret_cast<const char*>(b.data() + 8), data_begin - 8);
        const auto at = header.find("\"step\":\"3\"");
        REQUIRE(at != std::string::npos);
        b[8 + at + 8] ^= std::byte{0x01};
        sgm_test::write_file(bad, b);
        REQUIRE_THROWS_WITH(load(bad), Contains("metadata checksum mismatch") && Contains("corrupted header"));
    }
    SECTION("missing tensor") {
        rewrite_sealed(good, bad, [](auto& f) { f = without(f, "adam.v.layers.1.bias"); });
        REQUIRE_THROWS_WITH(load(bad), Contains("missing tensor 'adam.v.layers.1.bias'"));
    }
    SECTION("unexpected tensor") {
        rewrite_sealed(good, bad, [](auto& f) { f.put("extra", std::vector<Real>{1, 2}); });
        REQUIRE_THROWS_WITH(load(bad), Contains("unexpected tensor 'extra'"));
    }
    SECTION("wrong shape: a network with another hidden width") {
        auto wider = make_model(tiny_network(9));
        REQUIRE_THROWS_WITH(train::load_checkpoint(good, wider.network().parameters(), run_config),
                            Contains("tensor 'model.layers.0.weight' has shape [8, 6], the network's parameter "
                                     "has shape [9, 6]"));
    }
    SECTION("wrong dtype") {
        nn::score_network<nn::mlp<double>, sgm::vp_sde<double>, sgm::serial_backend<double>> in_double{
            nn::mlp<double>(tiny_network()), sgm::vp_sde<double>()};
        REQUIRE_THROWS_WITH(train::load_checkpoint(good, in_double.network().parameters(), run_config),
                            Contains("has dtype F32, expected F64"));
    }
    SECTION("config mismatch, missing and extra keys") {
        auto other = run_config;
        other["sde"] = "ve 0.01 50";
        REQUIRE_THROWS_WITH(load(good, other),
                            Contains("config mismatch for 'sde': the file has 'vp 0.1 20', expected 've 0.01 50'"));
        other = run_config;
        other["lr"] = "1e-3";
        REQUIRE_THROWS_WITH(load(good, other), Contains("config key 'lr' is missing from the file"));
        other = run_config;
        other.erase("network");
        REQUIRE_THROWS_WITH(load(good, other), Contains("the file has config key 'network'"));
    }
    SECTION("bad metadata") {
        rewrite_sealed(good, bad, [](auto& f) { f.metadata()["step"] = "12x"; });
        REQUIRE_THROWS_WITH(load(bad), Contains("metadata 'step' = '12x' is not a non-negative 64-bit integer"));
        rewrite_sealed(good, bad, [](auto& f) { f.metadata().erase("adam_steps"); });
        REQUIRE_THROWS_WITH(load(bad), Contains("metadata has no 'adam_steps' entry"));
        rewrite_sealed(good, bad, [](auto& f) { f.metadata()["format_version"] = "2"; });
        REQUIRE_THROWS_WITH(load(bad), Contains("format_version 2 is not supported"));
        auto plain = sgm::io::read_safetensors(good);
        plain.metadata().clear();
        sgm::io::write_safetensors(bad, plain);
        REQUIRE_THROWS_WITH(load(bad), Contains("not an sgm file"));
    }
    SECTION("non-finite values and negative second moments") {
        rewrite_sealed(good, bad, [](auto& f) {
            auto g = without(f, "ema.layers.0.bias");
            g.put("ema.layers.0.bias", std::vector<Real>(8, std::nanf("")), {8});
            f = g;
        });
        REQUIRE_THROWS_WITH(load(bad), Contains("tensor 'ema.layers.0.bias' holds the non-finite value"));
        rewrite_sealed(good, bad, [](auto& f) {
            auto g = without(f, "adam.v.layers.1.bias");
            g.put("adam.v.layers.1.bias", std::vector<Real>{0.5f, -0.5f}, {2});
            f = g;
        });
        REQUIRE_THROWS_WITH(load(bad), Contains("holds the negative value -0.5 at element 1"));
    }
    SECTION("no file") {
        REQUIRE_THROWS_WITH(load(dir / "absent.ckpt"), Contains("cannot open"));
    }
}

TEST_CASE("every flipped bit of a checkpoint is caught", "[train][checkpoint]") {
    auto model = make_model(tiny_network());
    const auto params = model.network().parameters();
    const auto file = train::checkpoint_file(some_state(params), params);
    const auto original = sgm::io::serialize_safetensors(file);
    const std::size_t data_begin = 8 + header_length(original);
    auto b = original;
    std::size_t caught = 0, flips = 0;
    // Every bit of the length prefix and the header, and the lowest bit of every data byte.
    for (std::size_t i = 0; i < b.size(); ++i)
        for (int bit = 0; bit < (i < data_begin ? 8 : 1); ++bit) {
            b[i] ^= std::byte(1u << bit);
            ++flips;
            try {
                (void)train::load_checkpoint(std::span<const std::byte>(b), params, run_config);
                FAIL_CHECK("flipping bit " << bit << " of byte " << i << " went unnoticed");
            } catch (const sgm::error&) {
                ++caught;
            }
            b[i] ^= std::byte(1u << bit);
        }
    CHECK(caught == flips);
}

namespace {

// A small training set from a 2-D mixture.
std::vector<Real> mixture_data(std::size_t n, std::uint64_t seed) {
    const sgm::gaussian_mixture<Real> m({0.5f, 0.5f}, {-1.5f, 0.f, 1.5f, 0.5f}, {0.1f, 0, 0, 0.1f, 0.2f, 0, 0, 0.05f});
    return m.sample(n, seed);
}

train::trainer_options small_run(std::size_t steps, const std::filesystem::path& dir) {
    train::trainer_options o;
    o.steps = steps;
    o.batch_size = 16;
    o.seed = 42;
    o.ema_rate = 0.99;
    o.adam.learning_rate = 1e-3;
    o.adam.warmup = 10;
    o.checkpoint_path = dir / "run.ckpt";
    o.log_csv_path = dir / "loss.csv";
    o.log_every = 5;
    return o;
}

std::vector<std::string> lines_of(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// A log row without its last column (wall seconds).
std::string without_seconds(const std::string& row) { return row.substr(0, row.rfind(',')); }

}  // namespace

TEST_CASE("resuming from a checkpoint gives bit-identical weights, EMA and Adam state", "[train][trainer]") {
    constexpr std::size_t k = 40;  // a multiple of log_every, so log rows line up
    const auto data = mixture_data(500, 3);
    const loss_type loss{sde_type()};

    sgm_test::scratch_dir straight_dir;
    auto straight_model = make_model(tiny_network());
    train::trainer straight(straight_model, loss, std::span<const Real>(data), 500, small_run(2 * k, straight_dir.path()),
                            run_config);
    const auto summary = straight.train();
    CHECK(summary.last_step == 2 * k);
    CHECK(std::isfinite(summary.final_loss));

    sgm_test::scratch_dir dir;
    {
        auto first_model = make_model(tiny_network());
        train::trainer first(first_model, loss, std::span<const Real>(data), 500, small_run(k, dir.path()), run_config);
        CHECK(first.train().last_step == k);
    }
    // The run went on past its last checkpoint before it died: that part of the log is stale.
    {
        std::ofstream log(dir / "loss.csv", std::ios::app);
        log << k + 5 << ",9,9,9,9\n";
    }
    // Fresh objects; the model's weights are scrambled to show resume() sets them all.
    auto model = make_model(tiny_network());
    for (const auto& e : model.network().parameters()) std::fill(e.tensor->value.begin(), e.tensor->value.end(), 0.5f);
    train::trainer resumed(model, loss, std::span<const Real>(data), 500, small_run(2 * k, dir.path()), run_config);
    resumed.resume(dir / "run.ckpt");
    CHECK(resumed.step() == k);
    CHECK(resumed.train().first_step == k);

    CHECK(resumed.parameters().flatten_values() == straight.parameters().flatten_values());
    CHECK(resumed.average().shadow() == straight.average().shadow());
    CHECK(resumed.average().updates() == straight.average().updates());
    CHECK(resumed.optimizer().first_moment() == straight.optimizer().first_moment());
    CHECK(resumed.optimizer().second_moment() == straight.optimizer().second_moment());
    CHECK(resumed.optimizer().steps() == straight.optimizer().steps());
    CHECK(resumed.state() == straight.state());
    // Both final checkpoints hold the same state.
    CHECK(train::load_checkpoint(dir / "run.ckpt", resumed.parameters(), resumed.config()) ==
          train::load_checkpoint(straight_dir / "run.ckpt", straight.parameters(), straight.config()));

    // The logs agree row for row (but for the wall time), and the stale row is gone.
    const auto a = lines_of(straight_dir / "loss.csv"), b = lines_of(dir / "loss.csv");
    REQUIRE(a.size() == 1 + 2 * k / 5);
    REQUIRE(b.size() == a.size());
    CHECK(a[0] == "step,loss,grad_norm,learning_rate,seconds");
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(without_seconds(a[i]) == without_seconds(b[i]));
}

TEST_CASE("the trainer rejects a mismatched resume and a non-finite loss", "[train][trainer]") {
    const auto data = mixture_data(100, 3);
    const loss_type loss{sde_type()};
    sgm_test::scratch_dir dir;
    {
        auto model = make_model(tiny_network());
        train::trainer t(model, loss, std::span<const Real>(data), 100, small_run(5, dir.path()), run_config);
        t.train();
    }
    auto model = make_model(tiny_network());
    auto other_seed = small_run(10, dir.path());
    other_seed.seed = 43;
    train::trainer t1(model, loss, std::span<const Real>(data), 100, other_seed, run_config);
    REQUIRE_THROWS_WITH(t1.resume(dir / "run.ckpt"), Contains("seed 42; this run's seed is 43"));
    auto other_batch = small_run(10, dir.path());
    other_batch.batch_size = 32;
    train::trainer t2(model, loss, std::span<const Real>(data), 100, other_batch, run_config);
    REQUIRE_THROWS_WITH(t2.resume(dir / "run.ckpt"),
                        Contains("config mismatch for 'train.batch_size': the file has '16', expected '32'"));
    auto other_data = data;
    other_data[17] += 1;
    train::trainer t3(model, loss, std::span<const Real>(other_data), 100, small_run(10, dir.path()), run_config);
    REQUIRE_THROWS_WITH(t3.resume(dir / "run.ckpt"), Contains("config mismatch for 'train.data_crc32'"));

    // A loss that turns non-finite at step 3.
    const auto failing = [&](model_type& m, const Real* x, std::size_t n, train::batch_key key, bool grads) {
        const double value = loss(m, x, n, key, grads);
        return key.step == 3 ? std::nan("") : value;
    };
    auto options = small_run(10, dir.path());
    options.checkpoint_path.clear();
    options.log_csv_path.clear();
    train::trainer t4(model, failing, std::span<const Real>(data), 100, options);
    REQUIRE_THROWS_WITH(t4.train(), Contains("the loss is nan at step 3"));

    auto bad_data = data;
    bad_data[7] = std::numeric_limits<Real>::infinity();
    REQUIRE_THROWS_WITH(train::trainer(model, loss, std::span<const Real>(bad_data), 100, options),
                        Contains("data sample 3 holds the non-finite value inf at coordinate 1"));
}

TEST_CASE("data indices depend only on (seed, step, position in the batch)", "[train][trainer]") {
    const auto data = mixture_data(37, 3);
    const loss_type loss{sde_type()};
    auto model = make_model(tiny_network());
    for (const auto sampling : {train::data_sampling::with_replacement, train::data_sampling::shuffled_epochs}) {
        train::trainer_options o;
        o.batch_size = 8;
        o.sampling = sampling;
        train::trainer a(model, loss, std::span<const Real>(data), 37, o);
        train::trainer b(model, loss, std::span<const Real>(data), 37, o);
        std::vector<int> hits(37, 0);
        for (std::uint64_t s = 0; s < 37; ++s)  // 8 epochs' worth of samples
            for (std::size_t i = 0; i < 8; ++i) {
                const auto index = a.data_index(s, i);
                REQUIRE(index < 37);
                ++hits[index];
            }
        // In reverse order, from another trainer: the same indices.
        for (std::uint64_t s = 37; s-- > 0;)
            for (std::size_t i = 0; i < 8; ++i) CHECK(b.data_index(s, i) == a.data_index(s, i));
        if (sampling == train::data_sampling::shuffled_epochs)
            CHECK(std::ranges::all_of(hits, [](int h) { return h == 8; }));  // each epoch a permutation
        else
            CHECK(std::ranges::count(hits, 0) < 3);  // 296 uniform draws over 37 items: P(0 hits) ≈ 3e-4 each
    }
}

// ---- end to end -------------------------------------------------------------

namespace {

// Unbiased estimate of MMD² with the Gaussian kernel exp(−|x − y|² / (2h²)) (2-D points).
double mmd2(const std::vector<Real>& x, const std::vector<Real>& y, double h) {
    const std::size_t n = x.size() / 2, m = y.size() / 2;
    const double scale = -0.5 / (h * h);
    const auto k = [&](const std::vector<Real>& a, std::size_t i, const std::vector<Real>& b, std::size_t j) {
        const double dx = double(a[2 * i]) - b[2 * j], dy = double(a[2 * i + 1]) - b[2 * j + 1];
        return std::exp(scale * (dx * dx + dy * dy));
    };
    double xx = 0, yy = 0, xy = 0;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) xx += k(x, i, x, j);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = i + 1; j < m; ++j) yy += k(y, i, y, j);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < m; ++j) xy += k(x, i, y, j);
    return 2 * xx / double(n * (n - 1)) + 2 * yy / double(m * (m - 1)) - 2 * xy / double(n * m);
}

}  // namespace

TEST_CASE("a trained score network samples a 2-D mixture that MMD cannot tell from the data",
          "[train][trainer][quality]") {
    const auto start = std::chrono::steady_clock::now();
    // Six well-separated components on a circle of radius 2.5, unequal weights.
    std::vector<Real> weights{0.25f, 0.1f, 0.2f, 0.15f, 0.2f, 0.1f}, means, covariances;
    for (int c = 0; c < 6; ++c) {
        means.push_back(Real(2.5 * std::cos(c * M_PI / 3)));
        means.push_back(Real(2.5 * std::sin(c * M_PI / 3)));
        covariances.insert(covariances.end(), {0.06f, 0.f, 0.f, 0.06f});
    }
    const sgm::gaussian_mixture<Real> target(weights, means, covariances);
    // Kernel bandwidth: half the data's root-mean-square coordinate spread.
    const auto cov = target.covariance();
    const double bandwidth = 0.5 * std::sqrt(0.5 * double(cov[0] + cov[3]));

    // The null distribution: MMD² between independent data sets of the sample size.
    constexpr std::size_t n = 2000;
    constexpr int replicates = 24;
    double null_sq = 0;
    for (int r = 0; r < replicates; ++r) {
        const double v = mmd2(target.sample(n, 1000 + 2 * r), target.sample(n, 1001 + 2 * r), bandwidth);
        null_sq += v * v / replicates;
    }
    const double null_sd = std::sqrt(null_sq);  // the null mean is exactly 0 (unbiased estimator)
    // The samples must be as close to the data as a second data set, within 5 null
    // standard deviations. (Measured: 4000 steps land near 0.4 sd; 2000 steps, near 6.)
    const double threshold = 5 * null_sd;

    const auto data = target.sample(20000, 1);
    const sde_type sde;
    nn::mlp_config c;
    c.data_dim = 2;
    c.hidden = 64;
    c.depth = 2;
    c.embedding_size = 16;
    c.seed = 5;
    auto model = model_type(net_type(c), sde);
    train::trainer_options o;
    o.steps = 4000;
    o.batch_size = 256;
    o.seed = 11;
    o.ema_rate = 0.995;
    o.adam.learning_rate = 2e-3;
    o.adam.warmup = 100;
    train::trainer t(model, loss_type(sde), std::span<const Real>(data), 20000, o);

    const auto sample = [&](std::uint64_t seed) {
        sgm::pc_options p;
        p.count = n;
        p.seed = seed;
        return sgm::pc_sample(sde, model, sgm::reverse_diffusion{}, sgm::no_corrector{}, p, backend{}).samples.to_host();
    };
    const auto fresh = target.sample(n, 7);
    const double untrained = mmd2(sample(3), fresh, bandwidth);

    const auto summary = t.train();
    t.average().copy_to(t.parameters());  // sample with the EMA weights
    const double trained = mmd2(sample(3), fresh, bandwidth);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[quality] %zu steps of batch %zu in %.1f s (%.0f steps/s), final loss %.4f\n"
                "[quality] MMD² (n = %zu, h = %.3f): trained %.3g, untrained %.3g, threshold %.3g "
                "(5 × null sd %.3g); test took %.1f s\n",
                o.steps, o.batch_size, summary.seconds, summary.steps_per_second, summary.final_loss, n, bandwidth,
                trained, untrained, threshold, null_sd, seconds);
    CHECK(untrained > threshold);
    CHECK(trained < threshold);
}
