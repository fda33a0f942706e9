#include "gateway/redis_pool.hpp"

namespace proofmesh::gateway {

redis_pool::redis_pool(const transport::redis_client_params& params, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    free_.push_back(std::make_unique<redis_connection>(params));
  }
}

redis_pool::lease redis_pool::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [this] { return !free_.empty(); });
  std::unique_ptr<redis_connection> c = std::move(free_.back());
  free_.pop_back();
  return lease(*this, std::move(c));
}

redis_pool::lease::~lease() {
  if (c_ != nullptr) {
    std::lock_guard lock(pool_->mutex_);
    pool_->free_.push_back(std::move(c_));
    pool_->available_.notify_one();
  }
}

} // namespace proofmesh::gateway
