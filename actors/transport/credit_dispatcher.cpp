#include "actors/transport/credit_dispatcher.hpp"

#include <algorithm>

namespace proofmesh::transport {

bool credit_dispatcher::enqueue(task_msg task) {
  if (num_queued() >= config_.max_queued) {
    return false;
  }
  lane_of(task).push_back(std::move(task));
  return true;
}

bool credit_dispatcher::grant(const worker_id& w, uint32_t slots, steady_time now) {
  auto it = workers_.find(w);
  if (it == workers_.end()) {
    if (workers_.size() >= config_.max_workers) {
      return false;
    }
    it = workers_.emplace(w, worker_state{}).first;
  }
  worker_state& s = it->second;
  s.credit = static_cast<uint32_t>(
      std::min<uint64_t>(static_cast<uint64_t>(s.credit) + slots, config_.max_credit));
  s.last_seen = now;
  return true;
}

bool credit_dispatcher::heartbeat(const worker_id& w, uint32_t capacity,
                                  uint32_t worker_in_flight, steady_time now) {
  auto it = workers_.find(w);
  if (it == workers_.end()) {
    if (capacity == 0) return true; // an older worker that does not tell: wait for its credit
    if (workers_.size() >= config_.max_workers) return false;
    it = workers_.emplace(w, worker_state{}).first;
  }
  worker_state& s = it->second;
  s.last_seen = now;
  if (worker_in_flight == 0 && s.in_flight.empty() && capacity > 0) {
    s.credit = std::min<uint32_t>(capacity, config_.max_credit);
  }
  return true;
}

void credit_dispatcher::touch(const worker_id& w, steady_time now) {
  if (auto it = workers_.find(w); it != workers_.end()) {
    it->second.last_seen = now;
  }
}

bool credit_dispatcher::complete(const worker_id& w, const std::string& task_id,
                                 steady_time now) {
  auto owner = owner_.find(task_id);
  if (owner == owner_.end() || owner->second != w) {
    return false; // late (re-dispatched elsewhere), cancelled, or never sent
  }
  worker_state& s = workers_.at(w);
  s.in_flight.erase(task_id);
  s.last_seen = now;
  owner_.erase(owner);
  lost_.erase(task_id);
  return true;
}

std::optional<worker_id> credit_dispatcher::cancel(const std::string& task_id) {
  lost_.erase(task_id);
  if (auto owner = owner_.find(task_id); owner != owner_.end()) {
    worker_id w = owner->second;
    workers_.at(w).in_flight.erase(task_id);
    owner_.erase(owner);
    return w;
  }
  for (std::deque<task_msg>* lane : {&interactive_, &queue_}) {
    std::erase_if(*lane, [&](const task_msg& t) { return t.task_id == task_id; });
  }
  return std::nullopt;
}

std::vector<worker_id> credit_dispatcher::expire(steady_time now) {
  std::vector<worker_id> dropped;
  std::vector<task_msg> orphans;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (now - it->second.last_seen <= config_.heartbeat_timeout) {
      ++it;
      continue;
    }
    for (auto& [id, task] : it->second.in_flight) {
      owner_.erase(id);
      orphans.push_back(std::move(task));
    }
    dropped.push_back(it->first);
    it = workers_.erase(it);
  }
  // Orphans go first, in task-id order (deterministic), ahead of newer work.
  for (auto it = orphans.rbegin(); it != orphans.rend(); ++it) {
    if (++lost_[it->task_id] > config_.max_requeues) {
      lost_.erase(it->task_id);
      abandoned_.push_back(std::move(*it));
      continue;
    }
    ++it->attempt;
    lane_of(*it).push_front(std::move(*it));
  }
  return dropped;
}

std::vector<task_msg> credit_dispatcher::take_abandoned() {
  std::vector<task_msg> out;
  out.swap(abandoned_);
  return out;
}

std::vector<assignment> credit_dispatcher::assign() {
  std::vector<assignment> out;
  while (num_queued() > 0) {
    // The worker with the most free credit (ties: the first by id, for determinism).
    auto best = workers_.end();
    for (auto it = workers_.begin(); it != workers_.end(); ++it) {
      if (it->second.credit > 0 && (best == workers_.end() || it->second.credit > best->second.credit)) {
        best = it;
      }
    }
    if (best == workers_.end()) {
      break;
    }
    std::deque<task_msg>& lane = interactive_.empty() ? queue_ : interactive_;
    task_msg task = std::move(lane.front());
    lane.pop_front();
    --best->second.credit;
    owner_[task.task_id] = best->first;
    best->second.in_flight[task.task_id] = task;
    out.push_back({best->first, std::move(task)});
  }
  return out;
}

uint32_t credit_dispatcher::credit(const worker_id& w) const {
  auto it = workers_.find(w);
  return it == workers_.end() ? 0 : it->second.credit;
}

} // namespace proofmesh::transport
