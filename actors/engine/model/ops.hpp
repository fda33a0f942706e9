// The operations an architecture's forward pass is written in, once, for every backend.
// Rules of the road (STYLE.md item 3, llama.cpp's src/models/*.cpp):
// - An architecture (dense_decoder, ...) loads its weights and runs its layers through this
//   interface only. The CPU backend (cpu_ops) computes each op in float32 as the numerical
//   reference; the CUDA backend (cuda_ops) launches kernels in its compute type. No backend
//   repeats a layer recipe, and fusions (residual add + norm, q|k|v in one GEMM) are ops or
//   weight layouts of their own.
// - Activations are `tensor` views of backend memory in the backend's compute type. The step
//   itself (token ids, positions, which sequence each token belongs to, the KV cache's block
//   tables, the rows whose logits are wanted) is the runner's business: it hands the step to its
//   backend before forward, and the ops that need it (embed, rope, attention, logits) read it
//   from there.
// - Ops are virtual: one call per op and layer, a few hundred per step, never per token. A CUDA
//   decode step is captured once into a graph and replayed, so the calls vanish there too.
#pragma once

#include "actors/common/check.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace proofmesh::engine {

class weight_source;

/// Activation rows in the backend's compute type.
struct tensor {
  void* data = nullptr;
  int64_t rows = 0;          // tokens of the step
  int64_t cols = 0;          // features per row
  int64_t stride = 0;        // elements between rows; >= cols
  int32_t element_bytes = 0; // sizeof the compute type

  /// Columns [begin, begin + count) of every row: a view, no copy.
  tensor columns(int64_t begin, int64_t count) const {
    return {.data = static_cast<char*>(data) + begin * element_bytes,
            .rows = rows, .cols = count, .stride = stride, .element_bytes = element_bytes};
  }
};

/// A weight the backend holds for its life, row-major: [rows, cols] for a matrix ([out, in] for
/// a linear layer, as Hugging Face stores it), [rows, 1] for a vector.
struct weight {
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  bool empty() const { return data == nullptr; }
};

/// One checkpoint tensor of a weight; several parts stack along rows (a fused weight).
struct weight_part {
  std::string name;           // checkpoint name, e.g. "model.layers.0.self_attn.q_proj.weight"
  std::vector<int64_t> shape; // the shape it must have: [rows, cols] or [rows]
};

/// The [rows, cols] of parts stacked along rows (data empty): what a backend's load allocates.
inline weight stacked_shape(std::span<const weight_part> parts) {
  PM_ASSERT(!parts.empty(), "a weight has at least one part");
  weight out{.cols = parts.front().shape.size() == 2 ? parts.front().shape[1] : 1};
  for (const weight_part& p : parts) {
    PM_ASSERT(p.shape.size() == parts.front().shape.size() &&
                  (p.shape.size() == 1 || p.shape[1] == out.cols),
              "fused parts share their rank and columns");
    out.rows += p.shape[0];
  }
  return out;
}

/// How one attention layer reads its cache.
struct attention_shape {
  int64_t heads = 0;    // query heads; a multiple of kv_heads
  int64_t kv_heads = 0; // cached heads (GQA groups)
  int64_t head_dim = 0;
  float scale = 0.0f;   // softmax scale
};

class ops {
public:
  virtual ~ops() = default;

  // ---- loading: once, before the first step ----
  /// The parts stacked along rows, fetched one at a time from `source` and kept in the compute
  /// type (a CUDA backend assembles a fused weight on the device). Every part has the same
  /// columns. input_error names a missing or misshapen tensor.
  virtual weight load(const weight_source& source, std::span<const weight_part> parts) = 0;
  /// A table computed on the host (rope frequencies), kept in float32: [values.size(), 1].
  virtual weight load_table(std::span<const float> values) = 0;
  /// Returns once every weight loaded so far is in place (a device backend's copies finish).
  virtual void finish_loading() {}

  // ---- activations: sized before each step, outside any graph capture ----
  /// Slot `slot` (the architecture's own numbering) as [rows, cols]. A slot keeps its memory
  /// between steps and grows to the largest step seen.
  virtual tensor scratch(int32_t slot, int64_t rows, int64_t cols) = 0;

  // ---- the forward pass ----
  /// out[t] = table[id of the step's token t].
  virtual void embed(const weight& table, tensor out) = 0;
  /// With a residual: x += residual first (the stream is written back). Then out = RMSNorm(x)
  /// with `w` ([cols, 1]); out may alias x only without a residual.
  virtual void rms_norm(tensor x, const tensor* residual, const weight& w, tensor out,
                        float eps) = 0;
  /// In place, RMSNorm over each of the `heads` sub-rows of x, of length w.rows (QK-norm).
  virtual void head_rms_norm(tensor x, int64_t heads, const weight& w, float eps) = 0;
  /// y = x · wᵀ (+ bias, [w.rows, 1] or empty). y must not overlap x.
  virtual void linear(tensor x, const weight& w, const weight& bias, tensor y) = 0;
  /// In place, rotate-half rope on `heads` heads of `head_dim` in each row, at the step's
  /// positions, with `inv_freq` ([head_dim / 2, 1], from load_table).
  virtual void rope(tensor x, int64_t heads, int64_t head_dim, const weight& inv_freq) = 0;
  /// Writes the step's keys and values into layer `layer`'s cache, then causal attention of each
  /// query token over its sequence's cache up to its own position.
  virtual void attention(int64_t layer, tensor q, tensor k, tensor v, tensor out,
                         const attention_shape& shape) = 0;
  /// out = silu(gate) · up, where each row of gate_up holds gate then up (cols = 2 * out.cols).
  virtual void silu_mul(tensor gate_up, tensor out) = 0;
  /// float32 logits of the step's wanted rows of x, against `head` ([vocab, cols]).
  virtual void logits(tensor x, const weight& head) = 0;
};

} // namespace proofmesh::engine
