// StateWriter / StateReader: exact round trips, little-endian layout, and a reader that never
// reads past the end, never trusts a length and fails with the precise status.
#include "dsp/state_codec.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "dsp/biquad.h"
#include "dsp/smoothed_value.h"
#include "gtest/gtest.h"

namespace audioproc {
namespace {

constexpr StateTag kTag = MakeStateTag("test");

TEST(StateCodecTest, ScalarsAndArraysRoundTripBitForBit) {
  StateWriter writer(4096);
  writer.PutTag(kTag, 3);
  writer.PutBool(true);
  writer.PutU8(200);
  writer.PutU32(0xdeadbeef);
  writer.PutU64(0x0123456789abcdefULL);
  writer.PutI32(-5);
  writer.PutI64(-7);
  writer.PutFloat(-0.0f);
  writer.PutDouble(std::numeric_limits<double>::denorm_min());
  const std::vector<float> floats = {1.5f, -2.25f, 1e-40f};
  const std::vector<double> doubles = {M_PI, -1e300};
  writer.PutFloats(floats);
  writer.PutDoubles(doubles);
  writer.PutString("gain");
  ASSERT_TRUE(writer.ok());

  StateReader reader(writer.bytes());
  reader.ExpectTag(kTag, 3);
  EXPECT_TRUE(reader.GetBool());
  EXPECT_EQ(reader.GetU8(), 200);
  EXPECT_EQ(reader.GetU32(), 0xdeadbeefu);
  EXPECT_EQ(reader.GetU64(), 0x0123456789abcdefULL);
  EXPECT_EQ(reader.GetI32(), -5);
  EXPECT_EQ(reader.GetI64(), -7);
  const float zero = reader.GetFloat();
  EXPECT_TRUE(std::signbit(zero));
  EXPECT_EQ(reader.GetDouble(), std::numeric_limits<double>::denorm_min());
  std::vector<float> got_floats(3);
  std::vector<double> got_doubles(2);
  reader.GetFloats(got_floats);
  reader.GetDoubles(got_doubles);
  EXPECT_EQ(got_floats, floats);
  EXPECT_EQ(got_doubles, doubles);
  EXPECT_EQ(reader.GetString(16), "gain");
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok()) << reader.status();
}

TEST(StateCodecTest, TheLayoutIsLittleEndianAndFixedWidth) {
  StateWriter writer(64);
  writer.PutTag(MakeStateTag("abcd"), 0x0102);
  writer.PutU32(0x04030201);
  const std::vector<uint8_t> expected = {'a', 'b', 'c', 'd', 0x02, 0x01, 0x01, 0x02, 0x03, 0x04};
  EXPECT_EQ(std::vector<uint8_t>(writer.bytes().begin(), writer.bytes().end()), expected);
}

TEST(StateCodecTest, AnotherTagOrVersionIsFailedPrecondition) {
  StateWriter writer(64);
  writer.PutTag(kTag, 1);
  StateReader old_version(writer.bytes());
  old_version.ExpectTag(kTag, 2);
  EXPECT_EQ(old_version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(old_version.status().message().find("version 1, this build reads 2"), std::string::npos)
      << old_version.status();
  StateReader other(writer.bytes());
  other.ExpectTag(MakeStateTag("gain"), 1);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StateCodecTest, ReadingPastTheEndFailsAndEveryLaterReadIsZero) {
  StateWriter writer(64);
  writer.PutU32(7);
  StateReader reader(writer.bytes());
  EXPECT_EQ(reader.GetU64(), 0u);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  // Sticky: the bytes that were there are not read any more.
  EXPECT_EQ(reader.GetU32(), 0u);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StateCodecTest, ALengthIsNeverTrusted) {
  // A size of 2^62 values, with nothing after it: refused without allocating or reading.
  StateWriter writer(64);
  writer.PutU64(uint64_t{1} << 62);
  std::vector<float> out(4, 1.0f);
  StateReader reader(writer.bytes());
  reader.GetFloats(out);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out, std::vector<float>(4, 1.0f));
  // A size that is not what the prepared holder expects, even with the bytes there.
  StateWriter three(64);
  three.PutFloats(std::vector<float>{1, 2, 3});
  StateReader short_reader(three.bytes());
  short_reader.GetFloats(out);
  EXPECT_EQ(short_reader.status().code(), absl::StatusCode::kInvalidArgument);
  // Bytes and sub-readers are bounded by what the caller allows and what is there.
  StateWriter bytes(64);
  bytes.PutU64(1000);
  StateReader bytes_reader(bytes.bytes());
  EXPECT_TRUE(bytes_reader.GetBytes(1u << 20).empty());
  EXPECT_EQ(bytes_reader.status().code(), absl::StatusCode::kInvalidArgument);
  StateReader sub_parent(bytes.bytes());
  StateReader sub = sub_parent.Sub(1000);
  EXPECT_FALSE(sub.ok());
  EXPECT_FALSE(sub_parent.ok());
}

TEST(StateCodecTest, GetFiniteRejectsNanAndInf) {
  StateWriter writer(64);
  writer.PutDouble(std::numeric_limits<double>::quiet_NaN());
  writer.PutFloats(std::vector<float>{1, std::numeric_limits<float>::infinity()});
  StateReader nan_reader(writer.bytes());
  EXPECT_EQ(nan_reader.GetFiniteDouble(), 0.0);
  EXPECT_EQ(nan_reader.status().code(), absl::StatusCode::kInvalidArgument);
  StateReader inf_reader(writer.bytes());
  (void)inf_reader.GetDouble();
  std::vector<float> out(2);
  inf_reader.GetFiniteFloats(out);
  EXPECT_EQ(inf_reader.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StateCodecTest, BoolsAndBoundedIntegersAreChecked) {
  StateWriter writer(64);
  writer.PutU8(2);
  writer.PutU32(11);
  StateReader reader(writer.bytes());
  (void)reader.GetBool();
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  StateReader bounded(writer.bytes());
  (void)bounded.GetU8();
  EXPECT_EQ(bounded.GetU32AtMost(10), 0u);
  EXPECT_EQ(bounded.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StateCodecTest, TheWriterNeverGrowsPastItsCapacity) {
  StateWriter writer(10);
  writer.PutU64(1);
  EXPECT_TRUE(writer.ok());
  writer.PutU32(2);
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(writer.bytes().size(), 8u);
  writer.PutU8(3);  // ignored once failed
  EXPECT_EQ(writer.bytes().size(), 8u);
  writer.Clear();
  EXPECT_TRUE(writer.ok());
  EXPECT_TRUE(writer.bytes().empty());
}

TEST(StateCodecTest, RandomBytesNeverCrashTheReader) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> blob(static_cast<size_t>(round % 64));
    for (uint8_t& b : blob) b = static_cast<uint8_t>(byte(rng));
    StateReader reader(blob);
    reader.ExpectTag(kTag, 1);
    std::vector<double> values(3);
    reader.GetFiniteDoubles(values);
    (void)reader.GetString(8);
    (void)reader.Sub(reader.GetU64());
    reader.ExpectEnd();
    EXPECT_FALSE(reader.ok());
  }
}

// A ramp saved mid-way continues, restored, exactly as the original.
TEST(SmoothedValueStateTest, ARampRestoredMidWayContinuesExactly) {
  SmoothedValue<double, RampLaw::kMultiplicative> original(100.0);
  original.Reset(480);
  original.SetTargetValue(2000.0);
  for (int i = 0; i < 123; ++i) original.GetNextValue();
  StateWriter writer(256);
  original.SaveState(writer);
  SmoothedValue<double, RampLaw::kMultiplicative> restored(100.0);
  restored.Reset(480);
  StateReader reader(writer.bytes());
  restored.RestoreState(reader, 1, 24000);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (int i = 0; i < 500; ++i) ASSERT_EQ(restored.GetNextValue(), original.GetNextValue());
  // Another ramp length, or a value out of the parameter's range, is refused.
  SmoothedValue<double, RampLaw::kMultiplicative> shorter(100.0);
  shorter.Reset(160);
  StateReader reader2(writer.bytes());
  shorter.RestoreState(reader2, 1, 24000);
  EXPECT_EQ(reader2.status().code(), absl::StatusCode::kInvalidArgument);
  StateReader reader3(writer.bytes());
  restored.RestoreState(reader3, 1, 1000);
  EXPECT_EQ(reader3.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BiquadStateTest, ARestoredCascadeContinuesExactly) {
  BiquadSections sections;
  sections.Add({0.2, 0.4, 0.2, -0.5, 0.3});
  sections.Add({1.0, -1.9, 0.95, -1.8, 0.85});
  BiquadCascade original;
  original.Prepare(2);
  original.SetSections(sections);
  std::vector<float> left(512);
  std::vector<float> right(512);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> noise(-1, 1);
  for (size_t i = 0; i < left.size(); ++i) {
    left[i] = noise(rng);
    right[i] = noise(rng);
  }
  float* channels[] = {left.data(), right.data()};
  AudioBlock block(channels, 2, 512);
  original.Process(block, 0, 200);
  StateWriter writer(1024);
  original.SaveState(writer);
  BiquadCascade restored;
  restored.Prepare(2);
  restored.SetSections(sections);
  StateReader reader(writer.bytes());
  restored.RestoreState(reader);
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<float> left2 = left;
  std::vector<float> right2 = right;
  float* channels2[] = {left2.data(), right2.data()};
  AudioBlock block2(channels2, 2, 512);
  original.Process(block, 200, 312);
  restored.Process(block2, 200, 312);
  EXPECT_EQ(left, left2);
  EXPECT_EQ(right, right2);
  // A cascade of another channel count refuses it.
  BiquadCascade mono;
  mono.Prepare(1);
  mono.SetSections(sections);
  StateReader reader2(writer.bytes());
  mono.RestoreState(reader2);
  EXPECT_EQ(reader2.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace audioproc
