// Server reflection as grpcurl and buf curl use it, both versions: list_services names every
// service; file_containing_symbol returns the defining file with its dependencies, from which
// a client's own descriptor pool rebuilds the API; the other requests; errors in band. Open
// streams hold no server thread and end DEADLINE_EXCEEDED after --idle_timeout_seconds; the
// real binary answers with a token and stops cleanly with streams open.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/process_memory.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ServerProcess;
namespace v1r = grpc::reflection::v1;
namespace alpha = grpc::reflection::v1alpha;

// Sends `requests` on one reflection stream; the responses, in order.
template <typename Stub, typename Request, typename Response>
std::vector<Response> Ask(Stub& stub, const std::vector<Request>& requests, grpc::Status* status) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub.ServerReflectionInfo(&context);
  std::vector<Response> responses;
  for (const Request& request : requests) {
    if (!stream->Write(request)) break;
    Response response;
    if (!stream->Read(&response)) break;
    responses.push_back(response);
  }
  stream->WritesDone();
  *status = stream->Finish();
  return responses;
}

v1r::ServerReflectionRequest ListServices() {
  v1r::ServerReflectionRequest request;
  request.set_list_services("");
  return request;
}

v1r::ServerReflectionRequest Symbol(const std::string& symbol) {
  v1r::ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  return request;
}

std::vector<std::string> FileNames(const v1r::ServerReflectionResponse& response) {
  std::vector<std::string> names;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    EXPECT_TRUE(file.ParseFromString(bytes));
    names.push_back(file.name());
  }
  return names;
}

class ReflectionTest : public testing::InProcessServerTest {};

TEST_F(ReflectionTest, ListServicesNamesEveryServiceInBothVersions) {
  const std::vector<std::string> expected = {
      "audioproc.v1.AudioProcessor", "audioproc.v1.Admin", "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"};
  auto v1_stub = v1r::ServerReflection::NewStub(channel_);
  grpc::Status status;
  auto v1 =
      Ask<v1r::ServerReflection::Stub, v1r::ServerReflectionRequest, v1r::ServerReflectionResponse>(
          *v1_stub, {ListServices()}, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(v1.size(), 1u);
  std::vector<std::string> names;
  for (const auto& service : v1[0].list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAreArray(expected));
  EXPECT_EQ(v1[0].original_request().list_services(), "");

  namespace alpha = grpc::reflection::v1alpha;
  auto alpha_stub = alpha::ServerReflection::NewStub(channel_);
  alpha::ServerReflectionRequest request;
  request.set_list_services("");
  auto old = Ask<alpha::ServerReflection::Stub, alpha::ServerReflectionRequest,
                 alpha::ServerReflectionResponse>(*alpha_stub, {request}, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].list_services_response().service_size(), 5);
}

TEST_F(ReflectionTest, ASymbolsFileAndItsDependenciesRebuildTheApiInAClientsPool) {
  auto stub = v1r::ServerReflection::NewStub(channel_);
  grpc::Status status;
  auto responses =
      Ask<v1r::ServerReflection::Stub, v1r::ServerReflectionRequest, v1r::ServerReflectionResponse>(
          *stub,
          {Symbol("audioproc.v1.AudioProcessor"), Symbol("audioproc.v1.StreamConfig"),
           Symbol("grpc.health.v1.Health.Check")},
          &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 3u);
  // The defining file first, then what it imports, each once per stream.
  const std::vector<std::string> first = FileNames(responses[0]);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0], "audioproc/v1/audioproc.proto");
  EXPECT_THAT(FileNames(responses[1]), ElementsAre("audioproc/v1/audioproc.proto"));
  EXPECT_THAT(FileNames(responses[2]), ElementsAre("grpc/health/v1/health.proto"));

  // A client's pool, built from nothing but what reflection sent.
  google::protobuf::DescriptorPool pool;
  for (const auto& response : responses) {
    for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      if (pool.FindFileByName(file.name()) == nullptr) {
        ASSERT_NE(pool.BuildFile(file), nullptr) << file.name();
      }
    }
  }
  const google::protobuf::ServiceDescriptor* service =
      pool.FindServiceByName("audioproc.v1.AudioProcessor");
  ASSERT_NE(service, nullptr);
  const google::protobuf::MethodDescriptor* process = service->FindMethodByName("Process");
  ASSERT_NE(process, nullptr);
  EXPECT_TRUE(process->client_streaming() && process->server_streaming());
  EXPECT_NE(service->FindMethodByName("ListProcessors"), nullptr);
  EXPECT_NE(service->FindMethodByName("ProcessFile"), nullptr);
  EXPECT_NE(pool.FindServiceByName("grpc.health.v1.Health"), nullptr);
}

