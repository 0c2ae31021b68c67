#pragma once
// Prototype (benchmarks only): the library's Philox4x32-10 + Box–Muller normals,
// eight Philox blocks (32 normals) at a time with AVX2. Philox is bit-exact; log,
// cos and sin are Cephes-style polynomials (single precision), so the normals
// agree with sgm::random::normal<float> to a few ulps, not bit for bit.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace sgm_bench::fast {

// Eight counters of Philox4x32: lane l is block {c0[l], c1, c2[l], c3[l]}.
inline void philox8(__m256i c0, __m256i c1, __m256i c2, __m256i c3, std::uint64_t seed, __m256i out[4]) {
    const __m256i m0 = _mm256_set1_epi32(static_cast<int>(0xD2511F53u));
    const __m256i m1 = _mm256_set1_epi32(static_cast<int>(0xCD9E8D57u));
    std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
    for (int round = 0; round < 10; ++round) {
        // 32×32 → 64-bit products of the even and the odd lanes.
        const __m256i p0e = _mm256_mul_epu32(c0, m0), p0o = _mm256_mul_epu32(_mm256_srli_epi64(c0, 32), m0);
        const __m256i p1e = _mm256_mul_epu32(c2, m1), p1o = _mm256_mul_epu32(_mm256_srli_epi64(c2, 32), m1);
        const __m256i lo0 = _mm256_blend_epi32(p0e, _mm256_slli_epi64(p0o, 32), 0xAA);
        const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(p0e, 32), p0o, 0xAA);
        const __m256i lo1 = _mm256_blend_epi32(p1e, _mm256_slli_epi64(p1o, 32), 0xAA);
        const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(p1e, 32), p1o, 0xAA);
        const __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0));
        const __m256i key1 = _mm256_set1_epi32(static_cast<int>(k1));
        c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), key0);
        c1 = lo1;
        c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), key1);
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

// (word + 1) · 2⁻³², rounded exactly as the scalar float conversion: (0, 1].
inline __m256 open_unit(__m256i w) {
    const __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(w, 16));
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(w, _mm256_set1_epi32(0xFFFF)));
    const __m256 f = _mm256_fmadd_ps(hi, _mm256_set1_ps(65536.0f), lo);
    return _mm256_mul_ps(_mm256_add_ps(f, _mm256_set1_ps(1.0f)), _mm256_set1_ps(2.3283064365386963e-10f));
}

// Natural log for x in [2⁻³², 1] (normal numbers), Cephes logf.
inline __m256 log_ps(__m256 x) {
    const __m256i xi = _mm256_castps_si256(x);
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(xi, 23), _mm256_set1_epi32(126)));
    __m256 m = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_and_si256(xi, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F000000)));
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
    e = _mm256_sub_ps(e, _mm256_and_ps(small, one));
    m = _mm256_add_ps(_mm256_sub_ps(m, one), _mm256_and_ps(small, m));  // m − 1, or 2m − 1
    const __m256 z = _mm256_mul_ps(m, m);
    __m256 p = _mm256_set1_ps(7.0376836292e-2f);
    p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.1514610310e-1f));
    p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(1.1676998740e-1f));
    p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.2420140846e-1f));
    p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(1.4249322787e-1f));
    p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.6668057665e-1f));
    p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(2.0000714765e-1f));
    p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-2.4999993993e-1f));
    p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(3.3333331174e-1f));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, m), z);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
    y = _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, y);
    return _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), _mm256_add_ps(m, y));
}

