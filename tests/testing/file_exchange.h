// Calling ProcessFile from tests with the generated stub only.
//
//   v1::ProcessFileRequest request = FileRequest(wav, R"({"output":{"container":"FLAC"}})");
//   FileResult result = CallProcessFile(*stub_, request);
//
// Header-only, beside sound_files.h, for the ProcessFile tests.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_TESTS_TESTING_FILE_EXCHANGE_H_
#define AUDIOPROC_TESTS_TESTING_FILE_EXCHANGE_H_

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "audioproc/v1/audioproc.grpc.pb.h"

namespace audioproc::testing {

struct FileResult {
  grpc::Status status;
  v1::ProcessFileResponse response;
};

inline FileResult CallProcessFile(v1::AudioProcessor::Stub& stub,
                                  const v1::ProcessFileRequest& request) {
  grpc::ClientContext context;
  FileResult result;
  result.status = stub.ProcessFile(&context, request, &result.response);
  return result;
}

// A request for `file` whose other fields are given as proto3 JSON (chain, output, dither).
// Aborts the test binary on malformed JSON.
inline v1::ProcessFileRequest FileRequest(std::string file, const std::string& json = "{}") {
  v1::ProcessFileRequest request;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &request);
  if (!status.ok()) {
    std::fprintf(stderr, "bad ProcessFileRequest JSON %s: %s\n", json.c_str(),
                 status.ToString().c_str());
    std::abort();
  }
  request.set_file(std::move(file));
  return request;
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_FILE_EXCHANGE_H_