TEST_F(ReflectionTest, FilesByNameExtensionsAndErrorsAnswerInBandAndTheStreamGoesOn) {
  auto stub = v1r::ServerReflection::NewStub(channel_);
  v1r::ServerReflectionRequest by_name;
  by_name.set_file_by_filename("grpc/health/v1/health.proto");
  v1r::ServerReflectionRequest missing_file;
  missing_file.set_file_by_filename("no/such.proto");
  v1r::ServerReflectionRequest extensions;
  extensions.set_all_extension_numbers_of_type("audioproc.v1.StreamConfig");
  v1r::ServerReflectionRequest no_type;
  no_type.set_all_extension_numbers_of_type("audioproc.v1.NoSuchMessage");
  v1r::ServerReflectionRequest no_extension;
  no_extension.mutable_file_containing_extension()->set_containing_type(
      "audioproc.v1.StreamConfig");
  no_extension.mutable_file_containing_extension()->set_extension_number(1000);
  v1r::ServerReflectionRequest empty;  // sets no request at all
  grpc::Status status;
  auto responses =
      Ask<v1r::ServerReflection::Stub, v1r::ServerReflectionRequest, v1r::ServerReflectionResponse>(
          *stub,
          {by_name, missing_file, Symbol("audioproc.v1.Nothing"), extensions, no_type, no_extension,
           empty, ListServices()},
          &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 8u);
  EXPECT_THAT(FileNames(responses[0]), ElementsAre("grpc/health/v1/health.proto"));
  for (int i : {1, 2, 4, 5}) {
    EXPECT_EQ(responses[i].error_response().error_code(), grpc::StatusCode::NOT_FOUND) << i;
  }
  EXPECT_THAT(responses[1].error_response().error_message(), ::testing::HasSubstr("no/such.proto"));
  EXPECT_THAT(responses[2].error_response().error_message(),
              ::testing::HasSubstr("audioproc.v1.Nothing"));
  EXPECT_EQ(responses[3].all_extension_numbers_response().base_type_name(),
            "audioproc.v1.StreamConfig");
  EXPECT_EQ(responses[3].all_extension_numbers_response().extension_number_size(), 0);
  EXPECT_EQ(responses[6].error_response().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(responses[7].list_services_response().service_size(), 5);
}

// A reflection stream left open after one exchange, as grpcurl and IDEs leave theirs.
struct OpenStream {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<
      grpc::ClientReaderWriter<alpha::ServerReflectionRequest, alpha::ServerReflectionResponse>>
      stream;
  absl::Time answered;  // when its last answer arrived
};

alpha::ServerReflectionRequest AlphaListServices() {
  alpha::ServerReflectionRequest request;
  request.set_list_services("");
  return request;
}

// Asks list_services on `open`'s stream; whether it was answered with the four services.
bool AskListServices(OpenStream& open) {
  alpha::ServerReflectionResponse response;
  if (!open.stream->Write(AlphaListServices()) || !open.stream->Read(&response)) return false;
  open.answered = absl::Now();
  return response.list_services_response().service_size() == 5;
}

OpenStream Open(alpha::ServerReflection::Stub& stub, const std::string& token = "") {
  OpenStream open;
  open.context = std::make_unique<grpc::ClientContext>();
  // Far beyond the server's idle timeout: a DEADLINE_EXCEEDED is the server's, not ours.
  open.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  if (!token.empty()) open.context->AddMetadata("authorization", "Bearer " + token);
  open.stream = stub.ServerReflectionInfo(open.context.get());
  return open;
}

class ReflectionIdleTest : public testing::InProcessServerTest {
 protected:
  ReflectionIdleTest() { options_.idle_timeout_seconds = 0.5; }
};

TEST_F(ReflectionIdleTest, AStreamWithNoRequestForTheIdleTimeoutEndsDeadlineExceeded) {
  auto stub = alpha::ServerReflection::NewStub(channel_);
  OpenStream answered = Open(*stub);
  ASSERT_TRUE(AskListServices(answered));
  OpenStream silent = Open(*stub);  // never asks anything
  const absl::Time opened = absl::Now();
  for (OpenStream* open : {&answered, &silent}) {
    // No half-close: the stream stays open, idle, until the server ends it.
    const grpc::Status status = open->stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    EXPECT_THAT(status.error_message(), HasSubstr("--idle_timeout_seconds=0.5"));
  }
  // The server's idle clock starts when its answer is sent, a moment before the client has
  // read it: the bound allows for that moment.
  EXPECT_GE(absl::Now() - std::max(answered.answered, opened), absl::Milliseconds(400));
  // Every call object is gone once its stream ended.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (server_->state().live_calls() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // call objects go just after the client's status
  }
  EXPECT_EQ(server_->state().live_calls(), 0);
}

