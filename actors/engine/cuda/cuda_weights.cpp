#include "actors/engine/cuda/cuda_weights.hpp"

#include "actors/engine/weights/half_precision.hpp"

#include <cuda_bf16.h>

#include <algorithm>
#include <thread>

namespace proofmesh::engine {

namespace {

template <typename T>
std::vector<T> convert(const std::vector<float>& values) {
  if constexpr (std::is_same_v<T, float>) {
    return values;
  } else {
    // An 8B model is 8 billion conversions: split big tensors over the cores.
    std::vector<T> out(values.size());
    auto range = [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        __nv_bfloat16_raw raw;
        raw.x = f32_to_bf16(values[i]); // round to nearest even, as torch's .to(bfloat16)
        out[i] = __nv_bfloat16(raw);
      }
    };
    const size_t parts = values.size() < (size_t{1} << 20)
                             ? 1
                             : std::max<size_t>(1, std::thread::hardware_concurrency());
    const size_t step = (values.size() + parts - 1) / parts;
    std::vector<std::thread> workers;
    for (size_t p = 1; p < parts; ++p) {
      workers.emplace_back(range, std::min(values.size(), p * step),
                           std::min(values.size(), (p + 1) * step));
    }
    range(0, std::min(values.size(), step));
    for (auto& w : workers) {
      w.join();
    }
    return out;
  }
}

template <typename T>
device_array<T> to_device(const std::vector<float>& values) {
  device_array<T> out;
  if (values.empty()) {
    return out;
  }
  std::vector<T> converted = convert<T>(values);
  out.reserve(converted.size());
  PM_CUDA_CHECK(cudaMemcpy(out.get(), converted.data(), converted.size() * sizeof(T),
                           cudaMemcpyHostToDevice));
  return out;
}

std::vector<float> concat(std::initializer_list<const std::vector<float>*> parts) {
  std::vector<float> out;
  for (const auto* p : parts) {
    out.insert(out.end(), p->begin(), p->end());
  }
  return out;
}

} // namespace

template <typename T>
cuda_weights<T> upload_weights(const model_config& config, const model_weights& host) {
  cuda_weights<T> w;
  w.embed = to_device<T>(host.embed);
  for (const layer_weights& l : host.layers) {
    cuda_layer_weights<T> d;
    d.input_norm = to_device<T>(l.input_norm);
    // Row-major [out, in] matrices concatenate along the output dimension.
    d.wqkv = to_device<T>(concat({&l.wq, &l.wk, &l.wv}));
    if (config.qkv_bias) {
      d.bqkv = to_device<T>(concat({&l.bq, &l.bk, &l.bv}));
    }
    d.q_norm = to_device<T>(l.q_norm);
    d.k_norm = to_device<T>(l.k_norm);
    d.wo = to_device<T>(l.wo);
    d.bo = to_device<T>(l.bo);
    d.post_norm = to_device<T>(l.post_norm);
    d.w_gate_up = to_device<T>(concat({&l.w_gate, &l.w_up}));
    d.w_down = to_device<T>(l.w_down);
    w.layers.push_back(std::move(d));
  }
  w.final_norm = to_device<T>(host.final_norm);
  w.lm_head = to_device<T>(host.lm_head);
  return w;
}

template cuda_weights<float> upload_weights<float>(const model_config&, const model_weights&);
template cuda_weights<__nv_bfloat16> upload_weights<__nv_bfloat16>(const model_config&,
                                                                   const model_weights&);

} // namespace proofmesh::engine
