// Server reflection as grpcurl and buf curl use it, both versions: list_services names every
// service; file_containing_symbol returns the defining file with its dependencies, from which
// a client's own descriptor pool rebuilds the API; the other requests; errors in band.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_server.h"

namespace audioproc {
namespace {

using ::testing::ElementsAre;
namespace v1r = grpc::reflection::v1;

// Sends `requests` on one reflection stream; the responses, in order.
template <typename Stub, typename Request, typename Response>
std::vector<Response> Ask(Stub& stub, const std::vector<Request>& requests,
                          grpc::Status* status) {
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
      "audioproc.v1.AudioProcessor", "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"};
  auto v1_stub = v1r::ServerReflection::NewStub(channel_);
  grpc::Status status;
  auto v1 = Ask<v1r::ServerReflection::Stub, v1r::ServerReflectionRequest,
                v1r::ServerReflectionResponse>(*v1_stub, {ListServices()}, &status);
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
  EXPECT_EQ(old[0].list_services_response().service_size(), 4);
}

TEST_F(ReflectionTest, ASymbolsFileAndItsDependenciesRebuildTheApiInAClientsPool) {
  auto stub = v1r::ServerReflection::NewStub(channel_);
  grpc::Status status;
  auto responses = Ask<v1r::ServerReflection::Stub, v1r::ServerReflectionRequest,
                       v1r::ServerReflectionResponse>(
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
  no_extension.mutable_file_containing_extension()->set_containing_type("audioproc.v1.StreamConfig");
  no_extension.mutable_file_containing_extension()->set_extension_number(1000);
  v1r::ServerReflectionRequest empty;  // sets no request at all
  grpc::Status status;
  auto responses = Ask<v1r::ServerReflection::Stub, v1r::ServerReflectionRequest,
                       v1r::ServerReflectionResponse>(
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
  EXPECT_EQ(responses[7].list_services_response().service_size(), 4);
}

}  // namespace
}  // namespace audioproc
