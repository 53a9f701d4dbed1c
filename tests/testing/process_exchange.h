// Talking to a Process stream from tests, with the generated stub only (no client library),
// so that tests can send exactly the malformed input they mean to.
//
// Exchange writes `requests` on one thread while reading every response on another (a
// stream under backpressure would otherwise deadlock a single-threaded test), half-closes,
// and returns the responses with the final status.
#ifndef AUDIOPROC_TESTS_TESTING_PROCESS_EXCHANGE_H_
#define AUDIOPROC_TESTS_TESTING_PROCESS_EXCHANGE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "audioproc/v1/audioproc.grpc.pb.h"

namespace audioproc::testing {

struct ExchangeResult {
  std::vector<v1::ProcessResponse> responses;
  grpc::Status status;

  // Convenience views of `responses`.
  bool has_ready() const;
  const v1::StreamReady& ready() const;                   // the first response's ready
  std::vector<const v1::ProcessedChunk*> chunks() const;  // every chunk, tail included
  const v1::ProcessedChunk* tail() const;                 // null if none
  const v1::StreamSummary* summary() const;               // null if none
  std::string audio() const;                              // every chunk's data, concatenated
};

std::shared_ptr<grpc::Channel> LoopbackChannel(int port);

ExchangeResult Exchange(v1::AudioProcessor::Stub& stub,
                        const std::vector<v1::ProcessRequest>& requests, bool half_close = true);

// Request builders.
v1::ProcessRequest ConfigRequest(const v1::StreamConfig& config);
v1::ProcessRequest ChunkRequest(std::string data, uint64_t sequence = 0);
// A StreamConfig of `encoding` at `rate` with `channels`, and the chain given as proto3 JSON
// (e.g. R"([{"gain":{"gainDb":6}}])"). Aborts the test binary on malformed JSON.
v1::StreamConfig MakeConfig(v1::Encoding encoding, uint32_t rate, uint32_t channels,
                            const std::string& chain_json = "[]");
// `data` cut into pieces of `chunk_bytes`, each a chunk request.
std::vector<v1::ProcessRequest> ChunkRequests(const std::string& data, size_t chunk_bytes);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_PROCESS_EXCHANGE_H_
