#include "service/reflection_answer.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/support/status.h>

#include "absl/strings/str_cat.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace audioproc {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;

template <typename Response>
void SetError(grpc::StatusCode code, const std::string& message, Response* response) {
  response->mutable_error_response()->set_error_code(static_cast<int32_t>(code));
  response->mutable_error_response()->set_error_message(message);
}

// `file` itself, always, and then each dependency not yet sent on this stream.
template <typename Response>
void AddFile(const FileDescriptor* file, bool requested, SentFiles* sent, Response* response) {
  if (!sent->insert(file->name()).second && !requested) return;
  FileDescriptorProto proto;
  file->CopyTo(&proto);
  response->mutable_file_descriptor_response()->add_file_descriptor_proto(
      proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFile(file->dependency(i), /*requested=*/false, sent, response);
  }
}

template <typename Request, typename Response>
void Answer(const std::vector<std::string>& services, const Request& request, SentFiles* sent,
            Response* response) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  response->set_valid_host(request.host());
  *response->mutable_original_request() = request;
  switch (request.message_request_case()) {
    case Request::kListServices:
      for (const std::string& name : services) {
        response->mutable_list_services_response()->add_service()->set_name(name);
      }
      return;
    case Request::kFileByFilename:
      if (const FileDescriptor* file = pool->FindFileByName(request.file_by_filename())) {
        return AddFile(file, /*requested=*/true, sent, response);
      }
      return SetError(grpc::StatusCode::NOT_FOUND,
                      absl::StrCat("no file named ", request.file_by_filename()), response);
    case Request::kFileContainingSymbol:
      if (const FileDescriptor* file =
              pool->FindFileContainingSymbol(request.file_containing_symbol())) {
        return AddFile(file, /*requested=*/true, sent, response);
      }
      return SetError(grpc::StatusCode::NOT_FOUND,
                      absl::StrCat("no symbol named ", request.file_containing_symbol()), response);
    case Request::kFileContainingExtension: {
      const auto& extension = request.file_containing_extension();
      const Descriptor* type = pool->FindMessageTypeByName(extension.containing_type());
      const FieldDescriptor* field =
          type == nullptr ? nullptr
                          : pool->FindExtensionByNumber(type, extension.extension_number());
      if (field != nullptr) return AddFile(field->file(), /*requested=*/true, sent, response);
      return SetError(grpc::StatusCode::NOT_FOUND,
                      absl::StrCat("no extension ", extension.extension_number(), " of ",
                                   extension.containing_type()),
                      response);
    }
    case Request::kAllExtensionNumbersOfType: {
      const Descriptor* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        return SetError(
            grpc::StatusCode::NOT_FOUND,
            absl::StrCat("no message type named ", request.all_extension_numbers_of_type()),
            response);
      }
      std::vector<const FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* numbers = response->mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const FieldDescriptor* field : extensions)
        numbers->add_extension_number(field->number());
      return;
    }
    default:
      return SetError(grpc::StatusCode::INVALID_ARGUMENT,
                      "the request sets none of the reflection requests this server knows",
                      response);
  }
}

}  // namespace

std::vector<std::string> ReflectionServiceNames() {
  return {grpc::reflection::v1::ServerReflection::service_full_name(),
          grpc::reflection::v1alpha::ServerReflection::service_full_name()};
}

void AnswerReflection(const std::vector<std::string>& services,
                      const grpc::reflection::v1::ServerReflectionRequest& request, SentFiles* sent,
                      grpc::reflection::v1::ServerReflectionResponse* response) {
  Answer(services, request, sent, response);
}

void AnswerReflection(const std::vector<std::string>& services,
                      const grpc::reflection::v1alpha::ServerReflectionRequest& request,
                      SentFiles* sent,
                      grpc::reflection::v1alpha::ServerReflectionResponse* response) {
  Answer(services, request, sent, response);
}

}  // namespace audioproc
