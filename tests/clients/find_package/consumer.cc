// Uses the installed headers and libraries: a chain parsed, a WAV written and read back
// (libsndfile through audio_io), and with an address argument, the server's processors listed
// over gRPC.
#include <cstdio>
#include <memory>
#include <string>

#include "clients/audio_file.h"
#include "clients/chain_parser.h"
#include "clients/stream_client.h"

int main(int argc, char** argv) {
  using namespace audioproc;
  absl::StatusOr<v1::StreamConfig> config =
      client::ParseStreamConfig("highpass:cutoff_hz=80,limiter:ceiling_db=-1");
  if (!config.ok() || config->chain_size() != 2) return 2;

  client::PcmAudio audio;
  audio.format.set_encoding(v1::PCM_S16LE);
  audio.format.set_sample_rate_hz(16000);
  audio.format.set_channels(1);
  audio.data = std::string(320, '\x01');
  const std::string path = std::string(argc > 2 ? argv[2] : ".") + "/consumer.wav";
  if (!client::WriteAudioFile(path, audio).ok()) return 3;
  absl::StatusOr<client::PcmAudio> back = client::ReadAudioFile(path);
  if (!back.ok() || back->data != audio.data) return 4;

  if (argc > 1 && std::string(argv[1]) != "-") {
    client::StreamClientOptions options;
    options.address = argv[1];
    absl::StatusOr<std::unique_ptr<client::StreamClient>> stub =
        client::StreamClient::Connect(options);
    if (!stub.ok()) return 5;
    absl::StatusOr<v1::ListProcessorsResponse> list = (*stub)->ListProcessors();
    if (!list.ok()) {
      std::fprintf(stderr, "ListProcessors: %s\n", std::string(list.status().message()).c_str());
      return 6;
    }
    std::printf("%d processors\n", list->processors_size());
  }
  std::printf("consumer ok\n");
  return 0;
}
