// mma.sync fragments read straight from an FP8 (e4m3) K/V tile in shared memory, for the flash
// kernel's decode form: no widened copy of the tile, no second barrier. e4m3 codes widen exactly
// to f16 (cvt.f16x2.e4m3x2), so the products run as f16 mma (mma.cuh) with float32 accumulators;
// the per-key scales are applied outside the products (K's to the scores, V's to the
// probabilities).
//
// Layout of a tile: 64 key rows of HD codes, 16-byte chunks swizzled by code_chunk below.
// Two permutations make every fragment a wide load of consecutive codes, which a sum over the
// permuted index leaves unchanged (the block applies them to its queries and outputs alike):
//   the contraction dims of QK^T: in k-step s = 4h + j, thread t's k pairs (2t, 2t+1) and
//     (2t+8, 2t+9) are dims 64h + 16t + 4j + (0, 1) and (2, 3): one 16-byte chunk of a key row
//     serves four k-steps, and the query fragment is four consecutive dims;
//   the keys of a 16-key step: score tile nt's column n is key 4(n/2) + 2nt + n%2, so a thread's
//     scores (columns 2t, 2t+1 of tiles 0 and 1) are keys 4t..4t+3, which are also its k's in P V;
//   the output dims of P V: output tile d's column n is dim (HD/8) n + d, so a thread's V operand
//     for all HD/8 tiles is one run of HD/8 codes per key, transposed by byte permutes.
#pragma once

#include <cstdint>

namespace proofmesh::kernels::cuda {

/// The byte offset of 16-code chunk `chunk` of key row `row` in an FP8 tile of HD codes a row.
/// The swizzle keeps both fragment reads free of bank conflicts: the K read (rows r, r+1, chunks
/// t of one half) and, at HD 128, the V read (rows 4t + j for t = 0..3, chunks 0 and 1); at HD 64
/// four rows of one parity share 64 bytes of banks and the V read is two-way at best.
template <int HD>
__device__ __forceinline__ uint32_t code_chunk(int row, int chunk) {
  static_assert(HD == 64 || HD == 128);
  const int swizzle = HD == 128 ? ((row & 1) << 2) ^ (((row >> 2) & 3) << 1) : (row >> 2) & 3;
  return static_cast<uint32_t>(row * HD + (chunk ^ swizzle) * 16);
}

/// The four e4m3 codes of a word as two f16 pairs, exactly: codes 0, 1 in `lo`, 2, 3 in `hi`.
__device__ __forceinline__ void e4m3x4_to_f16x2(uint32_t codes, uint32_t& lo, uint32_t& hi) {
  asm("{\n .reg .b16 l, h;\n mov.b32 {l, h}, %2;\n cvt.rn.f16x2.e4m3x2 %0, l;\n"
      " cvt.rn.f16x2.e4m3x2 %1, h;\n}\n"
      : "=r"(lo), "=r"(hi)
      : "r"(codes));
}

/// A 4x4 byte transpose: byte i of in[j] becomes byte j of out[i].
__device__ __forceinline__ void transpose_bytes(const uint32_t (&in)[4], uint32_t (&out)[4]) {
  const uint32_t lo01 = __byte_perm(in[0], in[1], 0x5140), hi01 = __byte_perm(in[0], in[1], 0x7362);
  const uint32_t lo23 = __byte_perm(in[2], in[3], 0x5140), hi23 = __byte_perm(in[2], in[3], 0x7362);
  out[0] = __byte_perm(lo01, lo23, 0x5410);
  out[1] = __byte_perm(lo01, lo23, 0x7632);
  out[2] = __byte_perm(hi01, hi23, 0x5410);
  out[3] = __byte_perm(hi01, hi23, 0x7632);
}

} // namespace proofmesh::kernels::cuda
