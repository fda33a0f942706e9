// The lightning indexer's scores on tensor cores, in bf16 at DeepSeek-V3.2's widths (head_dim
// 128, up to 64 heads, a multiple of 16): index_topk's fast path for its first launch; not a
// public interface. score[t, s] = Σ_h w[t, h] · weight_scale · relu(scale · q[t, h] · k[s]) for
// every position s up to the token's own, into p.scores.
#pragma once

#include "kernels/cuda/index_topk.cuh"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace proofmesh::kernels::cuda {

/// Whether p's scores take the tensor-core kernel: bf16, the widths above, rows and pointers
/// 16-byte aligned.
bool index_scores_mma_supports(const index_topk_params<__nv_bfloat16>& p);

cudaError_t index_scores_mma(const index_topk_params<__nv_bfloat16>& p, cudaStream_t stream);

} // namespace proofmesh::kernels::cuda
