// Bad input on a Process stream (DESIGN §6): each gets its exact status and a message naming
// the field; invalid updates are refused in band; other streams are unaffected.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/signals.h"

namespace audioproc {
namespace {

using testing::ChunkRequest;
using testing::ChunkRequests;
using testing::ConfigRequest;
using testing::Exchange;
using testing::ExchangeResult;
using ::testing::HasSubstr;
using testing::MakeConfig;

class BadStreamTest : public testing::InProcessServerTest {};

// DESIGN §6: each bad input gets its exact code and a message naming the field.
struct BadInputCase {
  const char* name;
  std::vector<v1::ProcessRequest> (*requests)();
  grpc::StatusCode code;
  const char* message;
  bool ready = false;  // whether a valid config came before the bad input
};

class BadInputTest : public testing::InProcessServerTest,
                     public ::testing::WithParamInterface<BadInputCase> {};

std::vector<v1::ProcessRequest> WithChain(const char* chain) {
  return {ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, chain)), ChunkRequest("\x01\x02")};
}

TEST_P(BadInputTest, GetsItsStatusAndNamesTheField) {
  // A bystander stream, open before the bad input arrives and used after it.
  grpc::ClientContext bystander_context;
  auto bystander = stub_->Process(&bystander_context);
  ASSERT_TRUE(bystander->Write(ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1))));
  v1::ProcessResponse response;
  ASSERT_TRUE(bystander->Read(&response));
  ASSERT_TRUE(bystander->Write(ChunkRequest(std::string(640, '\x01'))));
  ASSERT_TRUE(bystander->Read(&response));

  const ExchangeResult result = Exchange(*stub_, GetParam().requests());
  EXPECT_EQ(result.status.error_code(), GetParam().code) << result.status.error_message();
  EXPECT_THAT(result.status.error_message(), HasSubstr(GetParam().message));
  // A bad config ends the call before `ready`; a later error ends it without tail or summary.
  EXPECT_EQ(result.has_ready(), GetParam().ready);
  EXPECT_EQ(result.tail(), nullptr);
  EXPECT_EQ(result.summary(), nullptr);
  // The server keeps serving others: the bystander goes on, and new streams start.
  ASSERT_TRUE(bystander->Write(ChunkRequest(std::string(640, '\x02'))));
  ASSERT_TRUE(bystander->Read(&response));
  EXPECT_EQ(response.chunk().data(), std::string(640, '\x02'));
  bystander->WritesDone();
  while (bystander->Read(&response)) {
  }
  EXPECT_TRUE(bystander->Finish().ok());
  const ExchangeResult next = Exchange(*stub_, {ConfigRequest(MakeConfig(v1::PCM_S16LE, 8000, 1))});
  EXPECT_TRUE(next.status.ok()) << next.status.error_message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadInputTest,
    ::testing::Values(
        BadInputCase{"FirstMessageIsAChunk", [] { return std::vector{ChunkRequest("ab")}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "first message must be a config"},
        BadInputCase{"NoMessageAtAll", [] { return std::vector<v1::ProcessRequest>{}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "config"},
        BadInputCase{"EmptyRequest", [] { return std::vector{v1::ProcessRequest()}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "config"},
        BadInputCase{"UnknownEncoding",
                     [] {
                       v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1);
                       config.mutable_input()->clear_encoding();
                       return std::vector{ConfigRequest(config)};
                     },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.input.encoding"},
        BadInputCase{"RateTooLow",
                     [] { return std::vector{ConfigRequest(MakeConfig(v1::PCM_S16LE, 4000, 1))}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.input.sample_rate_hz"},
        BadInputCase{"TooManyChannels",
                     [] { return std::vector{ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 9))}; },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.input.channels"},
        BadInputCase{"EmptyProcessor", [] { return WithChain("[{}]"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.chain[0]"},
        BadInputCase{"MissingRequiredParameter", [] { return WithChain(R"([{"highpass":{}}])"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "chain[0].highpass.cutoff_hz"},
        BadInputCase{"ParameterOutOfRange",
                     [] { return WithChain(R"([{"gain":{}},{"gain":{"gainDb":99}}])"); },
                     grpc::StatusCode::INVALID_ARGUMENT,
                     "chain[1].gain.gain_db must be in [-120, 60]"},
        BadInputCase{"CutoffAboveNyquist",
                     [] { return WithChain(R"([{"lowpass":{"cutoffHz":9000}}])"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "lowpass.cutoff_hz must be in (0, 8000)"},
        BadInputCase{"NaNParameter", [] { return WithChain(R"([{"gain":{"gainDb":"NaN"}}])"); },
                     grpc::StatusCode::INVALID_ARGUMENT, "gain.gain_db"},
        BadInputCase{"BadStreamId",
                     [] {
                       v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1);
                       config.set_stream_id("no spaces allowed");
                       return std::vector{ConfigRequest(config)};
                     },
                     grpc::StatusCode::INVALID_ARGUMENT, "config.stream_id"},
        BadInputCase{"ChainLongerThanTheLimit",
                     [] {
                       v1::StreamConfig config = MakeConfig(v1::PCM_S16LE, 16000, 1);
                       for (int i = 0; i < 33; ++i) config.add_chain()->mutable_gain();
                       return std::vector{ConfigRequest(config)};
                     },
                     grpc::StatusCode::INVALID_ARGUMENT, "--max_chain_length=32"},
        BadInputCase{"SecondConfig",
                     [] {
                       auto config = ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1));
                       return std::vector{config, config};
                     },
                     grpc::StatusCode::INVALID_ARGUMENT, "second config", true},
        BadInputCase{"ChunkLargerThanTheLimit",
                     [] {
                       return std::vector{ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1)),
                                          ChunkRequest(std::string(1048577, '\0'))};
                     },
                     grpc::StatusCode::RESOURCE_EXHAUSTED, "--max_chunk_bytes=1048576", true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(BadStreamTest, ChunksAcceptedBeforeAnOversizedChunkAreAnsweredFirst) {
  std::vector<v1::ProcessRequest> requests = {
      ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1)), ChunkRequest(std::string(640, '\0')),
      ChunkRequest(std::string(640, '\0')), ChunkRequest(std::string(1048577, '\0'))};
  const ExchangeResult result = Exchange(*stub_, requests);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_TRUE(result.has_ready());
  EXPECT_EQ(result.chunks().size(), 2u);
  EXPECT_EQ(result.tail(), nullptr);
  EXPECT_EQ(result.summary(), nullptr);
}

// An invalid mid-stream update is refused in band, naming the parameter (and its range where
// one applies), and the stream goes on unchanged.
struct BadUpdateCase {
  const char* name;
  void (*make)(v1::ProcessorUpdate*);
  const char* message;
};

class BadUpdateTest : public testing::InProcessServerTest,
                      public ::testing::WithParamInterface<BadUpdateCase> {};

TEST_P(BadUpdateTest, IsRefusedInBandAndTheStreamGoesOnUnchanged) {
  const std::string audio = testing::ToS16Bytes(testing::Sine(500, 16000, 640, 0.25));
  v1::ProcessRequest update;
  GetParam().make(update.mutable_update()->add_updates());
  const auto config = ConfigRequest(MakeConfig(
      v1::PCM_S16LE, 16000, 1, R"([{"gain":{"gainDb":-6}},{"highpass":{"cutoffHz":100}}])"));
  const ExchangeResult refused = Exchange(*stub_, {config, ChunkRequest(audio.substr(0, 640)),
                                                   update, ChunkRequest(audio.substr(640))});
  const ExchangeResult plain = Exchange(
      *stub_, {config, ChunkRequest(audio.substr(0, 640)), ChunkRequest(audio.substr(640))});
  ASSERT_TRUE(refused.status.ok()) << refused.status.error_message();
  const auto chunks = refused.chunks();
  ASSERT_EQ(chunks[1]->events_size(), 1);
  EXPECT_FALSE(chunks[1]->events(0).update().applied());
  EXPECT_THAT(chunks[1]->events(0).update().message(), HasSubstr(GetParam().message));
  EXPECT_EQ(refused.audio(), plain.audio()) << "a refused update changes nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadUpdateTest,
    ::testing::Values(BadUpdateCase{"WrongProcessorAtIndex",
                                    [](v1::ProcessorUpdate* u) {
                                      u->set_index(0);
                                      u->mutable_spec()->mutable_limiter()->set_ceiling_db(-3);
                                    },
                                    "chain[0] is gain, not limiter"},
                      BadUpdateCase{"OutOfRange",
                                    [](v1::ProcessorUpdate* u) {
                                      u->set_index(0);
                                      u->mutable_spec()->mutable_gain()->set_gain_db(75);
                                    },
                                    "gain.gain_db must be in [-120, 60] dB, got 75"},
                      BadUpdateCase{"AboveNyquist",
                                    [](v1::ProcessorUpdate* u) {
                                      u->set_index(1);
                                      u->mutable_spec()->mutable_highpass()->set_cutoff_hz(8000);
                                    },
                                    "highpass.cutoff_hz must be in (0, 8000) Hz (below Nyquist)"},
                      BadUpdateCase{
                          "NotRuntimeUpdatable",
                          [](v1::ProcessorUpdate* u) {
                            u->set_index(1);
                            u->mutable_spec()->mutable_highpass()->set_order(4);
                          },
                          "highpass.order cannot be changed while streaming; what can: cutoff_hz"},
                      BadUpdateCase{"IndexPastTheChain",
                                    [](v1::ProcessorUpdate* u) {
                                      u->set_index(2);
                                      u->mutable_spec()->mutable_gain()->set_gain_db(1);
                                    },
                                    "index is 2, past the chain of 2 processors"},
                      BadUpdateCase{"EmptySpec", [](v1::ProcessorUpdate* u) { u->set_index(0); },
                                    "update.updates[0].spec is empty"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(BadStreamTest, AnUpdateWithOneBadEntryAppliesNone) {
  const std::string audio = testing::ToS16Bytes(testing::Sine(500, 16000, 640, 0.25));
  v1::ProcessRequest update;
  auto* good = update.mutable_update()->add_updates();
  good->set_index(0);
  good->mutable_spec()->mutable_gain()->set_gain_db(-20);
  auto* bad = update.mutable_update()->add_updates();
  bad->set_index(0);
  bad->mutable_spec()->mutable_gain()->set_gain_db(1000);
  const auto config = ConfigRequest(MakeConfig(v1::PCM_S16LE, 16000, 1, R"([{"gain":{}}])"));
  const ExchangeResult result = Exchange(*stub_, {config, update, ChunkRequest(audio)});
  ASSERT_TRUE(result.status.ok());
  EXPECT_FALSE(result.chunks()[0]->events(0).update().applied());
  EXPECT_EQ(result.audio(), audio) << "the valid entry was not applied either";
}

}  // namespace
}  // namespace audioproc
