// StreamChangeTracker: what changed among a server's open streams between two looks, for
// Admin.WatchStreams: streams that started, changed (more chunks answered, a chain now
// configured, more or fewer bytes queued) or ended since the previous look. Streams are told
// apart by StreamInfo.serial (stream ids are the clients' and may repeat).
//
//   StreamChangeTracker tracker;
//   std::vector<v1::StreamChange> first = tracker.Update(state.ListStreams());  // all STARTED
//   std::vector<v1::StreamChange> next = tracker.Update(state.ListStreams());   // what changed
//
// Thread safety: none; one per watcher.
#ifndef AUDIOPROC_SERVICE_STREAM_CHANGES_H_
#define AUDIOPROC_SERVICE_STREAM_CHANGES_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "audioproc/v1/audioproc.pb.h"

namespace audioproc {

class StreamChangeTracker {
 public:
  // The changes from the previous Update's list to `now`, in `now`'s order, then the ended
  // ones. The first call reports every stream as STARTED.
  std::vector<v1::StreamChange> Update(const v1::ListStreamsResponse& now);

 private:
  absl::flat_hash_map<uint64_t, v1::StreamInfo> last_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_STREAM_CHANGES_H_
