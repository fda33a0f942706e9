// When `proofmesh up` starts a service again after it died, as systemd's Restart=always with a
// start limit would: after 0.5 s, doubling up to 8 s while it keeps dying within a minute of its
// start; a run of a minute or more resets both the delay and the count. Five quick deaths in a
// row mean it cannot run here: up then stops the mesh and exits 1.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

namespace proofmesh::cli {

class restart_policy {
public:
  static constexpr std::chrono::milliseconds first_delay{500};
  static constexpr std::chrono::milliseconds max_delay{8000};
  static constexpr std::chrono::seconds quick{60};
  static constexpr int max_quick_deaths = 5;

  /// The wait before the next start after a death `ran` after the last start; nullopt: give up.
  std::optional<std::chrono::milliseconds> on_death(std::chrono::steady_clock::duration ran) {
    if (ran >= quick) {
      quick_deaths_ = 0;
      delay_ = first_delay;
    }
    if (++quick_deaths_ > max_quick_deaths) {
      return std::nullopt;
    }
    const std::chrono::milliseconds wait = delay_;
    delay_ = std::min(max_delay, delay_ * 2);
    return wait;
  }

private:
  std::chrono::milliseconds delay_ = first_delay;
  int quick_deaths_ = 0;
};

} // namespace proofmesh::cli
