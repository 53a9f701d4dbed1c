// ParseChain / ParseStreamConfig / FormatChain: a table of inputs with the chain each must
// give (written as proto3 JSON and decoded by protobuf itself, independently of the parser)
// or the status it must fail with; then round trips, driven by reflection so that every
// processor the proto has is covered, including ones added later.
#include "clients/chain_parser.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "audioproc/v1/audioproc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc::client {
namespace {

using ::audioproc::testing::IsOk;
using ::audioproc::testing::StatusIs;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

constexpr auto kOk = absl::StatusCode::kOk;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

struct ChainCase {
  std::string name;
  std::string input;
  // On success: the expected chain as a proto3 JSON array.
  std::string want_chain;
  absl::StatusCode want_code = kOk;
  std::string want_error = "";  // A substring of the message.
};

void PrintTo(const ChainCase& c, std::ostream* os) { *os << c.input; }

std::vector<v1::ProcessorSpec> ChainFromJson(const std::string& json) {
  v1::StreamConfig config;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage("{\"chain\":" + json + "}", &config).ok())
      << "bad expectation " << json;
  return {config.chain().begin(), config.chain().end()};
}

void ExpectSameChain(const std::vector<v1::ProcessorSpec>& got,
                     const std::vector<v1::ProcessorSpec>& want) {
  ASSERT_EQ(got.size(), want.size()) << FormatChainJson(got);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(got[i], want[i]))
        << "chain[" << i << "]: got " << got[i].ShortDebugString() << ", want "
        << want[i].ShortDebugString();
  }
}

