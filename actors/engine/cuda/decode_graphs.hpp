// CUDA graphs of decode steps, in batch-size buckets. A decode step of a small model is ~150
// kernels of a few microseconds each, so launching them one by one from the host costs as much as
// running them; a captured graph replays the whole step with one launch.
// Rules of the road:
// - A graph is captured for a shape: the bucket (the batch size rounded up to 1, 2, 4, 8, then
//   multiples of 8 up to max_graph_batch), the block-table width (a power of two), and the epoch
//   of the runner's scratch buffers. The runner pads the step to that shape; padded tokens write
//   no KV and their rows are never read.
// - Graphs bake in device pointers: when a scratch buffer grows (moves), the runner bumps its
//   epoch and every older graph is dropped here, never replayed.
// - Capture is lazy: the first step of a shape captures it (the kernels do not run during
//   capture), then every step of that shape, that one included, launches the instantiated graph.
// - At most max_live_graphs stay instantiated; capturing one more destroys the least recently
//   launched.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <map>
#include <tuple>

namespace proofmesh::engine {

inline constexpr int64_t max_graph_batch = 512;
inline constexpr size_t max_live_graphs = 96; // least recently used ones go first

struct decode_graph_shape {
  int64_t bucket;      // padded batch size
  int64_t table_width; // block-table row length, a power of two
  uint64_t epoch;      // scratch-buffer generation the graph points into
  auto operator<=>(const decode_graph_shape&) const = default;
};

class decode_graphs {
public:
  decode_graphs() = default;
  ~decode_graphs();
  decode_graphs(const decode_graphs&) = delete;
  decode_graphs& operator=(const decode_graphs&) = delete;

  /// The bucket for a decode batch of `batch` sequences, or 0 when it is too large for a graph.
  static int64_t bucket_for(int64_t batch);
  /// The table width for a step whose longest block table has `blocks` entries.
  static int64_t width_for(int64_t blocks);

  /// Launches the graph of `shape` on `stream`, capturing `record` (which enqueues the step's
  /// kernels on `stream`) first if this shape has none.
  void launch(const decode_graph_shape& shape, cudaStream_t stream,
              const std::function<void()>& record);

  int64_t num_captured() const { return captures_; }
  int64_t num_live() const { return static_cast<int64_t>(graphs_.size()); }

private:
  void drop_older_than(uint64_t epoch);

  struct live_graph {
    cudaGraphExec_t exec;
    uint64_t last_launch;
  };
  std::map<decode_graph_shape, live_graph> graphs_;
  int64_t captures_ = 0;
  uint64_t launches_ = 0;
};

} // namespace proofmesh::engine
