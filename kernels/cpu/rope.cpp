#include "kernels/cpu/rope.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace proofmesh::kernels::cpu {

namespace {

float llama3_scaled(float f, const rope_freq_params& p) {
  double low_wavelen = p.original_max_position / p.low_freq_factor;
  double high_wavelen = p.original_max_position / p.high_freq_factor;
  double wavelen = 2.0 * std::numbers::pi / f;
  if (wavelen > low_wavelen) {
    return static_cast<float>(f / p.factor);
  }
  if (wavelen >= high_wavelen) {
    double smooth = (p.original_max_position / wavelen - p.low_freq_factor) /
                    (p.high_freq_factor - p.low_freq_factor);
    return static_cast<float>((1.0 - smooth) * f / p.factor + smooth * f);
  }
  return f;
}

// transformers' _compute_yarn_parameters: the correction range in double (Python floats), the
// ramp and the blend in float32 (torch tensors).
std::vector<float> yarn_inv_freq(const rope_freq_params& p) {
  const int64_t dim = p.head_dim;
  auto correction_dim = [&](double rotations) {
    return (static_cast<double>(dim) *
            std::log(p.original_max_position / (rotations * 2 * std::numbers::pi))) /
           (2 * std::log(p.theta));
  };
  double low = correction_dim(p.beta_fast);
  double high = correction_dim(p.beta_slow);
  if (p.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) {
    high += 0.001; // transformers: prevent a singularity
  }
  std::vector<float> inv(static_cast<size_t>(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) {
    const float pos_freq =
        std::pow(static_cast<float>(p.theta), static_cast<float>(2 * i) / static_cast<float>(dim));
    const float extrapolation = 1.0f / pos_freq;
    const float interpolation = 1.0f / (static_cast<float>(p.factor) * pos_freq);
    const float ramp = std::clamp((static_cast<float>(i) - static_cast<float>(low)) /
                                      static_cast<float>(high - low),
                                  0.0f, 1.0f);
    const float extrapolation_factor = 1.0f - ramp;
    inv[static_cast<size_t>(i)] = interpolation * (1.0f - extrapolation_factor) +
                                  extrapolation * extrapolation_factor;
  }
  return inv;
}

} // namespace

std::vector<float> rope_inv_freq(const rope_freq_params& p) {
  if (p.scaling == rope_scaling::rope_scaling_yarn) {
    return yarn_inv_freq(p);
  }
  int64_t half = p.head_dim / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    // transformers: 1.0 / base ** (arange(0, dim, 2).float() / dim), in float32.
    float exponent = static_cast<float>(2 * i) / static_cast<float>(p.head_dim);
    float f = 1.0f / std::pow(static_cast<float>(p.theta), exponent);
    inv[static_cast<size_t>(i)] =
        p.scaling == rope_scaling::rope_scaling_llama3 ? llama3_scaled(f, p) : f;
  }
  return inv;
}

void rope(const rope_params& p) {
  int64_t half = p.head_dim / 2;
  std::vector<float> cos_v(static_cast<size_t>(half)), sin_v(static_cast<size_t>(half));
  // Rotate-half pairs (i, i + half); interleaved pairs (2i, 2i + 1).
  const int64_t first_step = p.interleaved ? 2 : 1;
  const int64_t second_offset = p.interleaved ? 1 : half;
  for (int64_t t = 0; t < p.tokens; ++t) {
    float pos = static_cast<float>(p.positions[t]);
    for (int64_t i = 0; i < half; ++i) {
      float angle = pos * p.inv_freq[i];
      cos_v[static_cast<size_t>(i)] = std::cos(angle) * p.scale;
      sin_v[static_cast<size_t>(i)] = std::sin(angle) * p.scale;
    }
    for (int64_t h = 0; h < p.heads; ++h) {
      float* v = p.x + t * p.token_stride + h * p.head_stride;
      for (int64_t i = 0; i < half; ++i) {
        float& first = v[i * first_step];
        float& second = v[i * first_step + second_offset];
        float a = first;
        float b = second;
        float c = cos_v[static_cast<size_t>(i)];
        float s = sin_v[static_cast<size_t>(i)];
        first = a * c - b * s;
        second = b * c + a * s;
      }
    }
  }
}

} // namespace proofmesh::kernels::cpu
