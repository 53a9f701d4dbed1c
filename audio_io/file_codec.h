// Encoded audio files in memory <-> interleaved PCM, for ProcessFile, through libsndfile's
// virtual I/O (no temporary files, nothing touches the disk).
//
//   ASSIGN_OR_RETURN(auto decoder, FileDecoder::Open(request.file()));
//   ASSIGN_OR_RETURN(OutputPlan plan, PlanOutput(request.output(), decoder->info()));
//   ASSIGN_OR_RETURN(auto encoder, FileEncoder::Open(plan, max_bytes));
//   for (;;) { ASSIGN_OR_RETURN(absl::string_view pcm, decoder->Read(n)); if (pcm.empty()) break;
//              ... process pcm into out ...; RETURN_IF_ERROR(encoder->Write(out)); }
//   ASSIGN_OR_RETURN(std::string file, encoder->Finish());
//
// Both sides work block by block, so a long file is never held whole as PCM: memory is the
// encoded input plus the encoded output. The PCM is in the service's sample encodings
// (audio_io/codec.h): the decoder gives s16 for 16-bit PCM files, so they pass through an
// empty chain bit-exact, and f32 otherwise (exact for 24-bit, G.711 and float sources; a
// decoder opened with Output::kExact gives 32-bit PCM as s32, also exact); the
// encoder takes the integer encoding the output stores, so rounding, clipping and dither are
// the service's own, and libsndfile only stores the integers.
// What the output is (PlanOutput) is decided in file_format.h.
// Errors: a file libsndfile cannot read is INVALID_ARGUMENT with libsndfile's reason.
// Thread safety: decoders and encoders are used by one thread at a time. (libsndfile keeps
// the reason an open failed in a global, so with several file workers a refusal's message
// may in rare races name another file's reason.)
#ifndef AUDIOPROC_AUDIO_IO_FILE_CODEC_H_
#define AUDIOPROC_AUDIO_IO_FILE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audio_io/codec.h"
#include "audio_io/file_format.h"
#include "audio_io/sndfile_memory.h"

struct sf_private_tag;  // libsndfile's SNDFILE, kept out of this header

namespace audioproc {

class FileDecoder {
 public:
  // The sample encodings Read may produce.
  enum class Output {
    // kS16 for 16-bit PCM files, kF32 for all others: what a processing pipeline wants, and
    // exact for every source but 32-bit PCM, of which float keeps the top 24 bits.
    kS16OrF32,
    // As kS16OrF32, but kS32 for 32-bit PCM files, so that every stored bit comes back: for
    // readers that hand samples on as the file holds them (the client tools).
    kExact,
  };

  // Reads the header of the file in `bytes`, which must outlive the decoder. INVALID_ARGUMENT
  // with libsndfile's reason when it is not audio libsndfile reads.
  static absl::StatusOr<std::unique_ptr<FileDecoder>> Open(absl::string_view bytes,
                                                           Output output = Output::kS16OrF32);
  ~FileDecoder();
  FileDecoder(const FileDecoder&) = delete;
  FileDecoder& operator=(const FileDecoder&) = delete;

  const FileInfo& info() const { return info_; }
  // The sample encoding Read produces: kS16 for 16-bit PCM files, kS32 for 32-bit PCM files
  // opened with Output::kExact, kF32 for all others.
  SampleEncoding encoding() const { return encoding_; }

  // Decodes up to `max_frames` frames and returns them interleaved in encoding(); the view is
  // valid until the next Read. Empty at the end of the file. INVALID_ARGUMENT with
  // libsndfile's reason when the data is corrupt. Allocates on the first call.
  absl::StatusOr<absl::string_view> Read(uint32_t max_frames);

 private:
  FileDecoder(std::unique_ptr<SndfileMemory> reader, sf_private_tag* file, const FileInfo& info,
              Output output);

  std::unique_ptr<SndfileMemory> reader_;
  sf_private_tag* file_;
  FileInfo info_;
  SampleEncoding encoding_;
  std::vector<int16_t> shorts_;
  std::vector<int32_t> ints_;
  std::vector<float> floats_;
};

// libsndfile (1.2.0) ends an AIFF whose sample data is an odd number of bytes (8-bit and
// G.711 samples, an odd frame count, odd channels) with IFF's pad byte but counts that byte
// as one more frame, so readers find a frame that was never written, and for G.711 a loud one
// (a 0 byte is -5504/32768 in A-law, -32124 in mu-law). Given the `samples` written, this puts
// the true count back in COMM and SSND of `aiff`; the pad byte stays where IFF wants it. Any
// other layout is left alone. FileEncoder::Finish calls it for every AIFF.
void UncountAiffPadByte(uint64_t samples, std::string* aiff);

class FileEncoder {
 public:
  // Starts writing a file as `plan` says, in memory, into a buffer of `max_bytes` allocated
  // at once (it is charged to the budget whole). Once the file would grow past `max_bytes`,
  // Write and Finish are RESOURCE_EXHAUSTED.
  static absl::StatusOr<std::unique_ptr<FileEncoder>> Open(const OutputPlan& plan,
                                                           size_t max_bytes);
  ~FileEncoder();
  FileEncoder(const FileEncoder&) = delete;
  FileEncoder& operator=(const FileEncoder&) = delete;

  // Appends whole frames of interleaved `pcm` in plan.encoding. Allocates.
  absl::Status Write(absl::string_view pcm);
  // Completes the file (headers, last pages) and returns its bytes. Call once.
  absl::StatusOr<std::string> Finish();

 private:
  FileEncoder(std::unique_ptr<SndfileMemory> writer, sf_private_tag* file, const OutputPlan& plan);
  absl::Status WriteError(absl::string_view what) const;

  std::unique_ptr<SndfileMemory> writer_;
  sf_private_tag* file_;
  OutputPlan plan_;
  std::vector<int16_t> shorts_;
  std::vector<int32_t> ints_;
  std::vector<float> floats_;
  uint64_t frames_written_ = 0;
};

}  // namespace audioproc

#endif  // AUDIOPROC_AUDIO_IO_FILE_CODEC_H_
