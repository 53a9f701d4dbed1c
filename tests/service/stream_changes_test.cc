// StreamChangeTracker: the first look reports every stream as started; later looks report
// new streams, streams whose chunks, chain or queued bytes changed (not their age alone), and
// streams gone, as last seen; equal stream ids are told apart by serial.
#include "service/stream_changes.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace audioproc {
namespace {

v1::StreamInfo Stream(uint64_t serial, const std::string& id, uint64_t chunks, double age = 1) {
  v1::StreamInfo info;
  info.set_serial(serial);
  info.set_stream_id(id);
  info.set_chunks(chunks);
  info.set_age_seconds(age);
  return info;
}

v1::ListStreamsResponse List(const std::vector<v1::StreamInfo>& streams) {
  v1::ListStreamsResponse list;
  for (const v1::StreamInfo& stream : streams) *list.add_streams() = stream;
  return list;
}

// "KIND serial" for each change, to compare in one line.
std::vector<std::string> Summary(const std::vector<v1::StreamChange>& changes) {
  std::vector<std::string> out;
  for (const v1::StreamChange& change : changes) {
    out.push_back(v1::StreamChangeKind_Name(change.kind()).substr(19) + " " +
                  std::to_string(change.stream().serial()));
  }
  return out;
}

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(StreamChangeTrackerTest, StartedUpdatedEnded) {
  StreamChangeTracker tracker;
  EXPECT_THAT(tracker.Update(List({})), IsEmpty());
  EXPECT_THAT(Summary(tracker.Update(List({Stream(1, "a", 0), Stream(2, "a", 0)}))),
              ElementsAre("STARTED 1", "STARTED 2"));
  // Only older: no change. Stream 2 answered chunks; stream 3 is new.
  EXPECT_THAT(Summary(tracker.Update(
                  List({Stream(1, "a", 0, 2), Stream(2, "a", 5, 2), Stream(3, "b", 0)}))),
              ElementsAre("UPDATED 2", "STARTED 3"));
  // 1 and 3 ended; the ended one is reported as it was last seen.
  const std::vector<v1::StreamChange> changes = tracker.Update(List({Stream(2, "a", 5, 3)}));
  EXPECT_THAT(Summary(changes), ElementsAre("ENDED 1", "ENDED 3"));
  EXPECT_EQ(changes[1].stream().stream_id(), "b");
  EXPECT_THAT(tracker.Update(List({})), ::testing::SizeIs(1));
}

TEST(StreamChangeTrackerTest, AChainConfiguredOrBytesQueuedIsAnUpdate) {
  StreamChangeTracker tracker;
  tracker.Update(List({Stream(1, "", 0)}));
  v1::StreamInfo configured = Stream(1, "call", 0);
  configured.set_chain("highpass");
  EXPECT_THAT(Summary(tracker.Update(List({configured}))), ElementsAre("UPDATED 1"));
  configured.set_buffered_bytes(640);
  EXPECT_THAT(Summary(tracker.Update(List({configured}))), ElementsAre("UPDATED 1"));
  EXPECT_THAT(tracker.Update(List({configured})), IsEmpty());
}

}  // namespace
}  // namespace audioproc
