#include "tests/testing/process_exchange.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"

namespace audioproc::testing {

bool ExchangeResult::has_ready() const {
  return !responses.empty() && responses.front().has_ready();
}

const v1::StreamReady& ExchangeResult::ready() const { return responses.front().ready(); }

std::vector<const v1::ProcessedChunk*> ExchangeResult::chunks() const {
  std::vector<const v1::ProcessedChunk*> out;
  for (const auto& response : responses) {
    if (response.has_chunk()) out.push_back(&response.chunk());
  }
  return out;
}

const v1::ProcessedChunk* ExchangeResult::tail() const {
  for (const auto& response : responses) {
    if (response.has_chunk() && response.chunk().tail()) return &response.chunk();
  }
  return nullptr;
}

const v1::StreamSummary* ExchangeResult::summary() const {
  for (const auto& response : responses) {
    if (response.has_summary()) return &response.summary();
  }
  return nullptr;
}

std::string ExchangeResult::audio() const {
  std::string out;
  for (const auto* chunk : chunks()) out += chunk->data();
  return out;
}

std::shared_ptr<grpc::Channel> LoopbackChannel(int port) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

ExchangeResult Exchange(v1::AudioProcessor::Stub& stub,
                        const std::vector<v1::ProcessRequest>& requests, bool half_close) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub.Process(&context);
  std::thread writer([&] {
    for (const auto& request : requests) {
      if (!stream->Write(request)) return;  // the server ended the call
    }
    if (half_close) stream->WritesDone();
  });
  ExchangeResult result;
  v1::ProcessResponse response;
  while (stream->Read(&response)) result.responses.push_back(response);
  writer.join();
  result.status = stream->Finish();
  return result;
}

v1::ProcessRequest ConfigRequest(const v1::StreamConfig& config) {
  v1::ProcessRequest request;
  *request.mutable_config() = config;
  return request;
}

v1::ProcessRequest ChunkRequest(std::string data, uint64_t sequence) {
  v1::ProcessRequest request;
  request.mutable_chunk()->set_data(std::move(data));
  request.mutable_chunk()->set_sequence(sequence);
  return request;
}

v1::StreamConfig MakeConfig(v1::Encoding encoding, uint32_t rate, uint32_t channels,
                            const std::string& chain_json) {
  v1::StreamConfig config;
  const auto status = google::protobuf::util::JsonStringToMessage(
      absl::StrCat("{\"chain\":", chain_json, "}"), &config);
  if (!status.ok()) {
    std::fprintf(stderr, "MakeConfig: bad chain JSON %s: %s\n", chain_json.c_str(),
                 status.ToString().c_str());
    std::abort();
  }
  config.mutable_input()->set_encoding(encoding);
  config.mutable_input()->set_sample_rate_hz(rate);
  config.mutable_input()->set_channels(channels);
  return config;
}

std::vector<v1::ProcessRequest> ChunkRequests(const std::string& data, size_t chunk_bytes) {
  std::vector<v1::ProcessRequest> out;
  for (size_t offset = 0; offset < data.size(); offset += chunk_bytes) {
    out.push_back(ChunkRequest(data.substr(offset, chunk_bytes)));
  }
  return out;
}

}  // namespace audioproc::testing