const ChainCase kChainCases[] = {
    // One-line, every processor of the proto.
    {"Empty", "", "[]"},
    {"Blank", "  \t ", "[]"},
    {"GainNoParameters", "gain", R"([{"gain":{}}])"},
    {"Gain", "gain:gain_db=6", R"([{"gain":{"gainDb":6}}])"},
    {"GainNegativeFraction", "gain:gain_db=-120.5", R"([{"gain":{"gainDb":-120.5}}])"},
    {"GainPlusSignAndExponent", "gain:gain_db=+1e-3", R"([{"gain":{"gainDb":0.001}}])"},
    {"GainZeroIsSet", "gain:gain_db=0", R"([{"gain":{"gainDb":0}}])"},
    {"Mix", "mix:output_channels=2", R"([{"mix":{"outputChannels":2}}])"},
    {"Highpass", "highpass:cutoff_hz=80:q=0.5:order=4",
     R"([{"highpass":{"cutoffHz":80,"q":0.5,"order":4}}])"},
    {"Lowpass", "lowpass:cutoff_hz=8000:order=1", R"([{"lowpass":{"cutoffHz":8000,"order":1}}])"},
    {"Bandpass", "bandpass:center_hz=1000:q=2", R"([{"bandpass":{"centerHz":1000,"q":2}}])"},
    {"Notch", "notch:center_hz=50:q=10", R"([{"notch":{"centerHz":50,"q":10}}])"},
    {"Peaking", "peaking:center_hz=3000:q=1:gain_db=-6",
     R"([{"peaking":{"centerHz":3000,"q":1,"gainDb":-6}}])"},
    {"Lowshelf", "lowshelf:cutoff_hz=200:gain_db=3:q=0.7071",
     R"([{"lowshelf":{"cutoffHz":200,"gainDb":3,"q":0.7071}}])"},
    {"Highshelf", "highshelf:cutoff_hz=6000:gain_db=-3:q=0.5",
     R"([{"highshelf":{"cutoffHz":6000,"gainDb":-3,"q":0.5}}])"},
    {"DcBlock", "dc_block:cutoff_hz=5", R"([{"dcBlock":{"cutoffHz":5}}])"},
    {"Limiter", "limiter:ceiling_db=-1:lookahead_ms=5:release_ms=50:true_peak=true",
     R"([{"limiter":{"ceilingDb":-1,"lookaheadMs":5,"releaseMs":50,"truePeak":true}}])"},
    {"BoolOne", "limiter:true_peak=1", R"([{"limiter":{"truePeak":true}}])"},
    {"BoolZero", "limiter:true_peak=0", R"([{"limiter":{"truePeak":false}}])"},
    {"BoolUpperCase", "limiter:true_peak=FALSE", R"([{"limiter":{"truePeak":false}}])"},
    {"ParametersInAnyOrder", "highpass:order=3:cutoff_hz=100",
     R"([{"highpass":{"cutoffHz":100,"order":3}}])"},
    {"MakeDemoChain", "highpass:cutoff_hz=80,gain:gain_db=6,limiter:ceiling_db=-1",
     R"([{"highpass":{"cutoffHz":80}},{"gain":{"gainDb":6}},{"limiter":{"ceilingDb":-1}}])"},
    {"WhitespaceAroundTokens", " highpass : cutoff_hz = 80 ,\tlimiter: ceiling_db= -1 ",
     R"([{"highpass":{"cutoffHz":80}},{"limiter":{"ceilingDb":-1}}])"},
    {"SameProcessorTwice", "gain:gain_db=1,gain:gain_db=2",
     R"([{"gain":{"gainDb":1}},{"gain":{"gainDb":2}}])"},
    // JSON forms.
    {"JsonArray", R"([{"highpass":{"cutoffHz":80}},{"limiter":{"ceilingDb":-1}}])",
     R"([{"highpass":{"cutoffHz":80}},{"limiter":{"ceilingDb":-1}}])"},
    {"JsonArrayEmptyWithSpace", "  [ ] ", "[]"},
    {"JsonArrayProtoFieldNames", R"([{"dc_block":{"cutoff_hz":5}}])",
     R"([{"dcBlock":{"cutoffHz":5}}])"},
    {"JsonArrayCarriesMixMatrix", R"([{"mix":{"outputChannels":1,"matrix":[0.5,0.5]}}])",
     R"([{"mix":{"outputChannels":1,"matrix":[0.5,0.5]}}])"},
    {"JsonObjectWithOnlyChain", R"({"chain":[{"gain":{"gainDb":6}}]})",
     R"([{"gain":{"gainDb":6}}])"},
    // One-line errors.
    {"UnknownProcessor", "hipass", "", kInvalid, "chain[0]: unknown processor 'hipass'"},
    {"UnknownProcessorListsKnown", "hipass", "", kInvalid, "known: gain, mix, highpass"},
    {"ProcessorNamesAreCaseSensitive", "HIGHPASS", "", kInvalid, "unknown processor 'HIGHPASS'"},
    {"UnknownProcessorLaterInChain", "gain,reverb:size=1", "", kInvalid,
     "chain[1]: unknown processor 'reverb'"},
    {"UnknownParameter", "highpass:cutof_hz=80", "", kInvalid,
     "chain[0]: highpass has no parameter 'cutof_hz' (highpass takes: cutoff_hz, q, order)"},
    {"JsonNameInOneLine", "highpass:cutoffHz=80", "", kInvalid,
     "highpass has no parameter 'cutoffHz'"},
    {"NotANumber", "highpass:cutoff_hz=abc", "", kInvalid,
     "chain[0]: highpass.cutoff_hz: 'abc' is not a number"},
    {"NumberWithUnit", "gain:gain_db=6dB", "", kInvalid, "gain.gain_db: '6dB' is not a number"},
    {"TwoNumbers", "highpass:cutoff_hz=80 90", "", kInvalid, "'80 90' is not a number"},
    {"NaN", "gain:gain_db=nan", "", kInvalid, "gain.gain_db: 'nan' is not a finite number"},
    {"Infinity", "gain:gain_db=-inf", "", kInvalid, "'-inf' is not a finite number"},
    {"FloatOverflow", "gain:gain_db=1e39", "", kInvalid, "'1e39' is not a finite number"},
    {"NegativeUnsigned", "highpass:order=-1", "", kInvalid,
     "highpass.order: '-1' is not a whole number in [0, 4294967295]"},
    {"FractionalUnsigned", "highpass:order=2.5", "", kInvalid, "'2.5' is not a whole number"},
    {"UnsignedOverflow", "highpass:order=4294967296", "", kInvalid,
     "'4294967296' is not a whole number"},
    {"NotABool", "limiter:true_peak=yes", "", kInvalid,
     "limiter.true_peak: 'yes' is not a bool (true, false, 1 or 0)"},
    {"MissingEquals", "highpass:cutoff_hz", "", kInvalid,
     "chain[0]: highpass: parameter 'cutoff_hz' has no '=' and value"},
    {"MissingValue", "highpass:cutoff_hz=", "", kInvalid,
     "chain[0]: highpass.cutoff_hz: no value after '='"},
    {"MissingParameterName", "highpass:=80", "", kInvalid, "parameter name missing before '='"},
    {"DuplicateParameter", "highpass:cutoff_hz=80:q=1:cutoff_hz=90", "", kInvalid,
     "chain[0]: highpass.cutoff_hz is given twice"},
    {"TrailingComma", "highpass:cutoff_hz=80,", "", kInvalid, "chain[1]: empty processor"},
    {"LeadingComma", ",gain", "", kInvalid, "chain[0]: empty processor"},
    {"DoubledComma", "gain,,limiter", "", kInvalid, "chain[1]: empty processor"},
    {"BlankSegment", "gain, ,limiter", "", kInvalid, "chain[1]: empty processor"},
    {"TrailingColon", "gain:", "", kInvalid, "chain[0]: gain: empty parameter"},
    {"DoubledColon", "gain::gain_db=1", "", kInvalid, "gain: empty parameter"},
    {"MissingProcessorName", ":gain_db=1", "", kInvalid, "chain[0]: missing processor name"},
    {"RepeatedParameterIsJsonOnly", "mix:matrix=1", "", kInvalid,
     "chain[0]: mix.matrix is a list, which the one-line form cannot carry: give the chain as "
     "JSON, e.g. [{\"mix\":{\"matrix\":...}}]"},
    // JSON errors.
    {"JsonUnknownProcessor", R"([{"hipass":{}}])", "", kInvalid, "invalid JSON chain"},
    {"JsonBadValue", R"([{"highpass":{"cutoffHz":"abc"}}])", "", kInvalid, "invalid JSON chain"},
    {"JsonUnterminated", "[{\"gain\":{}}", "", kInvalid, "invalid JSON chain"},
    {"JsonArrayWithTrailingFields", R"([{"gain":{}}], "streamId": "x")", "", kInvalid,
     "not a single JSON array"},
    {"JsonObjectUnknownField", R"({"bogus":1})", "", kInvalid, "invalid JSON StreamConfig"},
    {"JsonObjectWithMoreThanChain", R"({"chain":[],"streamId":"x"})", "", kInvalid,
     "sets more than its chain"},
};

