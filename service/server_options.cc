#include "service/server_options.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "service/cgroup_limits.h"

namespace audioproc {
namespace {

// What a Checkpoint response or a ResumeStream request adds to its token.
constexpr int64_t kResumeEnvelopeBytes = 64;

constexpr int64_t kDefaultMemoryBudgetBytes = int64_t{1} << 30;
constexpr double kMemoryShareOfLimit = 0.75;
constexpr double kCpuShareOfLimit = 0.85;
// Protobuf serializes nothing of 2 GiB or more; a response carries a summary and framing
// beside its largest field, so limits stay a MiB below.
constexpr int64_t kMaxSerializableBytes = std::numeric_limits<int32_t>::max() - (int64_t{1} << 20);
// Room for a few update results besides a chain's own events.
constexpr int kMinEventsPerResponse = 64;
// The streams and files need some of the budget besides the transport's share.
constexpr int64_t kMinClientBytes = int64_t{16} << 20;

}  // namespace

absl::StatusOr<ServerOptions> ResolveServerOptions(ServerOptions options) {
  const CgroupLimits cgroup = ReadCgroupLimits(options.cgroup_root);
  if (options.memory_budget_bytes == 0) {
    options.memory_budget_bytes =
        cgroup.memory_bytes
            ? static_cast<int64_t>(static_cast<double>(*cgroup.memory_bytes) * kMemoryShareOfLimit)
            : kDefaultMemoryBudgetBytes;
  }
  // The cores this container may use: a pod's CPU limit is its cgroup quota, which may be
  // fractional and below the node's cores that hardware_concurrency() reports.
  const double cores =
      cgroup.cpu_cores ? std::min<double>(*cgroup.cpu_cores, AvailableCpus()) : AvailableCpus();
  const int whole_cores = std::max(1, static_cast<int>(std::ceil(cores)));
  if (options.workers == 0) options.workers = whole_cores;
  if (options.cq_threads == 0) options.cq_threads = whole_cores;
  if (options.cpu_budget == 0) options.cpu_budget = cores * kCpuShareOfLimit;
  if (options.resource_quota_bytes == 0) {
    options.resource_quota_bytes =
        std::max(options.memory_budget_bytes / 8, 2 * options.max_message_bytes);
  }
  if (options.max_file_output_bytes == 0) {
    options.max_file_output_bytes = options.max_message_bytes;
  }

  if (options.memory_budget_bytes < 0 || options.cpu_budget < 0) {
    return absl::InvalidArgumentError("--memory_budget_bytes and --cpu_budget must be positive");
  }
  if (!(options.max_stream_cost > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_stream_cost must be positive, got ", options.max_stream_cost));
  }
  if (options.max_events_per_response < kMinEventsPerResponse) {
    return absl::InvalidArgumentError(absl::StrCat("--max_events_per_response must be at least ",
                                                   kMinEventsPerResponse, ", got ",
                                                   options.max_events_per_response));
  }
  for (auto [flag, value] : {std::pair{"max_message_bytes", options.max_message_bytes},
                             std::pair{"max_response_bytes", options.max_response_bytes},
                             std::pair{"max_file_output_bytes", options.max_file_output_bytes}}) {
    if (value > kMaxSerializableBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", value,
                       " could make a message of 2 GiB or more, which protobuf cannot "
                       "serialize (gRPC would abort); at most ",
                       kMaxSerializableBytes));
    }
  }
  if (options.memory_budget_bytes - options.resource_quota_bytes < kMinClientBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--memory_budget_bytes (", options.memory_budget_bytes,
                     ") must leave at least ", kMinClientBytes,
                     " bytes for streams and files beyond "
                     "--resource_quota_bytes (",
                     options.resource_quota_bytes, "), gRPC's transport share"));
  }
  if (options.max_response_bytes < (int64_t{64} << 10)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_response_bytes must be at least 65536, got ", options.max_response_bytes));
  }
  if (!(options.resume_token_ttl_seconds > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--resume_token_ttl_seconds must be positive, got ", options.resume_token_ttl_seconds));
  }
  // A token travels alone in a Checkpoint response and in a ResumeStream request.
  const int64_t token_room =
      std::min(options.max_response_bytes, options.max_message_bytes) - kResumeEnvelopeBytes;
  if (options.max_resume_token_bytes < 1024 || options.max_resume_token_bytes > token_room) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_resume_token_bytes must be in [1024, ", token_room,
                     "] (a token must fit a response, --max_response_bytes, and a request, "
                     "--max_message_bytes), got ",
                     options.max_resume_token_bytes));
  }
  return options;
}

}  // namespace audioproc
