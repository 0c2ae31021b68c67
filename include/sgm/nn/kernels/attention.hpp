#pragma once
// Element kernels of single-head self-attention over the P = H·W positions of
// a C × P sample (self_attention.hpp), for backend loops. With q, k, v the
// C × P projections and s = 1/√C:
//
//   A_ij = softmax_j(s · Σ_c q[c, i] k[c, j])      attention_softmax   (n·P rows)
//   o[c, i] = Σ_j A_ij v[c, j]                     attention_mix       (n·C·P)
//
// and backward from dO:
//
//   dv[c, j] = Σ_i dO[c, i] A_ij                   attention_value_grad
//   dS_ij = s·A_ij (dA_ij − Σ_l A_il dA_il),  dA_ij = Σ_c dO[c, i] v[c, j]
//                                                  attention_score_grad (n·P rows)
//   dq[c, i] = Σ_j dS_ij k[c, j]                   attention_query_grad
//   dk[c, j] = Σ_i dS_ij q[c, i]                   attention_key_grad
//
// q, k, v, o and their gradients are n × C × P; A and dS are n × P × P.

#include <cmath>
#include <cstddef>

#include "../../config.hpp"

namespace sgm::nn::kernels {

struct attention_geometry {
    std::size_t channels, positions;  // C, P
};

// Row (b, i) of A; index b·P + i.
template <class Real>
struct attention_softmax {
    const Real* q;
    const Real* k;
    Real* attention;
    attention_geometry g;
    Real scale;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t p = g.positions, c = g.channels, b = index / p, i = index % p;
        const Real* qb = q + b * c * p;
        const Real* kb = k + b * c * p;
        Real* row = attention + index * p;
        Real top = 0;
        for (std::size_t j = 0; j < p; ++j) {
            Real s = 0;
            for (std::size_t ch = 0; ch < c; ++ch) s += qb[ch * p + i] * kb[ch * p + j];
            row[j] = s;
            top = j == 0 || s > top ? s : top;
        }
        Real total = 0;
        for (std::size_t j = 0; j < p; ++j) {
            row[j] = std::exp((row[j] - top) * scale);
            total += row[j];
        }
        for (std::size_t j = 0; j < p; ++j) row[j] /= total;
    }
};

// o[b, c, i] = Σ_j A[b, i, j] v[b, c, j]; index (b·C + c)·P + i.
template <class Real>
struct attention_mix {
    const Real* attention;
    const Real* v;
    Real* o;
    attention_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t p = g.positions, i = index % p, bc = index / p, b = bc / g.channels;
        const Real* row = attention + (b * p + i) * p;
        const Real* vc = v + bc * p;
        Real acc = 0;
        for (std::size_t j = 0; j < p; ++j) acc += row[j] * vc[j];
        o[index] = acc;
    }
};

// dv[b, c, j] = Σ_i dO[b, c, i] A[b, i, j]; index (b·C + c)·P + j.
template <class Real>
struct attention_value_grad {
    const Real* attention;
    const Real* d_mixed;
    Real* dv;
    attention_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t p = g.positions, j = index % p, bc = index / p, b = bc / g.channels;
        const Real* a = attention + b * p * p;
        const Real* dob = d_mixed + bc * p;
        Real acc = 0;
        for (std::size_t i = 0; i < p; ++i) acc += dob[i] * a[i * p + j];
        dv[index] = acc;
    }
};

// Row (b, i) of dS; index b·P + i.
template <class Real>
struct attention_score_grad {
    const Real* attention;
    const Real* d_mixed;
    const Real* v;
    Real* d_scores;
    attention_geometry g;
    Real scale;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t p = g.positions, c = g.channels, b = index / p, i = index % p;
        const Real* a = attention + index * p;
        const Real* dob = d_mixed + b * c * p;
        const Real* vb = v + b * c * p;
        Real* ds = d_scores + index * p;
        Real dot = 0;
        for (std::size_t j = 0; j < p; ++j) {
            Real da = 0;
            for (std::size_t ch = 0; ch < c; ++ch) da += dob[ch * p + i] * vb[ch * p + j];
            ds[j] = da;
            dot += a[j] * da;
        }
        for (std::size_t j = 0; j < p; ++j) ds[j] = scale * a[j] * (ds[j] - dot);
    }
};

// dq[b, c, i] = Σ_j dS[b, i, j] k[b, c, j]; index (b·C + c)·P + i.
template <class Real>
struct attention_query_grad {
    const Real* d_scores;
    const Real* k;
    Real* dq;
    attention_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t p = g.positions, i = index % p, bc = index / p, b = bc / g.channels;
        const Real* ds = d_scores + (b * p + i) * p;
        const Real* kc = k + bc * p;
        Real acc = 0;
        for (std::size_t j = 0; j < p; ++j) acc += ds[j] * kc[j];
        dq[index] = acc;
    }
};

// dk[b, c, j] = Σ_i dS[b, i, j] q[b, c, i]; index (b·C + c)·P + j.
template <class Real>
struct attention_key_grad {
    const Real* d_scores;
    const Real* q;
    Real* dk;
    attention_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t p = g.positions, j = index % p, bc = index / p, b = bc / g.channels;
        const Real* ds = d_scores + b * p * p;
        const Real* qc = q + bc * p;
        Real acc = 0;
        for (std::size_t i = 0; i < p; ++i) acc += ds[i * p + j] * qc[i];
        dk[index] = acc;
    }
};

}  // namespace sgm::nn::kernels