class ParseChainTest : public ::testing::TestWithParam<ChainCase> {};

TEST_P(ParseChainTest, GivesTheExpectedChainOrError) {
  const ChainCase& c = GetParam();
  absl::StatusOr<std::vector<v1::ProcessorSpec>> got = ParseChain(c.input);
  if (c.want_code != kOk) {
    EXPECT_THAT(got, StatusIs(c.want_code, HasSubstr(c.want_error)));
    return;
  }
  ASSERT_THAT(got, IsOk());
  ExpectSameChain(*got, ChainFromJson(c.want_chain));
}

TEST_P(ParseChainTest, ParseStreamConfigAgreesForChains) {
  const ChainCase& c = GetParam();
  absl::StatusOr<v1::StreamConfig> got = ParseStreamConfig(c.input);
  if (c.name == "JsonObjectWithMoreThanChain") {  // Refused by ParseChain only.
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(got->stream_id(), "x");
    return;
  }
  if (c.want_code != kOk) {
    EXPECT_THAT(got, StatusIs(c.want_code, HasSubstr(c.want_error)));
    return;
  }
  ASSERT_THAT(got, IsOk());
  ExpectSameChain({got->chain().begin(), got->chain().end()}, ChainFromJson(c.want_chain));
  v1::StreamConfig rest = *got;
  rest.clear_chain();
  EXPECT_EQ(rest.ByteSizeLong(), 0u) << rest.ShortDebugString();
}

INSTANTIATE_TEST_SUITE_P(Table, ParseChainTest, ::testing::ValuesIn(kChainCases),
                         [](const ::testing::TestParamInfo<ChainCase>& info) {
                           return info.param.name;
                         });

