// The plan cache of gemm: one cuBLASLt matmul descriptor, three matrix layouts and one heuristic
// algorithm per problem key. Describe (layouts, descriptor), plan (heuristic, cached), launch
// (cublasLtMatmul with the bias pointer of this call) — STYLE.md item 8.
#include "kernels/cuda/gemm.cuh"

#include <map>
#include <tuple>

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

bool is_supported(cudaDataType_t a, cudaDataType_t out) {
  if (a == CUDA_R_16BF) {
    return out == CUDA_R_16BF || out == CUDA_R_32F;
  }
  return a == CUDA_R_32F && out == CUDA_R_32F;
}

// m, n, k, a_type, out_type, has bias, alignments of x, w, y and bias.
using plan_key =
    std::tuple<int64_t, int64_t, int64_t, int, int, bool, uint32_t, uint32_t, uint32_t, uint32_t>;

struct gemm_plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t w_layout = nullptr; // A: [k, n] column-major, ld k, op T
  cublasLtMatrixLayout_t x_layout = nullptr; // B: [k, m] column-major, ld k, op N
  cublasLtMatrixLayout_t y_layout = nullptr; // C = D: [n, m] column-major, ld n
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
  const cublasOperation_t op_t = CUBLAS_OP_T;
  const cublasOperation_t op_n = CUBLAS_OP_N;
  PM_CUBLAS_TRY(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_t,
                                               sizeof(op_t)));
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
  PM_CUBLAS_TRY(cublasLtMatrixLayoutCreate(&plan.w_layout, p.a_type, static_cast<uint64_t>(p.k),
                                           static_cast<uint64_t>(p.n), p.k));
  PM_CUBLAS_TRY(cublasLtMatrixLayoutCreate(&plan.x_layout, p.a_type, static_cast<uint64_t>(p.k),
                                           static_cast<uint64_t>(p.m), p.k));
  PM_CUBLAS_TRY(cublasLtMatrixLayoutCreate(&plan.y_layout, p.out_type,
                                           static_cast<uint64_t>(p.n), static_cast<uint64_t>(p.m),
                                           p.n));

  cublasLtMatmulPreference_t pref = nullptr;
  PM_CUBLAS_TRY(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t workspace = gemm_workspace_bytes;
  const uint32_t align_w = std::get<7>(key);
  const uint32_t align_x = std::get<6>(key);
  const uint32_t align_y = std::get<8>(key);
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
  const bool has_bias = p.bias != nullptr;
  const plan_key key{p.m,
                     p.n,
                     p.k,
                     static_cast<int>(p.a_type),
                     static_cast<int>(p.out_type),
                     has_bias,
                     alignment_of(p.x),
                     alignment_of(p.w),
                     alignment_of(p.y),
                     has_bias ? alignment_of(p.bias) : 256u};
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
