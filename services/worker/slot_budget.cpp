#include "services/worker/slot_budget.hpp"

#include "actors/common/check.hpp"

#include <algorithm>

namespace proofmesh::worker {

slot_budget::slot_budget(uint32_t slots, size_t roles)
    : target_(roles == 1 ? slots
                         : std::max<uint32_t>(1, slots / static_cast<uint32_t>(4 * roles))),
      pool_(slots), credit_(roles, 0), held_(roles, 0) {
  PM_ASSERT(roles >= 1 && slots >= roles, "at least one slot per role (checked by the config)");
}

uint32_t slot_budget::refill(size_t role) {
  if (credit_[role] >= target_) {
    return 0;
  }
  const uint32_t grant = std::min(pool_, target_ - credit_[role]);
  credit_[role] += grant;
  pool_ -= grant;
  return grant;
}

std::vector<uint32_t> slot_budget::start() {
  std::vector<uint32_t> grants(credit_.size());
  for (size_t r = 0; r < credit_.size(); ++r) {
    grants[r] = refill(r);
  }
  return grants;
}

uint32_t slot_budget::on_task(size_t role) {
  PM_ASSERT(can_take(role), "a task beyond the budget is refused, not held");
  if (credit_[role] > 0) {
    --credit_[role];
  } else {
    --pool_;
  }
  ++held_[role];
  return refill(role);
}

std::vector<uint32_t> slot_budget::on_free(size_t role) {
  PM_ASSERT(held_[role] > 0, "a slot is freed by the role that held it");
  --held_[role];
  ++pool_;
  std::vector<uint32_t> grants(credit_.size(), 0);
  const size_t n = credit_.size();
  // Roles at 0 credit first (they have work and wait for it), then any under target.
  for (bool empty_only : {true, false}) {
    for (size_t k = 0; k < n && pool_ > 0; ++k) {
      const size_t r = (next_ + k) % n;
      if (empty_only && credit_[r] > 0) {
        continue;
      }
      if (uint32_t g = refill(r); g > 0) {
        grants[r] += g;
        next_ = (r + 1) % n;
      }
    }
  }
  return grants;
}

} // namespace proofmesh::worker
