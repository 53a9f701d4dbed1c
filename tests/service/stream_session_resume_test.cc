// Checkpoints and resume in the stream session, without gRPC (issue 14): for random chunkings,
// a random cut and an update before it, a session resumed from the last checkpoint's token
// continues byte for byte, its output after the checkpoint joined to the first session's
// before it equal to one uninterrupted session's; the schedule of checkpoints follows audio
// time; a stream that did not ask, or whose server has no key, is not resumable.
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/service/stream_session_harness.h"
#include "tests/testing/process_exchange.h"
#include "tests/testing/recorded_stream.h"

namespace audioproc {
namespace {

using session_testing::SessionHarness;

constexpr char kKey[] = "a resume key of at least thirty-two bytes";
constexpr char kChain[] =
    R"([{"highpass":{"cutoffHz":100}},{"gain":{"gainDb":3}},{"compressor":{}},)"
    R"({"limiter":{"ceilingDb":-1}}])";

v1::ProcessRequest Config(uint32_t checkpoint_interval_ms) {
  v1::StreamConfig config = testing::MakeConfig(v1::PCM_S16LE, 16000, 1, kChain);
  config.set_stream_id("session-resume");
  config.set_checkpoint_interval_ms(checkpoint_interval_ms);
  return testing::ConfigRequest(config);
}

v1::ProcessRequest GainUpdate(float gain_db) {
  v1::ProcessRequest request;
  v1::ProcessorUpdate* update = request.mutable_update()->add_updates();
  update->set_index(1);
  update->mutable_spec()->mutable_gain()->set_gain_db(gain_db);
  return request;
}

// `audio` cut into random whole-frame chunks of 1 to 2000 frames.
std::vector<std::string> RandomChunks(const std::string& audio, std::mt19937& random) {
  std::uniform_int_distribution<size_t> frames(1, 2000);
  std::vector<std::string> chunks;
  for (size_t at = 0; at < audio.size();) {
    const size_t bytes = std::min(audio.size() - at, 2 * frames(random));
    chunks.push_back(audio.substr(at, bytes));
    at += bytes;
  }
  return chunks;
}

// Sends chunks[from..to) numbered from from + 1, with the gain update before chunk `update_at`.
void SendChunks(SessionHarness& session, const std::vector<std::string>& chunks, size_t from,
                size_t to, size_t update_at) {
  for (size_t i = from; i < to; ++i) {
    if (i == update_at) {
      ASSERT_TRUE(session.Send(GainUpdate(-4)).ok());
    }
    ASSERT_TRUE(session.Send(testing::ChunkRequest(chunks[i], i + 1)).ok());
  }
}

TEST(StreamSessionResumeTest, AResumedSessionGoesOnByteForByteFromTheLastCheckpoint) {
  const std::string audio = testing::VoiceLikeS16(4 * 16000, 11);
  std::mt19937 random(5);
  for (int trial = 0; trial < 6; ++trial) {
    SCOPED_TRACE(::testing::Message() << "trial " << trial);
    const std::vector<std::string> chunks = RandomChunks(audio, random);
    const size_t cut =
        std::uniform_int_distribution<size_t>(chunks.size() / 4, chunks.size() * 3 / 4)(random);
    const size_t update_at = cut / 2;

    SessionHarness whole;
    whole.EnableResume(kKey);
    ASSERT_TRUE(whole.Send(Config(250)).ok());
    SendChunks(whole, chunks, 0, chunks.size(), update_at);
    ASSERT_TRUE(whole.End().ok());

    SessionHarness before;
    before.EnableResume(kKey);
    ASSERT_TRUE(before.Send(Config(250)).ok());
    EXPECT_TRUE(before.responses_.front().ready().resumable());
    SendChunks(before, chunks, 0, cut, update_at);
    // The last checkpoint, and the output sent before it.
    std::optional<v1::Checkpoint> checkpoint;
    std::string output_before;
    std::string output;
    for (const v1::ProcessResponse& response : before.responses_) {
      if (response.has_chunk()) output += response.chunk().data();
      if (response.has_checkpoint()) {
        checkpoint = response.checkpoint();
        output_before = output;
      }
    }
    ASSERT_TRUE(checkpoint.has_value());
    EXPECT_GE(before.metrics_.checkpoint_bytes.size(), 1u);

    SessionHarness after;
    after.EnableResume(kKey);
    v1::ProcessRequest resume;
    resume.mutable_resume()->set_token(checkpoint->token());
    ASSERT_TRUE(after.Send(resume).ok());
    const v1::StreamReady& ready = after.responses_.front().ready();
    EXPECT_EQ(ready.resumed_after_sequence(), checkpoint->sequence());
    EXPECT_EQ(ready.stream_id(), "session-resume");
    SendChunks(after, chunks, checkpoint->sequence(), chunks.size(), update_at);
    ASSERT_TRUE(after.End().ok());
    EXPECT_EQ(after.metrics_.resumes, std::vector<absl::StatusCode>{absl::StatusCode::kOk});
    // Sequence numbers continue where the checkpoint left them.
    EXPECT_EQ(after.responses_[1].chunk().metrics().sequence(), checkpoint->sequence() + 1);

    const std::string joined = output_before + after.Output();
    ASSERT_EQ(joined.size(), whole.Output().size());
    EXPECT_TRUE(joined == whole.Output());
  }
}

TEST(StreamSessionResumeTest, CheckpointsFollowAudioTimeNotChunks) {
  SessionHarness session;
  session.EnableResume(kKey);
  ASSERT_TRUE(session.Send(Config(100)).ok());
  // 1 s of audio in 7-frame chunks, then in one chunk of 1 s: 10 checkpoints each way (one
  // per chunk at most).
  const std::string audio = testing::VoiceLikeS16(16000, 1);
  for (size_t at = 0; at < audio.size(); at += 14) {
    ASSERT_TRUE(session.Send(testing::ChunkRequest(audio.substr(at, 14))).ok());
  }
  EXPECT_EQ(session.metrics_.checkpoint_bytes.size(), 10u);
  ASSERT_TRUE(session.Send(testing::ChunkRequest(audio)).ok());
  EXPECT_EQ(session.metrics_.checkpoint_bytes.size(), 11u);
}

// Checkpoints cost CPU and memory on the server, so the admission pays for them: one a
// millisecond costs a thousand times the CPU of one a second (above the chain's own cost).
TEST(StreamSessionResumeTest, TheAdmissionCountsWhatCheckpointsCost) {
  auto admitted = [](uint32_t interval_ms) {
    SessionHarness session;
    session.EnableResume(kKey);
    EXPECT_TRUE(session.Send(Config(interval_ms)).ok());
    return session.admission_.admitted_cost;
  };
  const ResourceAmount none = admitted(0);
  const ResourceAmount every_second = admitted(1000);
  const ResourceAmount every_millisecond = admitted(1);
  EXPECT_GT(every_second.memory_bytes, none.memory_bytes);
  const double per_second = every_second.cpu_cores - none.cpu_cores;
  EXPECT_GT(per_second, 0);
  EXPECT_NEAR((every_millisecond.cpu_cores - none.cpu_cores) / per_second, 1000.0, 1e-6 * 1000);
  // The chain here costs about 0.003 cores; a checkpoint every millisecond, several times that.
  EXPECT_GT(every_millisecond.cpu_cores, 3 * none.cpu_cores);
}

TEST(StreamSessionResumeTest, NotResumableWithoutAnIntervalOrAKey) {
  SessionHarness unasked;
  unasked.EnableResume(kKey);
  ASSERT_TRUE(unasked.Send(Config(0)).ok());
  EXPECT_FALSE(unasked.responses_.front().ready().resumable());

  SessionHarness keyless;
  ASSERT_TRUE(keyless.Send(Config(100)).ok());
  EXPECT_FALSE(keyless.responses_.front().ready().resumable());
  ASSERT_TRUE(keyless.Send(testing::ChunkRequest(std::string(32000, '\1'))).ok());
  EXPECT_TRUE(keyless.metrics_.checkpoint_bytes.empty());

  SessionHarness resumer;
  v1::ProcessRequest resume;
  resume.mutable_resume()->set_token("anything");
  EXPECT_EQ(resumer.Send(resume).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace audioproc
