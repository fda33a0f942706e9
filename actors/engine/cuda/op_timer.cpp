#include "actors/engine/cuda/op_timer.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace proofmesh::engine {

bool op_timer::enabled_by_environment() {
  const char* v = std::getenv("PM_OP_TIMES");
  return v != nullptr && std::strcmp(v, "0") != 0 && *v != '\0';
}

op_timer::op_timer(cudaStream_t stream)
    : stream_(stream), enabled_(enabled_by_environment()),
      per_step_(enabled_ && std::strcmp(std::getenv("PM_OP_TIMES"), "steps") == 0) {}

op_timer::~op_timer() {
  for (const auto& [phase, ops] : totals_) { // empty unless enabled: collect() records nothing
    double all = 0;
    for (const auto& [name, t] : ops) {
      all += t.first;
    }
    std::fprintf(stderr, "op times (PM_OP_TIMES), %s steps: %.1f ms\n", phase.c_str(), all);
    for (const auto& [name, t] : ops) {
      std::fprintf(stderr, "  %-16s %10.2f ms %6.1f%% %8ld calls\n", name.c_str(), t.first,
                   100.0 * t.first / all, t.second);
    }
  }
  for (cudaEvent_t e : events_) {
    cudaEventDestroy(e);
  }
}

cudaEvent_t op_timer::event(size_t i) {
  while (events_.size() <= i) {
    cudaEvent_t e = nullptr;
    cudaEventCreate(&e);
    events_.push_back(e);
  }
  return events_[i];
}

op_timer::scope::scope(op_timer* timer, const char* name) : timer_(timer) {
  if (timer_ == nullptr) {
    return;
  }
  slot_ = timer_->used_;
  timer_->used_ += 2;
  cudaEventRecord(timer_->event(slot_), timer_->stream_);
  timer_->open_.emplace_back(name, slot_);
}

op_timer::scope::~scope() {
  if (timer_ != nullptr) {
    cudaEventRecord(timer_->event(slot_ + 1), timer_->stream_);
  }
}

void op_timer::collect() {
  if (!enabled_) {
    return;
  }
  std::map<std::string, double> step; // this step's ms per op, for PM_OP_TIMES=steps
  for (const auto& [name, slot] : open_) {
    float ms = 0;
    if (cudaEventElapsedTime(&ms, events_[slot], events_[slot + 1]) == cudaSuccess) {
      auto& t = totals_[phase_][name];
      t.first += ms;
      ++t.second;
      step[name] += ms;
    }
  }
  if (per_step_ && !step.empty()) {
    double all = 0;
    std::string line;
    for (const auto& [name, ms] : step) {
      all += ms;
      char part[64];
      std::snprintf(part, sizeof part, " %s %.2f", name.c_str(), ms);
      line += part;
    }
    // The span from the first op's start to the last op's end: what it exceeds the ops' sum by
    // is the GPU waiting between them (for the host, or a synchronising call).
    float span = 0;
    cudaEventElapsedTime(&span, events_[open_.front().second], events_[open_.back().second + 1]);
    std::fprintf(stderr, "op times step %ld (%s): ops %.2f ms, span %.2f ms:%s\n", steps_++,
                 phase_, all, span, line.c_str());
  }
  open_.clear();
  used_ = 0;
}

} // namespace proofmesh::engine
