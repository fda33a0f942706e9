// The plan cache of gemm: one cuBLASLt matmul descriptor, three matrix layouts and one heuristic
// algorithm per problem key. Describe (layouts, descriptor), plan (heuristic, cached), launch
// (cublasLtMatmul with the bias pointer of this call) — STYLE.md item 8.
#include "kernels/cuda/gemm.cuh"

#include <array>
#include <map>

namespace proofmesh::kernels::cuda {

namespace {

cudaError_t to_cuda_error(cublasStatus_t s) {
  switch (s) {
  case CUBLAS_STATUS_SUCCESS:
    return cudaSuccess;
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return cudaErrorInitializationError;
  case CUBLAS_STATUS_ALLOC_FAILED:
    return cudaErrorMemoryAllocation;
  case CUBLAS_STATUS_INVALID_VALUE:
    return cudaErrorInvalidValue;
  case CUBLAS_STATUS_ARCH_MISMATCH:
    return cudaErrorNoKernelImageForDevice;
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return cudaErrorNotSupported;
  case CUBLAS_STATUS_EXECUTION_FAILED:
    return cudaErrorLaunchFailure;
  default:
    return cudaErrorUnknown;
  }
}

#define PM_CUBLAS_TRY(expr)                        \
  do {                                             \
    cublasStatus_t pm_status_ = (expr);            \
    if (pm_status_ != CUBLAS_STATUS_SUCCESS) {     \
      return to_cuda_error(pm_status_);            \
    }                                              \
  } while (0)

// cuBLASLt picks kernels by the alignment it may assume of each buffer (256 bytes unless told
// less), so a cached algorithm is only reused for pointers at least as aligned as the ones it
// was chosen for.
uint32_t alignment_of(const void* p) {
  uint32_t a = 256;
  while (a > 1 && reinterpret_cast<uintptr_t>(p) % a != 0) {
    a /= 2;
  }
  return a;
}

int64_t ld_of(int64_t ld, int64_t dense) { return ld > 0 ? ld : dense; }

bool is_supported(cudaDataType_t a, cudaDataType_t out) {
  if (a == CUDA_R_16BF) {
    return out == CUDA_R_16BF || out == CUDA_R_32F;
  }
  return a == CUDA_R_32F && out == CUDA_R_32F;
}

// m, n, k, a_type, out_type, has bias, alignments of x, w, y and bias, then the layout: x_ld,
// y_ld, w_kn, batch and the three batch strides.
using plan_key = std::array<int64_t, 17>;
enum key_field : size_t { align_x_at = 6, align_w_at = 7, align_y_at = 8 };

plan_key key_of(const gemm_params& p) {
  const bool has_bias = p.bias != nullptr;
  return {p.m,
          p.n,
          p.k,
          static_cast<int64_t>(p.a_type),
          static_cast<int64_t>(p.out_type),
          has_bias,
          alignment_of(p.x),
          alignment_of(p.w),
          alignment_of(p.y),
          has_bias ? alignment_of(p.bias) : 256,
          p.x_ld,
          p.y_ld,
          p.w_kn,
          p.batch,
          p.x_batch,
          p.w_batch,
          p.y_batch};
}

// A strided batch of `batch` matrices `offset` elements apart; one matrix needs nothing set.
cublasStatus_t set_batch(cublasLtMatrixLayout_t layout, int64_t batch, int64_t offset) {
  if (batch == 1) {
    return CUBLAS_STATUS_SUCCESS;
  }
  const auto count = static_cast<int32_t>(batch);
  cublasStatus_t s = cublasLtMatrixLayoutSetAttribute(
      layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count));
  if (s == CUBLAS_STATUS_SUCCESS) {
    s = cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                         &offset, sizeof(offset));
  }
  return s;
}

struct gemm_plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t w_layout = nullptr; // A: [k, n] column-major, ld k, op T (w_kn:
                                             //    [n, k], ld n, op N)
  cublasLtMatrixLayout_t x_layout = nullptr; // B: [k, m] column-major, ld x_ld, op N
  cublasLtMatrixLayout_t y_layout = nullptr; // C = D: [n, m] column-major, ld y_ld
  cublasLtMatmulAlgo_t algo{};
};

void destroy_plan(gemm_plan& plan) {
  if (plan.y_layout != nullptr) {
    cublasLtMatrixLayoutDestroy(plan.y_layout);
  }
  if (plan.x_layout != nullptr) {
    cublasLtMatrixLayoutDestroy(plan.x_layout);
  }
  if (plan.w_layout != nullptr) {
    cublasLtMatrixLayoutDestroy(plan.w_layout);
  }
  if (plan.desc != nullptr) {
    cublasLtMatmulDescDestroy(plan.desc);
  }
  plan = gemm_plan{};
}

