#include "service/transport_quota.h"

namespace audioproc {

TransportQuota::TransportQuota(int64_t base_bytes)
    : quota_("audioproc-transport"), size_(base_bytes) {
  quota_.Resize(static_cast<size_t>(base_bytes));
}

TransportQuota::Share& TransportQuota::Share::operator=(Share&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Resize(-bytes_);
    owner_ = std::exchange(other.owner_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

TransportQuota::Share::~Share() {
  if (owner_ != nullptr) owner_->Resize(-bytes_);
}

TransportQuota::Share TransportQuota::Add(int64_t bytes) {
  Resize(bytes);
  return Share(this, bytes);
}

int64_t TransportQuota::size() const {
  absl::MutexLock lock(&mu_);
  return size_;
}

void TransportQuota::Resize(int64_t delta) {
  // Under the lock, so that concurrent changes reach gRPC in the order they were counted.
  absl::MutexLock lock(&mu_);
  size_ += delta;
  quota_.Resize(static_cast<size_t>(size_));
}

}  // namespace audioproc
