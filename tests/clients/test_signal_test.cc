#include "clients/test_signal.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace audioproc::client {
namespace {

using ::testing::HasSubstr;

TEST(TestSignalTest, IsSixteenKilohertzMonoS16OfTheAskedLengthAndRepeatable) {
  const PcmAudio signal = GenerateTestSignal(0.5);
  EXPECT_EQ(signal.format.encoding(), v1::PCM_S16LE);
  EXPECT_EQ(signal.format.sample_rate_hz(), 16000u);
  EXPECT_EQ(signal.format.channels(), 1u);
  EXPECT_EQ(signal.frames(), 8000u);
  EXPECT_EQ(signal.data, GenerateTestSignal(0.5).data);
  // A -12 dBFS tone: the peak is near 0.25 of full scale, never clipped.
  int peak = 0;
  for (size_t i = 0; i + 1 < signal.data.size(); i += 2) {
    const auto sample = static_cast<int16_t>(static_cast<uint8_t>(signal.data[i]) |
                                             (static_cast<uint8_t>(signal.data[i + 1]) << 8));
    peak = std::max(peak, std::abs(static_cast<int>(sample)));
  }
  EXPECT_NEAR(peak / 32768.0, 0.25, 0.01);
}

// A well-formed result of streaming `frames` input frames in `chunks` chunks, 16 kHz in and
// `out_rate` out.
StreamResult Complete(uint64_t frames, uint64_t chunks, uint32_t out_rate) {
  StreamResult result;
  result.ready.emplace();
  result.ready->mutable_output()->set_encoding(v1::PCM_S16LE);
  result.ready->mutable_output()->set_sample_rate_hz(out_rate);
  result.ready->mutable_output()->set_channels(1);
  const uint64_t out = frames * out_rate / 16000;
  for (uint64_t i = 0; i < chunks; ++i) {
    v1::ChunkMetrics& m = result.chunks.emplace_back();
    m.set_sequence(i + 1);
    m.set_frames_in(static_cast<uint32_t>(frames / chunks));
    m.set_frames_out(static_cast<uint32_t>(i == 0 ? 0 : out / (chunks - 1)));
  }
  result.chunks.emplace_back().set_frames_out(0);  // the tail
  result.got_tail = true;
  result.chunks_sent = chunks;
  result.summary.emplace();
  result.summary->set_frames_in(frames);
  result.summary->set_frames_out(out);
  result.summary->set_chunks(chunks);
  result.output.assign(out * 2, '\0');
  return result;
}

TEST(TestSignalTest, CheckPassesACompleteStreamAndNamesWhatIsWrongOtherwise) {
  const PcmAudio input = GenerateTestSignal(0.5);  // 8000 frames
  EXPECT_TRUE(CheckStreamResult(Complete(8000, 5, 48000), input.format, input.frames()).ok());

  StreamResult no_tail = Complete(8000, 5, 16000);
  no_tail.got_tail = false;
  EXPECT_THAT(CheckStreamResult(no_tail, input.format, input.frames()).message(),
              HasSubstr("no tail"));

  StreamResult unanswered = Complete(8000, 5, 16000);
  unanswered.chunks_sent = 6;
  EXPECT_THAT(CheckStreamResult(unanswered, input.format, input.frames()).message(),
              HasSubstr("6 chunks sent"));

  StreamResult short_output = Complete(8000, 5, 16000);
  short_output.summary->set_frames_out(7999);
  EXPECT_EQ(CheckStreamResult(short_output, input.format, input.frames()).code(),
            absl::StatusCode::kInternal);
  EXPECT_THAT(CheckStreamResult(short_output, input.format, input.frames()).message(),
              HasSubstr("expected 8000"));

  StreamResult failed = Complete(8000, 5, 16000);
  failed.status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "full");
  EXPECT_EQ(CheckStreamResult(failed, input.format, input.frames()).code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace audioproc::client