class ReflectionDrainTest : public testing::InProcessServerTest {};

TEST_F(ReflectionDrainTest, ADrainEndsOpenReflectionStreamsAndLeavesNoCallBehind) {
  auto stub = alpha::ServerReflection::NewStub(channel_);
  OpenStream open = Open(*stub);
  ASSERT_TRUE(AskListServices(open));
  ASSERT_EQ(server_->state().live_calls(), 1);
  // Reflection is not a stream the drain waits for: it ends at gRPC's shutdown, which then
  // finds no call object left.
  server_->Drain();
  EXPECT_EQ(server_->state().live_calls(), 0);
  EXPECT_EQ(open.stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ReflectionServerTest, TheRealServerAnswersWithATokenAndStopsCleanlyWithAStreamOpen) {
  const std::string tokens = testing::ProcessTempDir("audioproc-reflection") + "-tokens";
  std::ofstream(tokens) << "reflect-token\n";
  absl::StatusOr<ServerProcess> server =
      ServerProcess::Start(testing::ServerBinaryPath(), {"--auth_tokens_file=" + tokens});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = testing::LoopbackChannel(server->grpc_port());
  auto stub = alpha::ServerReflection::NewStub(channel);

  OpenStream refused = Open(*stub);
  EXPECT_FALSE(AskListServices(refused));
  EXPECT_EQ(refused.stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // What grpcurl's `list` and `describe audioproc.v1.AudioProcessor` ask, on one stream.
  OpenStream open = Open(*stub, "reflect-token");
  ASSERT_TRUE(AskListServices(open));
  alpha::ServerReflectionRequest describe;
  describe.set_file_containing_symbol("audioproc.v1.AudioProcessor");
  alpha::ServerReflectionResponse response;
  ASSERT_TRUE(open.stream->Write(describe) && open.stream->Read(&response));
  ASSERT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "audioproc/v1/audioproc.proto");
  ASSERT_EQ(file.service_size(), 2);
  EXPECT_EQ(file.service(0).name(), "AudioProcessor");
  EXPECT_EQ(file.service(1).name(), "Admin");

  // SIGTERM with the stream open: the drain does not wait for it; the server exits 0.
  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(absl::Seconds(20)), std::optional<int>(0))
      << testing::ReadFile(server->log_path());
  EXPECT_EQ(open.stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  std::remove(tokens.c_str());
}

TEST(ReflectionServerTest, TwoHundredIdleStreamsHoldNoThreadAndEachEndsDeadlineExceeded) {
  constexpr int kStreams = 200;
  absl::StatusOr<ServerProcess> server =
      ServerProcess::Start(testing::ServerBinaryPath(), {"--idle_timeout_seconds=5"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = testing::LoopbackChannel(server->grpc_port());
  auto stub = alpha::ServerReflection::NewStub(channel);

  // The first stream brings up whatever a server starts for its first call; then the rest.
  std::vector<OpenStream> streams;
  streams.push_back(Open(*stub));
  ASSERT_TRUE(AskListServices(streams.back()));
  const std::optional<int> before = testing::ThreadCount(server->pid());
  for (int i = 1; i < kStreams; ++i) {
    streams.push_back(Open(*stub));
    ASSERT_TRUE(AskListServices(streams.back())) << i;
  }
  const std::optional<int> after = testing::ThreadCount(server->pid());
  ASSERT_TRUE(before && after);
  ::testing::Test::RecordProperty("threads_with_one_stream", *before);
  ::testing::Test::RecordProperty("threads_with_all_streams", *after);
  // A synchronous service would hold one thread per open stream: 199 more.
  EXPECT_LE(*after, *before + 4) << "threads with 1 stream open: " << *before << ", with "
                                 << kStreams << ": " << *after;
  // Every stream was still open when the threads were counted: each answers again.
  for (OpenStream& open : streams) ASSERT_TRUE(AskListServices(open));

  // Then each waits for its next request, and the server ends it DEADLINE_EXCEEDED after the
  // idle timeout.
  for (OpenStream& open : streams) {
    const grpc::Status status = open.stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("--idle_timeout_seconds=5"));
    // As above, less the moment between the server's sending its answer and our reading it.
    EXPECT_GE(absl::Now() - open.answered, absl::Milliseconds(4900));
  }
  // Nothing leaked a thread either.
  EXPECT_LE(*testing::ThreadCount(server->pid()), *before + 4);
}

}  // namespace
}  // namespace audioproc