// cos(2πu) and sin(2πu) for u in (0, 1]: exact reduction to a quarter turn, then
// Cephes polynomials on [−π/4, π/4].
inline void sincos_turns(__m256 u, __m256& c, __m256& s) {
    const __m256 q = _mm256_round_ps(_mm256_mul_ps(u, _mm256_set1_ps(4.0f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 f = _mm256_fnmadd_ps(q, _mm256_set1_ps(0.25f), u);  // exact
    const __m256 th = _mm256_mul_ps(f, _mm256_set1_ps(6.283185307179586f));
    const __m256 z = _mm256_mul_ps(th, th);
    __m256 ps = _mm256_fmadd_ps(_mm256_set1_ps(-1.9515295891e-4f), z, _mm256_set1_ps(8.3321608736e-3f));
    ps = _mm256_fmadd_ps(ps, z, _mm256_set1_ps(-1.6666654611e-1f));
    const __m256 sn = _mm256_fmadd_ps(_mm256_mul_ps(ps, z), th, th);
    __m256 pc = _mm256_fmadd_ps(_mm256_set1_ps(2.443315711809948e-5f), z, _mm256_set1_ps(-1.388731625493765e-3f));
    pc = _mm256_fmadd_ps(pc, z, _mm256_set1_ps(4.166664568298827e-2f));
    const __m256 cs = _mm256_fmadd_ps(_mm256_mul_ps(pc, z), z, _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, _mm256_set1_ps(1.0f)));
    // Quadrant k = q mod 4: (cos, sin) of kπ/2 + θ.
    const __m256i k = _mm256_and_si256(_mm256_cvtps_epi32(q), _mm256_set1_epi32(3));
    const __m256 swap = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(k, _mm256_set1_epi32(1)), _mm256_set1_epi32(1)));
    const __m256 c0 = _mm256_blendv_ps(cs, sn, swap), s0 = _mm256_blendv_ps(sn, cs, swap);
    const __m256 neg_c = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_and_si256(_mm256_add_epi32(k, _mm256_set1_epi32(1)), _mm256_set1_epi32(2)), 30));
    const __m256 neg_s = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(k, _mm256_set1_epi32(2)), 30));
    c = _mm256_xor_ps(c0, neg_c);
    s = _mm256_xor_ps(s0, neg_s);
}

// The 32 normals of eight Philox blocks, in element order: lane l's four normals
// go to out[4l .. 4l+4).
inline void normals32(__m256i c0, __m256i c1, __m256i c2, __m256i c3, std::uint64_t seed, float* out) {
    __m256i w[4];
    philox8(c0, c1, c2, c3, seed, w);
    __m256 n[4];
    for (int pair = 0; pair < 2; ++pair) {
        const __m256 r = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), log_ps(open_unit(w[2 * pair]))));
        __m256 c, s;
        sincos_turns(open_unit(w[2 * pair + 1]), c, s);
        n[2 * pair] = _mm256_mul_ps(r, c);
        n[2 * pair + 1] = _mm256_mul_ps(r, s);
    }
    // 4 × 8 transpose into element order.
    const __m256 t0 = _mm256_unpacklo_ps(n[0], n[1]), t1 = _mm256_unpackhi_ps(n[0], n[1]);
    const __m256 t2 = _mm256_unpacklo_ps(n[2], n[3]), t3 = _mm256_unpackhi_ps(n[2], n[3]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(u0, u1, 0x20));
    _mm256_storeu_ps(out + 8, _mm256_permute2f128_ps(u2, u3, 0x20));
    _mm256_storeu_ps(out + 16, _mm256_permute2f128_ps(u0, u1, 0x31));
    _mm256_storeu_ps(out + 24, _mm256_permute2f128_ps(u2, u3, 0x31));
}

// Counters for the eight blocks first_block .. first_block+7 of a B × D batch
// (global block index = sample · blocks + block, blocks = ⌈D/4⌉). Built in
// registers: eight scalar stores read back as one vector stall store forwarding.
struct block_lanes {
    __m256i c0, c2, c3;
    std::uint32_t sample[8], block[8];  // per lane; filled when the lanes span rows
    bool one_row;                       // all eight lanes in row sample[0]
};

inline block_lanes lanes_at(std::size_t first_block, std::size_t blocks, std::uint64_t first_sample) {
    block_lanes l;
    std::size_t b = first_block / blocks, k = first_block % blocks;
    l.one_row = k + 8 <= blocks;
    if (l.one_row) {
        const std::uint64_t sample = first_sample + b;
        l.c0 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(k)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        l.c2 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(sample)));
        l.c3 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(sample >> 32)));
        l.sample[0] = static_cast<std::uint32_t>(b);
        l.block[0] = static_cast<std::uint32_t>(k);
        return l;
    }
    std::uint32_t c2[8], c3[8];
    for (int lane = 0; lane < 8; ++lane) {
        const std::uint64_t sample = first_sample + b;
        c2[lane] = static_cast<std::uint32_t>(sample);
        c3[lane] = static_cast<std::uint32_t>(sample >> 32);
        l.sample[lane] = static_cast<std::uint32_t>(b);
        l.block[lane] = static_cast<std::uint32_t>(k);
        if (++k == blocks) k = 0, ++b;
    }
    const auto vec = [](const std::uint32_t* v) {
        return _mm256_setr_epi32(static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]),
                                 static_cast<int>(v[3]), static_cast<int>(v[4]), static_cast<int>(v[5]),
                                 static_cast<int>(v[6]), static_cast<int>(v[7]));
    };
    l.c0 = vec(l.block);
    l.c2 = vec(c2);
    l.c3 = vec(c3);
    return l;
}

}  // namespace sgm_bench::fast
