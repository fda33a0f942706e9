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

/// The block of an FP8 checkpoint's scales: one float32 weight_scale_inv per [rows, cols] block.
struct fp8_block {
  int64_t rows = 0; // 0: the tensor must not be FP8
  int64_t cols = 0;
};

/// One checkpoint tensor of a weight; several parts stack along rows (a fused weight).
struct weight_part {
  std::string name;           // checkpoint name, e.g. "model.layers.0.self_attn.q_proj.weight"
  std::vector<int64_t> shape; // the shape it must have: [rows, cols] or [rows]
  /// Where set, the checkpoint may store this part as e4m3, with NAME_scale_inv beside it
  /// ([ceil(rows / block.rows), ceil(cols / block.cols)] float32; w = q * scale_inv).
  fp8_block fp8;
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

/// Which dimensions of each head a rope call rotates, and how (kernels/cpu/rope.hpp).
struct rope_shape {
  int64_t heads = 0;        // heads in each row
  int64_t head_stride = 0;  // elements between heads of a row
  int64_t dim = 0;          // rotated dimensions, from each head's first
  bool interleaved = false; // pairs (2i, 2i+1) instead of (i, i + dim/2)
  float scale = 1.0f;       // YaRN's attention factor on cos and sin
};

/// DeepSeek's multi-head latent attention over one layer's latent cache.
struct mla_shape {
  int64_t heads = 0;
  int64_t nope_dim = 0;   // per head: q·k without position
  int64_t rope_dim = 0;   // per head: q·k with position; the rope key is shared by all heads
  int64_t v_dim = 0;      // per head: values
  int64_t latent_dim = 0; // kv_lora_rank: what kv_b expands to every head's keys and values
  float scale = 0.0f;     // softmax scale
  bool sparse = false;    // attend only to the keys the layer's last index_select chose
};

/// DeepSeek-V3.2's lightning indexer: which cached keys each query attends to.
struct index_shape {
  int64_t heads = 0;
  int64_t head_dim = 0;
  int64_t topk = 0;           // keys kept per query; all of them when fewer are visible
  float scale = 0.0f;         // on q·k, inside the ReLU: head_dim^-0.5
  float weight_scale = 0.0f;  // on the per-head weights: heads^-0.5
};

/// DeepSeekMoE's routed experts, each expert's rows stacked in expert order.
struct moe_weights {
  weight router;          // [experts, hidden]; router logits are float32
  weight correction_bias; // [experts] float32 table (load_table): added for the choice only
  weight gate_up;         // [experts * 2 * intermediate, hidden]: expert e's gate | up at row e*2I
  weight down;            // [experts * hidden, intermediate]: expert e's down at row e*hidden
};

struct moe_shape {
  int64_t experts = 0;
  int64_t per_token = 0;    // experts chosen per token (num_experts_per_tok)
  int64_t groups = 0;       // n_group: experts split in equal groups
  int64_t groups_kept = 0;  // topk_group: groups a token chooses from, by the sum of their top 2
  int64_t intermediate = 0; // moe_intermediate_size
  float scaling = 1.0f;     // routed_scaling_factor, on the routing weights
  bool normalize = true;    // norm_topk_prob: chosen weights renormalised to sum to 1
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
  /// out = LayerNorm(x) with weight `w` and `bias` ([cols, 1]); out may alias x.
  virtual void layer_norm(tensor x, const weight& w, const weight& bias, tensor out,
                          float eps) = 0;
  /// In place, rope on the first shape.dim dimensions of each of shape.heads heads in each row
  /// (pass a columns() view to start at a later column), at the step's positions, with
  /// `inv_freq` ([dim / 2, 1], from load_table).
  virtual void rope(tensor x, const rope_shape& shape, const weight& inv_freq) = 0;
  /// Writes the step's keys and values into layer `layer`'s cache, then causal attention of each
  /// query token over its sequence's cache up to its own position.
  virtual void attention(int64_t layer, tensor q, tensor k, tensor v, tensor out,
                         const attention_shape& shape) = 0;
  /// MLA: writes the step's latent rows (latent: [tokens, latent_dim + rope_dim], the normed
  /// latent then the roped key) into layer `layer`'s cache, then causal attention of each query
  /// (q: [tokens, heads * (nope_dim + rope_dim)], roped) over its sequence's cache, with
  /// kv_b ([heads * (nope_dim + v_dim), latent_dim]) giving every head's nope keys and values
  /// from the latent. out: [tokens, heads * v_dim]. A backend may expand keys and values or
  /// absorb kv_b into q and out; the result is the same.
  virtual void mla_attention(int64_t layer, tensor q, tensor latent, const weight& kv_b,
                             tensor out, const mla_shape& shape) = 0;
  /// The DSA indexer: writes the step's keys (k: [tokens, head_dim]) into layer `layer`'s index
  /// cache, scores each query's visible keys as sum_h w[t,h] * weight_scale *
  /// relu(scale * q[t,h] . k[s]) (q: [tokens, heads * head_dim], head_weights: [tokens, heads]),
  /// and keeps the top `topk` (ties to the earlier key) for the layer's next sparse attention.
  virtual void index_select(int64_t layer, tensor q, tensor k, tensor head_weights,
                            const index_shape& shape) = 0;
  /// out += the routed experts' sum for each token (DeepSeekMoE; moe_weights says how).
  virtual void moe(tensor x, const moe_weights& w, const moe_shape& shape, tensor out) = 0;
  /// out = silu(gate) · up, where each row of gate_up holds gate then up (cols = 2 * out.cols).
  virtual void silu_mul(tensor gate_up, tensor out) = 0;
  /// The MLP's activation: act = silu(x · gateᵀ) · (x · upᵀ), w stacking [gate; up], with
  /// gate_up ([rows, w.rows]) its scratch. This form is linear, then silu_mul; a backend may
  /// fuse the two (the CUDA one does for one and two rows), and then need not fill gate_up.
  virtual void mlp_activation(tensor x, const weight& w, tensor gate_up, tensor act) {
    linear(x, w, {}, gate_up);
    silu_mul(gate_up, act);
  }
  /// float32 logits of the step's wanted rows of x, against `head` ([vocab, cols]).
  virtual void logits(tensor x, const weight& head) = 0;
};

} // namespace proofmesh::engine
