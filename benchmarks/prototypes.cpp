// Prototypes of faster steps, to show what the memory-traffic bound allows. They
// are not library code: float only, AVX2, serial_backend and tbb_backend.
//  - proto/noise_avx2:        fill_normal with 32 normals per AVX2 Philox call.
//  - proto/em_fused_scalar:   Euler–Maruyama with the library's scalar normal_block
//                             generated inside the update loop (no noise buffer).
//  - proto/em_fused_avx2:     the same with the AVX2 normals (32-element tiles).
//  - proto/langevin_fused_avx2: Langevin, one pass per sample: SIMD score norm,
//                             noise row into an L1 tile with its norm, update.

#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "bench_support.hpp"
#include "fast_noise.hpp"

namespace sgm_bench {

namespace {

enum class proto_kind { noise_avx2, em_fused_scalar, em_fused_avx2, langevin_fused_avx2 };

const char* name_of(proto_kind k) {
    switch (k) {
        case proto_kind::noise_avx2: return "proto/noise_avx2";
        case proto_kind::em_fused_scalar: return "proto/em_fused_scalar";
        case proto_kind::em_fused_avx2: return "proto/em_fused_avx2";
        case proto_kind::langevin_fused_avx2: return "proto/langevin_fused_avx2";
    }
    return "?";
}

// Bytes per element, as for the library steps: noise writes z; the fused steps
// read x and s and write x.
double bytes_per_elem(proto_kind k) { return k == proto_kind::noise_avx2 ? 4.0 : 12.0; }

// Calls tile(first_element, z, count) for the 32 normals of eight Philox blocks
// starting at global block 8·chunk, when those fill a contiguous run of the
// batch (D a multiple of 4, chunk within the batch); otherwise scatter(lane
// element index, value) for each normal that exists.
template <class Tile, class Scatter>
inline void with_chunk(std::size_t chunk, std::size_t size, std::size_t dim, sgm::random::noise_key key,
                       std::uint32_t draw, Tile tile, Scatter scatter) {
    const std::size_t blocks = (dim + 3) / 4, total = size * blocks, first = chunk * 8;
    const fast::block_lanes l = fast::lanes_at(first, blocks, key.first_sample);
    alignas(32) float z[32];
    fast::normals32(l.c0, _mm256_set1_epi32(static_cast<int>(draw)), l.c2, l.c3, key.seed, z);
    if (dim % 4 == 0 && first + 8 <= total) {
        tile(first * 4, z);
        return;
    }
    for (std::size_t lane = 0; lane < 8 && first + lane < total; ++lane) {
        const std::size_t sample = l.one_row ? l.sample[0] : l.sample[lane];
        const std::size_t block = l.one_row ? l.block[0] + lane : l.block[lane];
        const std::size_t base = sample * dim + block * 4, row_end = (sample + 1) * dim;
        for (std::size_t k = 0; k < 4 && base + k < row_end; ++k) scatter(base + k, z[4 * lane + k]);
    }
}

// Langevin for one sample in one pass over memory: the score row is read twice
// but the second read hits the cache; the noise row lives in a per-thread tile.
template <class Real, class SDE>
void langevin_row(std::size_t b, Real* x, const Real* s, std::size_t dim, sgm::random::noise_key key,
                  std::uint32_t draw, Real two_alpha_snr2) {
    thread_local std::vector<float> noise;
    if (noise.size() < dim + 32) noise.resize(dim + 32);
    const std::size_t blocks = (dim + 3) / 4;
    // Noise row: eight blocks per Philox call, lanes within the row.
    const std::uint64_t sample = key.first_sample + b;
    const __m256i c2 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(sample)));
    const __m256i c3 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(sample >> 32)));
    const __m256i c1 = _mm256_set1_epi32(static_cast<int>(draw));
    for (std::size_t first = 0; first < blocks; first += 8) {
        const __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first)),
                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        fast::normals32(c0, c1, c2, c3, key.seed, noise.data() + first * 4);
    }
    const float* z = noise.data();
    const Real* sr = s + b * dim;
    Real* xr = x + b * dim;
    // Norms with eight interleaved partial sums (a fixed order, so still
    // independent of threads and batch size).
    float ss[8] = {}, zz[8] = {};
    std::size_t j = 0;
    for (; j + 8 <= dim; j += 8)
        for (int k = 0; k < 8; ++k) ss[k] += sr[j + k] * sr[j + k], zz[k] += z[j + k] * z[j + k];
    for (int k = 0; j < dim; ++j, ++k) ss[k] += sr[j] * sr[j], zz[k] += z[j] * z[j];
    float s2 = 0, z2 = 0;
    for (int k = 0; k < 8; ++k) s2 += ss[k], z2 += zz[k];
    const Real ratio2 = z2 / s2;
    const Real eps = two_alpha_snr2 * ratio2;
    const Real noise_scale = std::sqrt(Real(2) * eps);
    for (std::size_t i = 0; i < dim; ++i) xr[i] = xr[i] + eps * sr[i] + noise_scale * z[i];
}

