#include "tests/testing/bystander.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/testing/process_exchange.h"

namespace audioproc::testing {
namespace {

constexpr size_t kChunkBytes = 640;  // 20 ms of 16 kHz mono s16
constexpr absl::Duration kInterval = absl::Milliseconds(20);

}  // namespace

Bystander::Bystander(int port, absl::Duration warm_up, absl::Duration longest) {
  grpc::ChannelArguments args;
  // Its own subchannel, so its own TCP connection: a bystander is another client.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials(), args);
  stub_ = v1::AudioProcessor::NewStub(channel_);
  thread_ = std::thread([this, longest] {
    StreamPlan plan;
    plan.config = MakeConfig(v1::PCM_S16LE, 16000, 1,
                             R"([{"highpass":{"cutoffHz":80}},{"limiter":{"ceilingDb":-1}}])");
    plan.config.set_stream_id("bystander");
    plan.config.set_max_chunk_bytes(kChunkBytes);
    const size_t chunks = static_cast<size_t>(longest / kInterval);
    plan.chunks = SplitBytes(RandomS16(chunks * kChunkBytes / 2, /*seed=*/7), kChunkBytes);
    plan.interval = kInterval;
    plan.deadline = longest + absl::Seconds(30);
    plan.stop = &stop_;
    plan.before_chunks = [this] { started_.Notify(); };
    record_ = RunStream(*stub_, plan);
    if (!started_.HasBeenNotified()) started_.Notify();  // refused before ready
  });
  started_.WaitForNotification();
  absl::SleepFor(warm_up);  // the live source streams on; what the test measures starts later
}

Bystander::~Bystander() {
  if (thread_.joinable()) Finish();
}

StreamRecord Bystander::Finish(absl::Duration after) {
  absl::SleepFor(after);  // the live source streams on after the attack
  stop_.store(true, std::memory_order_release);
  thread_.join();
  return record_;
}

absl::Duration Percentile(std::vector<absl::Duration> values, double fraction) {
  if (values.empty()) return absl::ZeroDuration();
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

}  // namespace audioproc::testing