// Every valid chain of the table prints back to the one-line form (when its parameters are
// all scalars) and to JSON, and both parse to the same chain.
TEST(FormatChainTest, ValidChainsOfTheTableRoundTrip) {
  for (const ChainCase& c : kChainCases) {
    if (c.want_code != kOk) continue;
    SCOPED_TRACE(c.name);
    const std::vector<v1::ProcessorSpec> chain = ChainFromJson(c.want_chain);
    absl::StatusOr<std::vector<v1::ProcessorSpec>> from_json = ParseChain(FormatChainJson(chain));
    ASSERT_THAT(from_json, IsOk());
    ExpectSameChain(*from_json, chain);
    if (c.name == "JsonArrayCarriesMixMatrix") continue;  // JSON-only parameter.
    const std::string line = FormatChain(chain);
    absl::StatusOr<std::vector<v1::ProcessorSpec>> reparsed = ParseChain(line);
    ASSERT_THAT(reparsed, IsOk()) << line;
    ExpectSameChain(*reparsed, chain);
  }
}

TEST(ParseStreamConfigTest, KeepsEveryFieldOfAJsonStreamConfig) {
  absl::StatusOr<v1::StreamConfig> got = ParseStreamConfig(
      R"( {"input":{"encoding":"PCM_S16LE","sampleRateHz":16000,"channels":1},
           "output":{"sampleRateHz":8000},"streamId":"call-7","dither":"DITHER_TPDF",
           "metrics":{"omitLevels":true},"chain":[{"gain":{"gainDb":-3}}]} )");
  ASSERT_THAT(got, IsOk());
  v1::StreamConfig want;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(input { encoding: PCM_S16LE sample_rate_hz: 16000 channels: 1 }
           output { sample_rate_hz: 8000 }
           stream_id: "call-7"
           dither: DITHER_TPDF
           metrics { omit_levels: true }
           chain { gain { gain_db: -3 } })pb",
      &want));
  EXPECT_TRUE(MessageDifferencer::Equals(*got, want)) << got->ShortDebugString();
}

// Each processor the proto defines parses by name alone, and with every scalar parameter set
// prints and parses back exactly, floats included (their shortest form is exact).
TEST(FormatChainTest, EveryProcessorWithEveryScalarParameterRoundTrips) {
  const google::protobuf::OneofDescriptor& oneof =
      *v1::ProcessorSpec::descriptor()->FindOneofByName("processor");
  ASSERT_GT(oneof.field_count(), 0);
  std::vector<v1::ProcessorSpec> chain;
  for (int i = 0; i < oneof.field_count(); ++i) {
    const FieldDescriptor& processor = *oneof.field(i);
    EXPECT_THAT(ParseChain(processor.name()), IsOk()) << processor.name();
    v1::ProcessorSpec& spec = chain.emplace_back();
    Message& params = *spec.GetReflection()->MutableMessage(&spec, &processor);
    const google::protobuf::Reflection& r = *params.GetReflection();
    for (int f = 0; f < params.GetDescriptor()->field_count(); ++f) {
      const FieldDescriptor& field = *params.GetDescriptor()->field(f);
      if (field.is_repeated() || field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) continue;
      switch (field.cpp_type()) {
        case FieldDescriptor::CPPTYPE_FLOAT:
          r.SetFloat(&params, &field, -1.0f / 3.0f + static_cast<float>(f));
          break;
        case FieldDescriptor::CPPTYPE_DOUBLE:
          r.SetDouble(&params, &field, 0.1 + f);
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          r.SetInt32(&params, &field, -7 - f);
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          r.SetUInt32(&params, &field, 7 + f);
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          r.SetBool(&params, &field, true);
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          r.SetEnum(&params, &field,
                    field.enum_type()->value(field.enum_type()->value_count() - 1));
          break;
        default:
          break;
      }
    }
  }
  const std::string line = FormatChain(chain);
  absl::StatusOr<std::vector<v1::ProcessorSpec>> reparsed = ParseChain(line);
  ASSERT_THAT(reparsed, IsOk()) << line;
  ExpectSameChain(*reparsed, chain);
}

TEST(FormatChainTest, PrintsTheOneLineFormInFieldOrder) {
  EXPECT_EQ(FormatChain(ChainFromJson(
                R"([{"limiter":{"truePeak":true,"ceilingDb":-1}},{"gain":{"gainDb":0.1}}])")),
            "limiter:ceiling_db=-1:true_peak=true,gain:gain_db=0.1");
  EXPECT_EQ(FormatChain(std::vector<v1::ProcessorSpec>{}), "");
}