template <class Config>
void bm_proto(benchmark::State& state, proto_kind kind, std::size_t dim, std::size_t size, int threads) {
    using Real = float;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, std::size_t(threads));
    const auto be = Config::template make<Real>(threads);
    using Backend = std::remove_const_t<decltype(be)>;
    using SDE = sgm::vp_sde<Real>;
    const SDE sde;
    const sgm::random::noise_key key{7, 0};
    auto x = sgm::sample_prior(sde, size, dim, key, be);
    const auto saved = x.values();
    auto score = be.make_vector(size * dim);
    auto noise = be.make_vector(size * dim);
    Real* xs = x.data();
    Real* s = Backend::data(score);
    Real* zbuf = Backend::data(noise);
    const std::size_t n = size * dim;
    be.for_each_index(n, [=](std::size_t i) { s[i] = -xs[i]; });

    const auto step = sgm::step_info<Real>{Real(0.5), Real(1e-3), 500, 499};
    const sgm::reverse_time rev{sde};
    const Real t = step.t, dt = step.dt;
    const Real noise_scale = rev.diffusion(t) * std::sqrt(dt);
    const Real two_alpha_snr2 = Real(2) * sgm::langevin_alpha(sde, step.level) * Real(0.16 * 0.16);
    const std::size_t blocks = (dim + 3) / 4, chunks = (size * blocks + 7) / 8;
    std::uint32_t draw = 1;

    const auto run = [&] {
        const std::uint32_t d = draw++;
        switch (kind) {
            case proto_kind::noise_avx2:
                be.for_each_index(chunks, [=](std::size_t c) {
                    with_chunk(
                        c, size, dim, key, d, [=](std::size_t at, const float* z) { std::copy(z, z + 32, zbuf + at); },
                        [=](std::size_t at, float v) { zbuf[at] = v; });
                });
                break;
            case proto_kind::em_fused_scalar:
                be.for_each_index(size * blocks, [=](std::size_t i) {
                    const std::size_t b = i / blocks, block = i % blocks;
                    Real z[4];
                    sgm::random::normal_block<Real>(key.seed, key.first_sample + b, d, static_cast<std::uint32_t>(block), z);
                    const std::size_t first = b * dim + block * 4;
                    const std::size_t count = std::min<std::size_t>(4, dim - block * 4);
                    for (std::size_t k = 0; k < count; ++k) {
                        const std::size_t e = first + k;
                        xs[e] = xs[e] - rev.sde_drift(xs[e], s[e], t) * dt + noise_scale * z[k];
                    }
                });
                break;
            case proto_kind::em_fused_avx2:
                be.for_each_index(chunks, [=](std::size_t c) {
                    with_chunk(
                        c, size, dim, key, d,
                        [=](std::size_t at, const float* z) {
                            for (std::size_t k = 0; k < 32; ++k) {
                                const std::size_t e = at + k;
                                xs[e] = xs[e] - rev.sde_drift(xs[e], s[e], t) * dt + noise_scale * z[k];
                            }
                        },
                        [=](std::size_t e, float z) {
                            xs[e] = xs[e] - rev.sde_drift(xs[e], s[e], t) * dt + noise_scale * z;
                        });
                });
                break;
            case proto_kind::langevin_fused_avx2:
                be.for_each_index(size, [=](std::size_t b) {
                    langevin_row<Real, SDE>(b, xs, s, dim, key, d, two_alpha_snr2);
                });
                break;
        }
    };
    const auto restore = [&] { be.copy(saved, x.values()); };
    const step_time per_step = timed_loop(state, run, restore, kind != proto_kind::noise_avx2);
    benchmark::DoNotOptimize(x.data());
    report(state, per_step, n, bytes_per_elem(kind), threads);

    if (kind == proto_kind::noise_avx2) {
        // Largest deviation from the library's normals for the last draw.
        auto reference = be.make_vector(n);
        sgm::random::fill_normal(be, Backend::data(reference), size, dim, key, draw - 1);
        const Real* r = Backend::data(reference);
        double worst = 0;
        for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, double(std::fabs(r[i] - zbuf[i])));
        state.counters["max_abs_diff"] = worst;
    }
}

template <class Config>
void register_config() {
    const std::vector<int> thread_counts = Config::parallel ? std::vector<int>{1, 2} : std::vector<int>{1};
    for (const int threads : thread_counts)
        for (const std::size_t d : dims)
            for (const std::size_t b : batches)
                for (const proto_kind k : {proto_kind::noise_avx2, proto_kind::em_fused_scalar,
                                           proto_kind::em_fused_avx2, proto_kind::langevin_fused_avx2})
                    benchmark::RegisterBenchmark(bench_name(name_of(k), Config::name, "float", d, b, threads).c_str(),
                                                 &bm_proto<Config>, k, d, b, threads)
                        ->MinTime(min_time(d * b))
                        ->UseRealTime()
                        ->Unit(benchmark::kMicrosecond);
}

}  // namespace

void register_prototypes() {
    register_config<serial_config>();
    register_config<tbb_config>();
}

}  // namespace sgm_bench
