// Bystander: a paced real-time stream (16 kHz mono s16, 20 ms chunks) that runs on its own
// thread while a test attacks the server, to show what the attack did to everyone else: every
// chunk answered, in order, and how long each took.
//
//   Bystander bystander(server.grpc_port());  // streaming once the constructor returns
//   ... the attack ...
//   const StreamRecord record = bystander.Finish();
//   EXPECT_LE(Percentile(record.RoundTrips(), 0.99), absl::Milliseconds(50));
//
// Thread safety: one thread uses the object; the stream runs on a thread of its own.
#ifndef AUDIOPROC_TESTS_TESTING_BYSTANDER_H_
#define AUDIOPROC_TESTS_TESTING_BYSTANDER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "audioproc/v1/audioproc.grpc.pb.h"
#include "tests/testing/recorded_stream.h"

namespace audioproc::testing {

class Bystander {
 public:
  // Starts the stream on a connection of its own to 127.0.0.1:`port` (another client than
  // the test's) and returns once it has streamed for `warm_up` (or the call has ended). It
  // streams for at most `longest`, or until Finish.
  explicit Bystander(int port, absl::Duration warm_up = absl::Milliseconds(500),
                     absl::Duration longest = absl::Seconds(60));
  ~Bystander();
  Bystander(const Bystander&) = delete;
  Bystander& operator=(const Bystander&) = delete;

  // Streams on for at least `after` more, then stops sending, half-closes and returns what
  // happened to the stream.
  StreamRecord Finish(absl::Duration after = absl::Seconds(1));

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AudioProcessor::Stub> stub_;
  std::atomic<bool> stop_{false};
  absl::Notification started_;
  StreamRecord record_;
  std::thread thread_;
};

// The `fraction` percentile (0.99: p99) of `values` by nearest rank; zero when empty.
absl::Duration Percentile(std::vector<absl::Duration> values, double fraction);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_BYSTANDER_H_