// Describes the problem and asks the heuristic for its best algorithm. On failure the caller
// destroys the partly built plan.
cudaError_t build_plan(const gemm_handle& h, const gemm_params& p, const plan_key& key,
                       gemm_plan& plan) {
  PM_CUBLAS_TRY(cublasLtMatmulDescCreate(&plan.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t op_w = p.w_kn ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cublasOperation_t op_n = CUBLAS_OP_N;
  PM_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_w,
                                               sizeof(op_w)));
  PM_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_n,
                                               sizeof(op_n)));
  if (p.bias != nullptr) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    PM_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                 &epilogue, sizeof(epilogue)));
    // The heuristic reads the bias pointer's alignment.
    PM_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                 &p.bias, sizeof(p.bias)));
  }
  const auto m = static_cast<uint64_t>(p.m), n = static_cast<uint64_t>(p.n),
             k = static_cast<uint64_t>(p.k);
  if (p.w_kn) {
    PM_CUBLAS_TRY(cublasLtMatrixLayoutCreate(&plan.w_layout, p.a_type, n, k, p.n));
  } else {
    PM_CUBLAS_TRY(cublasLtMatrixLayoutCreate(&plan.w_layout, p.a_type, k, n, p.k));
  }
  PM_CUBLAS_TRY(cublasLtMatrixLayoutCreate(&plan.x_layout, p.a_type, k, m, ld_of(p.x_ld, p.k)));
  PM_CUBLAS_TRY(cublasLtMatrixLayoutCreate(&plan.y_layout, p.out_type, n, m, ld_of(p.y_ld, p.n)));
  PM_CUBLAS_TRY(set_batch(plan.w_layout, p.batch, p.w_batch));
  PM_CUBLAS_TRY(set_batch(plan.x_layout, p.batch, p.x_batch));
  PM_CUBLAS_TRY(set_batch(plan.y_layout, p.batch, p.y_batch));

  cublasLtMatmulPreference_t pref = nullptr;
  PM_CUBLAS_TRY(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t workspace = gemm_workspace_bytes;
  const auto align_w = static_cast<uint32_t>(key[align_w_at]);
  const auto align_x = static_cast<uint32_t>(key[align_x_at]);
  const auto align_y = static_cast<uint32_t>(key[align_y_at]);
  cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
  if (s == CUBLAS_STATUS_SUCCESS) {
    s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                             &align_w, sizeof(align_w));
  }
  if (s == CUBLAS_STATUS_SUCCESS) {
    s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                             &align_x, sizeof(align_x));
  }
  if (s == CUBLAS_STATUS_SUCCESS) {
    s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                             &align_y, sizeof(align_y));
  }
  if (s == CUBLAS_STATUS_SUCCESS) {
    s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                             &align_y, sizeof(align_y));
  }
  // Split-K partial sums must add up in float32: reductions "in place" or "in the output type"
  // would round each partial to bf16.
  if (s == CUBLAS_STATUS_SUCCESS) {
    const uint32_t schemes = CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
    s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK,
                                             &schemes, sizeof(schemes));
  }
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  if (s == CUBLAS_STATUS_SUCCESS) {
    s = cublasLtMatmulAlgoGetHeuristic(h.lt, plan.desc, plan.w_layout, plan.x_layout,
                                       plan.y_layout, plan.y_layout, pref, 1, &result, &found);
  }
  cublasLtMatmulPreferenceDestroy(pref);
  PM_CUBLAS_TRY(s);
  if (found == 0) {
    return cudaErrorNotSupported;
  }
  plan.algo = result.algo;
  return cudaSuccess;
}

} // namespace

struct gemm_plan_cache {
  std::map<plan_key, gemm_plan> plans;
};

cudaError_t gemm_handle_create(gemm_handle& h) {
  h = gemm_handle{};
  cudaError_t err = cudaMalloc(&h.workspace, gemm_workspace_bytes);
  if (err == cudaSuccess) {
    err = to_cuda_error(cublasLtCreate(&h.lt));
  }
  if (err == cudaSuccess) {
    h.plans = new gemm_plan_cache;
  }
  if (err != cudaSuccess) {
    gemm_handle_destroy(h);
  }
  return err;
}

cudaError_t gemm_handle_destroy(gemm_handle& h) {
  cudaError_t err = cudaSuccess;
  if (h.plans != nullptr) {
    for (auto& [key, plan] : h.plans->plans) {
      destroy_plan(plan);
    }
    delete h.plans;
  }
  if (h.lt != nullptr) {
    err = to_cuda_error(cublasLtDestroy(h.lt));
  }
  if (h.workspace != nullptr) {
    cudaError_t free_err = cudaFree(h.workspace);
    if (err == cudaSuccess) {
      err = free_err;
    }
  }
  h = gemm_handle{};
  return err;
}

cudaError_t gemm(gemm_handle& h, const gemm_params& p, cudaStream_t stream) {
  if (p.m < 0 || p.n <= 0 || p.k <= 0 || !is_supported(p.a_type, p.out_type)) {
    return cudaErrorInvalidValue;
  }
  if (p.m == 0) {
    return cudaSuccess;
  }
  if (h.lt == nullptr || h.plans == nullptr || p.x == nullptr || p.w == nullptr ||
      p.y == nullptr) {
    return cudaErrorInvalidValue;
  }
  if (p.x_ld < 0 || (p.x_ld > 0 && p.x_ld < p.k) || p.y_ld < 0 || (p.y_ld > 0 && p.y_ld < p.n) ||
      p.batch < 1 || p.batch > INT32_MAX || p.x_batch < 0 || p.w_batch < 0 || p.y_batch < 0 ||
      (p.batch > 1 && p.bias != nullptr)) {
    return cudaErrorInvalidValue;
  }
  const bool has_bias = p.bias != nullptr;
  const plan_key key = key_of(p);
  auto it = h.plans->plans.find(key);
  if (it == h.plans->plans.end()) {
    gemm_plan plan;
    cudaError_t err = build_plan(h, p, key, plan);
    if (err != cudaSuccess) {
      destroy_plan(plan);
      return err;
    }
    it = h.plans->plans.emplace(key, plan).first;
  }
  const gemm_plan& plan = it->second;
  if (has_bias) {
    PM_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                 &p.bias, sizeof(p.bias)));
  }
  const float alpha = 1.0f;
  const float beta = 0.0f;
  PM_CUBLAS_TRY(cublasLtMatmul(h.lt, plan.desc, &alpha, p.w, plan.w_layout, p.x, plan.x_layout,
                               &beta, p.y, plan.y_layout, p.y, plan.y_layout, &plan.algo,
                               h.workspace, gemm_workspace_bytes, stream));
  return cudaGetLastError();
}

} // namespace proofmesh::kernels::cuda