TEST(FormatChainTest, MarksASpecWithNoProcessor) {
  EXPECT_EQ(FormatChain(ChainFromJson(R"([{"gain":{}},{}])")), "gain,(none)");
}

TEST(FormatChainTest, ShowsJsonOnlyParametersThatThenNeedJson) {
  const std::vector<v1::ProcessorSpec> chain =
      ChainFromJson(R"([{"mix":{"outputChannels":1,"matrix":[0.5,0.25]}}])");
  const std::string line = FormatChain(chain);
  EXPECT_EQ(line, "mix:output_channels=1:matrix=[0.5 0.25]");
  EXPECT_THAT(ParseChain(line), StatusIs(kInvalid, HasSubstr("give the chain as JSON")));
  absl::StatusOr<std::vector<v1::ProcessorSpec>> json = ParseChain(FormatChainJson(chain));
  ASSERT_THAT(json, IsOk());
  ExpectSameChain(*json, chain);
}

// SetScalarFieldFromText on value types no processor has yet: enums, signed and 64-bit
// integers, doubles, strings, and the kinds it must refuse.
struct FieldCase {
  const Message* prototype;
  std::string field;
  std::string text;
  std::string want_textproto;  // The message after a successful set.
  absl::StatusCode want_code = kOk;
  std::string want_error = "";
};

TEST(SetScalarFieldFromTextTest, ParsesByFieldType) {
  const Message* format = &v1::AudioFormat::default_instance();
  const Message* config = &v1::StreamConfig::default_instance();
  const Message* info = &v1::ParameterInfo::default_instance();
  const Message* metrics = &v1::ChunkMetrics::default_instance();
  const Message* field_proto = &google::protobuf::FieldDescriptorProto::default_instance();
  const FieldCase cases[] = {
      {format, "encoding", "PCM_F32LE", "encoding: PCM_F32LE"},
      {format, "encoding", "pcm_f32le", "encoding: PCM_F32LE"},
      {format, "encoding", "F32", "", kInvalid,
       "'F32' is not one of ENCODING_UNSPECIFIED, PCM_S16LE, PCM_S24LE"},
      {config, "dither", "dither_tpdf", "dither: DITHER_TPDF"},
      {format, "sample_rate_hz", "48000", "sample_rate_hz: 48000"},
      {field_proto, "number", "-5", "number: -5"},
      {field_proto, "number", "2147483648", "", kInvalid,
       "'2147483648' is not a whole number in [-2147483648, 2147483647]"},
      {metrics, "sequence", "18446744073709551615", "sequence: 18446744073709551615"},
      {metrics, "sequence", "-1", "", kInvalid, "is not a whole number"},
      {info, "default_value", "1e300", "default_value: 1e300"},
      {info, "default_value", "1e400", "", kInvalid, "'1e400' is not a finite number"},
      {info, "default_value", "0x10", "", kInvalid, "'0x10' is not a number"},
      {info, "name", "any text", "name: \"any text\""},
      {info, "required", "TRUE", "required: true"},
      {info, "allowed_values", "a", "", kInvalid, "allowed_values is a list"},
      {config, "input", "x", "", kInvalid, "input is nested"},
      {&v1::AudioChunk::default_instance(), "data", "x", "", kInvalid, "data is binary"},
  };
  for (const FieldCase& c : cases) {
    SCOPED_TRACE(c.prototype->GetDescriptor()->name() + "." + c.field + " = " + c.text);
    std::unique_ptr<Message> message(c.prototype->New());
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(c.field);
    ASSERT_NE(field, nullptr);
    absl::Status status = SetScalarFieldFromText(*field, c.text, *message);
    if (c.want_code != kOk) {
      EXPECT_THAT(status, StatusIs(c.want_code, HasSubstr(c.want_error)));
      continue;
    }
    ASSERT_THAT(status, IsOk());
    std::unique_ptr<Message> want(c.prototype->New());
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(c.want_textproto, want.get()));
    EXPECT_TRUE(MessageDifferencer::Equals(*message, *want)) << message->ShortDebugString();
  }
}

}  // namespace
}  // namespace audioproc::client
