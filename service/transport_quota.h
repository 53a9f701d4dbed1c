// TransportQuota: gRPC's ResourceQuota on the transport's buffers, sized to what the admitted
// streams may have in flight, so that it is never what runs out.
//
// gRPC receives a message whole into transport buffers before the application reads it, and
// when its quota runs short it shrinks every connection's flow-control windows and, at the
// end, resets a random stream (RST_STREAM ENHANCE_YOUR_CALM): under pressure a well-behaved
// bystander pays for an attacker. So the quota is a base (--resource_quota_bytes: handshakes,
// connections, unary calls, whatever arrives before a stream is admitted) plus, for each
// admitted stream, the largest message its grant lets it send, added while the stream runs.
// Both come out of the memory budget: the stream's share includes its transport part.
// Thread safety: thread-safe.
#ifndef AUDIOPROC_SERVICE_TRANSPORT_QUOTA_H_
#define AUDIOPROC_SERVICE_TRANSPORT_QUOTA_H_

#include <grpcpp/resource_quota.h>

#include <cstdint>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace audioproc {

class TransportQuota {
 public:
  explicit TransportQuota(int64_t base_bytes);
  TransportQuota(const TransportQuota&) = delete;
  TransportQuota& operator=(const TransportQuota&) = delete;

  // What ServerBuilder::SetResourceQuota takes.
  grpc::ResourceQuota& quota() { return quota_; }

  // A stream's part of the quota, added while the share lives.
  class Share {
   public:
    Share() = default;
    Share(Share&& other) noexcept { *this = std::move(other); }
    Share& operator=(Share&& other) noexcept;
    ~Share();

   private:
    friend class TransportQuota;
    Share(TransportQuota* owner, int64_t bytes) : owner_(owner), bytes_(bytes) {}
    TransportQuota* owner_ = nullptr;
    int64_t bytes_ = 0;
  };
  Share Add(int64_t bytes);

  int64_t size() const;

 private:
  void Resize(int64_t delta);

  grpc::ResourceQuota quota_;
  mutable absl::Mutex mu_;
  int64_t size_ ABSL_GUARDED_BY(mu_);
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_TRANSPORT_QUOTA_H_
