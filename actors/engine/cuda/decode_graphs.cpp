#include "actors/engine/cuda/decode_graphs.hpp"

#include "actors/engine/cuda/cuda_error.hpp"

#include <algorithm>
#include <bit>

namespace proofmesh::engine {

namespace {

// Ends a capture that an exception interrupted, so the stream is usable again.
class capture_guard {
public:
  explicit capture_guard(cudaStream_t stream) : stream_(stream) {}
  ~capture_guard() {
    if (stream_ != nullptr) {
      cudaGraph_t graph = nullptr;
      cudaStreamEndCapture(stream_, &graph);
      if (graph != nullptr) {
        cudaGraphDestroy(graph);
      }
      cudaGetLastError(); // the failed capture's error is reported by the exception in flight
    }
  }
  cudaGraph_t end() {
    cudaGraph_t graph = nullptr;
    cudaStream_t s = stream_;
    stream_ = nullptr;
    PM_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
    return graph;
  }

private:
  cudaStream_t stream_;
};

} // namespace

decode_graphs::~decode_graphs() {
  for (auto& [shape, g] : graphs_) {
    cudaGraphExecDestroy(g.exec);
  }
}

int64_t decode_graphs::bucket_for(int64_t batch) {
  if (batch <= 0 || batch > max_graph_batch) {
    return 0;
  }
  if (batch <= 8) {
    return static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(batch)));
  }
  return (batch + 7) / 8 * 8;
}

int64_t decode_graphs::width_for(int64_t blocks) {
  return static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(std::max<int64_t>(blocks, 8))));
}

void decode_graphs::drop_older_than(uint64_t epoch) {
  for (auto it = graphs_.begin(); it != graphs_.end();) {
    if (it->first.epoch < epoch) {
      cudaGraphExecDestroy(it->second.exec);
      it = graphs_.erase(it);
    } else {
      ++it;
    }
  }
}

void decode_graphs::launch(const decode_graph_shape& shape, cudaStream_t stream,
                           const std::function<void()>& record) {
  drop_older_than(shape.epoch);
  auto it = graphs_.find(shape);
  if (it == graphs_.end() && graphs_.size() >= max_live_graphs) {
    auto oldest = std::min_element(graphs_.begin(), graphs_.end(), [](const auto& a, const auto& b) {
      return a.second.last_launch < b.second.last_launch;
    });
    cudaGraphExecDestroy(oldest->second.exec);
    graphs_.erase(oldest);
  }
  if (it == graphs_.end()) {
    // Thread-local mode: other threads' CUDA calls (another runner's) are not captured and do
    // not invalidate this capture.
    PM_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    cudaGraph_t graph = nullptr;
    {
      capture_guard guard(stream);
      record();
      graph = guard.end();
    }
    cudaGraphExec_t exec = nullptr;
    cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    PM_CUDA_CHECK(err);
    it = graphs_.emplace(shape, live_graph{exec, 0}).first;
    ++captures_;
  }
  it->second.last_launch = ++launches_;
  PM_CUDA_CHECK(cudaGraphLaunch(it->second.exec, stream));
}

} // namespace proofmesh::engine
