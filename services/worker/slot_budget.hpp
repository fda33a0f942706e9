// One budget of engine slots shared by the roles a worker serves (--roles), handed to each role's
// coordinator link as credit. Rules of the road:
// - The worker never promises more than it has: for every role, tasks held plus credit not yet
//   used, summed over the roles, plus the free pool, is always the slot count.
// - A role is promised at most `target` slots ahead of use: all slots for a single role (as a
//   dedicated worker always did), else max(1, slots / (4 * roles)). A role whose coordinator has
//   no work for it therefore holds at most `target` idle slots, and the rest go where the work is.
// - No role starves. A role with work spends its credit down to 0; a freed slot goes first to a
//   role at 0 credit, in round-robin order among them, so such a role gets one within `roles`
//   frees. While the pool has slots, a role is refilled to its target the moment a task arrives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace proofmesh::worker {

class slot_budget {
public:
  /// At least one slot per role.
  slot_budget(uint32_t slots, size_t roles);

  /// Credit to grant each role at start.
  std::vector<uint32_t> start();
  /// Whether a task of `role` that arrives now has a slot: its credit, or the free pool (a
  /// coordinator sends only on credit; one beyond it is refused, never held).
  bool can_take(size_t role) const { return credit_[role] > 0 || pool_ > 0; }
  /// A task of `role` arrived (can_take) and now holds a slot. Credit to grant it now.
  uint32_t on_task(size_t role);
  /// A slot `role` held is free again (its task ended, or was refused). Credit to grant each role.
  std::vector<uint32_t> on_free(size_t role);

  uint32_t target() const { return target_; }
  uint32_t credit(size_t role) const { return credit_[role]; }
  uint32_t held(size_t role) const { return held_[role]; }
  uint32_t pool() const { return pool_; }

private:
  uint32_t refill(size_t role);

  uint32_t target_;
  uint32_t pool_;
  std::vector<uint32_t> credit_; // promised, not yet used
  std::vector<uint32_t> held_;   // tasks running
  size_t next_ = 0;              // round-robin start for freed slots
};

} // namespace proofmesh::worker
