// CUDA kernels of the device backend: the same two jobs as the OpenCL source
// (opencl_kernels.hpp), with larger tiles for a GPU. No cuBLAS: the distance
// kernel is a register-tiled matrix product written out (128 x 128 outputs
// per block of 256 threads, 8 x 8 per thread, 8 dimensions staged in shared
// memory per step, operands read as float4), rows read as f32 or as __half
// widened on load.
#pragma once
#include <cuda_fp16.h>
#include <cstdint>

namespace ragwire::cuda_kernels {

constexpr int kBM = 128, kBN = 128, kBK = 8, kThreads = 256, kWG = 256;

template <bool F16>
__device__ __forceinline__ float load_row(const void* x, size_t i) {
  if constexpr (F16)
    return __half2float(static_cast<const __half*>(x)[i]);
  else
    return static_cast<const float*>(x)[i];
}

// METRIC: 0 l2, 1 ip, 2 cosine, 3 l1. D[i * ld + j] = distance(query q0 + i, row row0 + j); masked rows NaN.
// Thread (tx, ty) owns rows ty*4 + {0..3} and 64 + ty*4 + {0..3} of the block, and the same of its
// columns: its operands come from shared memory as float4s (4 wide loads per step, not 16).
template <int METRIC, bool F16>
__global__ void __launch_bounds__(kThreads)
    distances(const float* __restrict__ Q, const float* __restrict__ qn, size_t q0, int nq, const void* __restrict__ X,
              const float* __restrict__ xn, size_t row0, int nrows, const uint8_t* __restrict__ mask, uint32_t id0,
              int dim, float* __restrict__ D, size_t ld) {
  __shared__ __align__(16) float Qs[kBK][kBM];
  __shared__ __align__(16) float Xs[kBK][kBN];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int i0 = blockIdx.y * kBM, j0 = blockIdx.x * kBN;
  const int lr = threadIdx.x >> 1, lk = (threadIdx.x & 1) * 4;  // each thread stages 4 dims of one row
  const bool q_in = i0 + lr < nq, x_in = j0 + lr < nrows;
  const float* qrow = Q + (q0 + (size_t)(q_in ? i0 + lr : 0)) * dim;
  const size_t xrow = (row0 + (size_t)(x_in ? j0 + lr : 0)) * dim;
  const bool vec = (dim & 3) == 0;  // rows start 16-byte aligned: stage with one wide load
  float acc[8][8];
#pragma unroll
  for (int a = 0; a < 8; a++)
#pragma unroll
    for (int b = 0; b < 8; b++) acc[a][b] = 0.f;

  for (int k0 = 0; k0 < dim; k0 += kBK) {
    int kk = k0 + lk;
    float qv[4], xv[4];
    if (vec && kk + 3 < dim) {
      float4 q4 = q_in ? *reinterpret_cast<const float4*>(qrow + kk) : make_float4(0.f, 0.f, 0.f, 0.f);
      qv[0] = q4.x;
      qv[1] = q4.y;
      qv[2] = q4.z;
      qv[3] = q4.w;
      if constexpr (F16) {
        if (x_in) {
          uint2 raw = *reinterpret_cast<const uint2*>(static_cast<const __half*>(X) + xrow + kk);
          float2 lo = __half22float2(*reinterpret_cast<const __half2*>(&raw.x));
          float2 hi = __half22float2(*reinterpret_cast<const __half2*>(&raw.y));
          xv[0] = lo.x;
          xv[1] = lo.y;
          xv[2] = hi.x;
          xv[3] = hi.y;
        } else {
          xv[0] = xv[1] = xv[2] = xv[3] = 0.f;
        }
      } else {
        float4 x4 = x_in ? *reinterpret_cast<const float4*>(static_cast<const float*>(X) + xrow + kk)
                         : make_float4(0.f, 0.f, 0.f, 0.f);
        xv[0] = x4.x;
        xv[1] = x4.y;
        xv[2] = x4.z;
        xv[3] = x4.w;
      }
    } else {
#pragma unroll
      for (int e = 0; e < 4; e++) {
        bool in = kk + e < dim;
        qv[e] = q_in && in ? qrow[kk + e] : 0.f;
        xv[e] = x_in && in ? load_row<F16>(X, xrow + kk + e) : 0.f;
      }
    }
#pragma unroll
    for (int e = 0; e < 4; e++) {
      Qs[lk + e][lr] = qv[e];
      Xs[lk + e][lr] = xv[e];
    }
    __syncthreads();
#pragma unroll
    for (int c = 0; c < kBK; c++) {
      float a[8], b[8];
      *reinterpret_cast<float4*>(a) = *reinterpret_cast<const float4*>(&Qs[c][ty * 4]);
      *reinterpret_cast<float4*>(a + 4) = *reinterpret_cast<const float4*>(&Qs[c][64 + ty * 4]);
      *reinterpret_cast<float4*>(b) = *reinterpret_cast<const float4*>(&Xs[c][tx * 4]);
      *reinterpret_cast<float4*>(b + 4) = *reinterpret_cast<const float4*>(&Xs[c][64 + tx * 4]);
#pragma unroll
      for (int wi = 0; wi < 8; wi++)
#pragma unroll
        for (int wj = 0; wj < 8; wj++) {
          if constexpr (METRIC == 3)
            acc[wi][wj] += fabsf(a[wi] - b[wj]);
          else
            acc[wi][wj] = fmaf(a[wi], b[wj], acc[wi][wj]);
        }
    }
    __syncthreads();
  }
#pragma unroll
  for (int wi = 0; wi < 8; wi++) {
    int i = i0 + (wi < 4 ? ty * 4 + wi : 64 + ty * 4 + wi - 4);
    if (i >= nq) continue;
#pragma unroll
    for (int wj = 0; wj < 8; wj++) {
      int j = j0 + (wj < 4 ? tx * 4 + wj : 64 + tx * 4 + wj - 4);
      if (j >= nrows) continue;
      float v = acc[wi][wj];
      if constexpr (METRIC == 0)
        v = fmaxf(qn[q0 + i] + xn[row0 + j] - 2.f * v, 0.f);
      else if constexpr (METRIC == 1 || METRIC == 2)
        v = -v;
      uint32_t id = id0 + (uint32_t)j;
      if (mask && !((mask[id >> 3] >> (id & 7)) & 1)) v = __int_as_float(0x7fffffff);
      D[(size_t)i * ld + j] = v;
    }
  }
}

__device__ __forceinline__ uint32_t key_of(float f) {
  uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0xffffffffu;
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// One block per query: the keep smallest of (running list, D row) by a 4-pass
// radix select, then an ordered compaction (see opencl_kernels.hpp).
__global__ void __launch_bounds__(kWG)
    select_topk(const float* __restrict__ D, size_t ld, uint32_t ncols, uint32_t id0, float* best_d, uint32_t* best_i,
                float* tmp_d, uint32_t* tmp_i, size_t q0, uint32_t keep) {
  const uint32_t q = blockIdx.x, t = threadIdx.x;
  const float* drow = D + (size_t)q * ld;
  float* bd = best_d + (q0 + q) * keep;
  uint32_t* bi = best_i + (q0 + q) * keep;
  float* td = tmp_d + (q0 + q) * keep;
  uint32_t* ti = tmp_i + (q0 + q) * keep;
  const uint32_t total = keep + ncols;
  __shared__ uint32_t hist[256];
  __shared__ uint32_t sh_digit, sh_remaining;
  __shared__ uint32_t cnt_lt[kWG], cnt_eq[kWG];
  uint32_t prefix = 0, pmask = 0, remaining = keep;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (uint32_t b = t; b < 256; b += kWG) hist[b] = 0;
    __syncthreads();
    for (uint32_t c = t; c < total; c += kWG) {
      uint32_t key = key_of(c < keep ? bd[c] : drow[c - keep]);
      if ((key & pmask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (t == 0) {
      uint32_t cum = 0, digit = 255;
      for (uint32_t b = 0; b < 256; b++) {
        if (cum + hist[b] >= remaining) {
          digit = b;
          break;
        }
        cum += hist[b];
      }
      sh_digit = digit;
      sh_remaining = remaining - cum;
    }
    __syncthreads();
    prefix |= sh_digit << shift;
    pmask |= 0xffu << shift;
    remaining = sh_remaining;
    __syncthreads();
  }
  const uint32_t per = (total + kWG - 1) / kWG;
  const uint32_t c0 = min(total, t * per), c1 = min(total, c0 + per);
  uint32_t lt = 0, eq = 0;
  for (uint32_t c = c0; c < c1; c++) {
    uint32_t key = key_of(c < keep ? bd[c] : drow[c - keep]);
    lt += key < prefix;
    eq += key == prefix;
  }
  cnt_lt[t] = lt;
  cnt_eq[t] = eq;
  __syncthreads();
  if (t == 0) {
    uint32_t a = 0, b = 0;
    for (uint32_t i = 0; i < kWG; i++) {
      uint32_t x = cnt_lt[i], y = cnt_eq[i];
      cnt_lt[i] = a;
      cnt_eq[i] = b;
      a += x;
      b += y;
    }
  }
  __syncthreads();
  uint32_t olt = cnt_lt[t], oeq = cnt_eq[t];
  const uint32_t below = keep - remaining;
  for (uint32_t c = c0; c < c1; c++) {
    float v;
    uint32_t id;
    if (c < keep) {
      v = bd[c];
      id = bi[c];
    } else {
      v = drow[c - keep];
      id = id0 + (c - keep);
    }
    uint32_t key = key_of(v);
    if (key < prefix) {
      td[olt] = v;
      ti[olt] = id;
      olt++;
    } else if (key == prefix && oeq < remaining) {
      td[below + oeq] = v;
      ti[below + oeq] = key == 0xffffffffu ? 0xffffffffu : id;
      oeq++;
    }
  }
  __syncthreads();
  for (uint32_t c = t; c < keep; c += kWG) {
    bd[c] = td[c];
    bi[c] = ti[c];
  }
}

__global__ void probe(int* out) { *out = 42; }

}  // namespace ragwire::cuda_kernels
