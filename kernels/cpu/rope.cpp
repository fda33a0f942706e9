#include "kernels/cpu/rope.hpp"

#include <cmath>
#include <numbers>

namespace proofmesh::kernels::cpu {

std::vector<float> rope_inv_freq(const rope_freq_params& p) {
  int64_t half = p.head_dim / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    // transformers: 1.0 / base ** (arange(0, dim, 2).float() / dim), in float32.
    float exponent = static_cast<float>(2 * i) / static_cast<float>(p.head_dim);
    float f = 1.0f / std::pow(static_cast<float>(p.theta), exponent);
    if (p.llama3) {
      double low_wavelen = p.original_max_position / p.low_freq_factor;
      double high_wavelen = p.original_max_position / p.high_freq_factor;
      double wavelen = 2.0 * std::numbers::pi / f;
      if (wavelen > low_wavelen) {
        f = static_cast<float>(f / p.factor);
      } else if (wavelen >= high_wavelen) {
        double smooth = (p.original_max_position / wavelen - p.low_freq_factor) /
                        (p.high_freq_factor - p.low_freq_factor);
        f = static_cast<float>((1.0 - smooth) * f / p.factor + smooth * f);
      }
    }
    inv[static_cast<size_t>(i)] = f;
  }
  return inv;
}

void rope(const rope_params& p) {
  int64_t half = p.head_dim / 2;
  std::vector<float> cos_v(static_cast<size_t>(half)), sin_v(static_cast<size_t>(half));
  for (int64_t t = 0; t < p.tokens; ++t) {
    float pos = static_cast<float>(p.positions[t]);
    for (int64_t i = 0; i < half; ++i) {
      float angle = pos * p.inv_freq[i];
      cos_v[static_cast<size_t>(i)] = std::cos(angle);
      sin_v[static_cast<size_t>(i)] = std::sin(angle);
    }
    for (int64_t h = 0; h < p.heads; ++h) {
      float* v = p.x + t * p.token_stride + h * p.head_dim;
      for (int64_t i = 0; i < half; ++i) {
        float a = v[i];
        float b = v[i + half];
        float c = cos_v[static_cast<size_t>(i)];
        float s = sin_v[static_cast<size_t>(i)];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
      }
    }
  }
}

} // namespace proofmesh::kernels::cpu
