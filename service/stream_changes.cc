#include "service/stream_changes.h"

#include <algorithm>
#include <utility>

namespace audioproc {
namespace {

// Age alone does not make a change: every open stream ages.
bool Changed(const v1::StreamInfo& before, const v1::StreamInfo& now) {
  return before.chunks() != now.chunks() || before.buffered_bytes() != now.buffered_bytes() ||
         before.chain() != now.chain() || before.stream_id() != now.stream_id();
}

v1::StreamChange MakeChange(v1::StreamChangeKind kind, const v1::StreamInfo& stream) {
  v1::StreamChange change;
  change.set_kind(kind);
  *change.mutable_stream() = stream;
  return change;
}

}  // namespace

std::vector<v1::StreamChange> StreamChangeTracker::Update(const v1::ListStreamsResponse& now) {
  std::vector<v1::StreamChange> changes;
  absl::flat_hash_map<uint64_t, v1::StreamInfo> seen;
  seen.reserve(now.streams_size());
  for (const v1::StreamInfo& stream : now.streams()) {
    auto before = last_.find(stream.serial());
    if (before == last_.end()) {
      changes.push_back(MakeChange(v1::STREAM_CHANGE_KIND_STARTED, stream));
    } else {
      if (Changed(before->second, stream)) {
        changes.push_back(MakeChange(v1::STREAM_CHANGE_KIND_UPDATED, stream));
      }
      last_.erase(before);
    }
    seen.emplace(stream.serial(), stream);
  }
  // What is left of the previous look has ended, as it was last seen; oldest first.
  std::vector<const v1::StreamInfo*> ended;
  ended.reserve(last_.size());
  for (const auto& [serial, stream] : last_) ended.push_back(&stream);
  std::sort(ended.begin(), ended.end(), [](const v1::StreamInfo* a, const v1::StreamInfo* b) {
    return a->serial() < b->serial();
  });
  for (const v1::StreamInfo* stream : ended) {
    changes.push_back(MakeChange(v1::STREAM_CHANGE_KIND_ENDED, *stream));
  }
  last_ = std::move(seen);
  return changes;
}

}  // namespace audioproc
