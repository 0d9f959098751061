// OpenCL C source of the device kernels, built at run time per (metric,
// storage) with -DMETRIC=0..3 (l2, ip, cosine, l1) and -DROW_F16=0|1.
#pragma once

namespace ragwire::opencl {

inline const char* kernel_source() {
  return R"CLC(
#define TS 64   /* a work-group computes a TS x TS block of distances */
#define BK 16   /* dimensions staged in local memory per step */
#define WPT 4   /* each work-item: WPT x WPT distances, 16 apart */
#define WG 256  /* selection work-group */

#if ROW_F16
#define ROW_T half
#define LOAD_ROW(p, i) vload_half((i), (p))
#else
#define ROW_T float
#define LOAD_ROW(p, i) ((p)[(i)])
#endif

#if METRIC == 3
#define ACC(acc, a, b) acc += fabs((a) - (b))
#else
#define ACC(acc, a, b) acc = fma((a), (b), acc)
#endif

/* D[i * ld + j] = distance(query q0 + i, row row0 + j); masked-out rows get NaN. */
__kernel __attribute__((reqd_work_group_size(16, 16, 1)))
void distances(__global const float* Q, __global const float* qnorm, ulong q0, uint nq,
               __global const ROW_T* X, __global const float* xnorm, ulong row0, uint nrows,
               __global const uchar* mask, uint use_mask, uint id0, uint dim,
               __global float* D, ulong ld) {
  const int tx = get_local_id(0), ty = get_local_id(1);
  const int tid = ty * 16 + tx;
  const int j0 = get_group_id(0) * TS, i0 = get_group_id(1) * TS;
  __local float Qs[BK][TS + 1];
  __local float Xs[BK][TS + 1];
  float acc[WPT][WPT];
  for (int a = 0; a < WPT; a++)
    for (int b = 0; b < WPT; b++) acc[a][b] = 0.0f;
  for (uint k0 = 0; k0 < dim; k0 += BK) {
    for (int l = 0; l < (TS * BK) / 256; l++) {
      int e = tid + l * 256;
      int r = e / BK, c = e % BK;
      uint kk = k0 + c;
      int qi = i0 + r, xj = j0 + r;
      Qs[c][r] = (qi < (int)nq && kk < dim) ? Q[(q0 + qi) * dim + kk] : 0.0f;
      Xs[c][r] = (xj < (int)nrows && kk < dim) ? LOAD_ROW(X, (row0 + xj) * dim + kk) : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int c = 0; c < BK; c++) {
      float a[WPT], b[WPT];
      for (int w = 0; w < WPT; w++) {
        a[w] = Qs[c][ty + 16 * w];
        b[w] = Xs[c][tx + 16 * w];
      }
      for (int wi = 0; wi < WPT; wi++)
        for (int wj = 0; wj < WPT; wj++) ACC(acc[wi][wj], a[wi], b[wj]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  for (int wi = 0; wi < WPT; wi++) {
    int i = i0 + ty + 16 * wi;
    if (i >= (int)nq) continue;
    for (int wj = 0; wj < WPT; wj++) {
      int j = j0 + tx + 16 * wj;
      if (j >= (int)nrows) continue;
      float v = acc[wi][wj];
#if METRIC == 0
      v = fmax(qnorm[q0 + i] + xnorm[row0 + j] - 2.0f * v, 0.0f);
#elif METRIC == 1 || METRIC == 2
      v = -v;
#endif
      uint id = id0 + (uint)j;
      if (use_mask && !((mask[id >> 3] >> (id & 7)) & 1)) v = as_float(0x7fffffffu);
      D[(ulong)i * ld + j] = v;
    }
  }
}

/* Ordered key of a distance: smaller distance, smaller key; NaN (empty) largest. */
inline uint key_of(float f) {
  uint u = as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0xffffffffu;
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* One work-group per query: the keep smallest of (running list, D row) by a
   4-pass radix select on the keys, then an ordered compaction (ties at the
   threshold go to the earliest candidates: the running list, then lower ids). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void select_topk(__global const float* D, ulong ld, uint ncols, uint id0,
                 __global float* best_d, __global uint* best_i, __global float* tmp_d, __global uint* tmp_i,
                 ulong q0, uint keep) {
  const uint q = get_group_id(0);
  const uint t = get_local_id(0);
  __global const float* drow = D + (ulong)q * ld;
  __global float* bd = best_d + (q0 + q) * keep;
  __global uint* bi = best_i + (q0 + q) * keep;
  __global float* td = tmp_d + (q0 + q) * keep;
  __global uint* ti = tmp_i + (q0 + q) * keep;
  const uint total = keep + ncols;
  __local uint hist[256];
  __local uint sh_digit, sh_remaining;
  __local uint cnt_lt[WG], cnt_eq[WG];
  uint prefix = 0, pmask = 0, remaining = keep;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (uint b = t; b < 256; b += WG) hist[b] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint c = t; c < total; c += WG) {
      uint key = key_of(c < keep ? bd[c] : drow[c - keep]);
      if ((key & pmask) == prefix) atomic_inc(&hist[(key >> shift) & 255u]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (t == 0) {
      uint cum = 0, digit = 255;
      for (uint b = 0; b < 256; b++) {
        if (cum + hist[b] >= remaining) { digit = b; break; }
        cum += hist[b];
      }
      sh_digit = digit;
      sh_remaining = remaining - cum;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    prefix |= sh_digit << shift;
    pmask |= 0xffu << shift;
    remaining = sh_remaining;
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const uint per = (total + WG - 1) / WG;
  const uint c0 = min(total, t * per), c1 = min(total, c0 + per);
  uint lt = 0, eq = 0;
  for (uint c = c0; c < c1; c++) {
    uint key = key_of(c < keep ? bd[c] : drow[c - keep]);
    lt += key < prefix;
    eq += key == prefix;
  }
  cnt_lt[t] = lt;
  cnt_eq[t] = eq;
  barrier(CLK_LOCAL_MEM_FENCE);
  if (t == 0) {
    uint a = 0, b = 0;
    for (uint i = 0; i < WG; i++) {
      uint x = cnt_lt[i], y = cnt_eq[i];
      cnt_lt[i] = a;
      cnt_eq[i] = b;
      a += x;
      b += y;
    }
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  uint olt = cnt_lt[t], oeq = cnt_eq[t];
  const uint below = keep - remaining;
  for (uint c = c0; c < c1; c++) {
    float v;
    uint id;
    if (c < keep) { v = bd[c]; id = bi[c]; } else { v = drow[c - keep]; id = id0 + (c - keep); }
    uint key = key_of(v);
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
  barrier(CLK_GLOBAL_MEM_FENCE);
  for (uint c = t; c < keep; c += WG) {
    bd[c] = td[c];
    bi[c] = ti[c];
  }
}
)CLC";
}

}  // namespace ragwire::opencl
