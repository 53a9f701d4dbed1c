#include "chain/stream_pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace audioproc {
namespace {

absl::Status ValidateFormat(absl::string_view field, const StreamFormat& format) {
  if (format.sample_rate_hz < kMinSampleRateHz || format.sample_rate_hz > kMaxSampleRateHz) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".sample_rate_hz must be in [",
                                                   kMinSampleRateHz, ", ", kMaxSampleRateHz,
                                                   "] Hz, got ", format.sample_rate_hz));
  }
  if (format.channels < 1 || format.channels > kMaxChannels) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".channels must be in [1, ", kMaxChannels, "], got ", format.channels));
  }
  return absl::OkStatus();
}

float ToDbfs(double amplitude) {
  if (amplitude <= 0) return kSilenceDbfs;
  return std::max(kSilenceDbfs, static_cast<float>(20.0 * std::log10(amplitude)));
}

}  // namespace

absl::Status ValidatePipelineFormats(const PipelineConfig& config) {
  if (absl::Status status = ValidateFormat("input", config.input); !status.ok()) return status;
  return ValidateFormat("output", config.output);
}

ProcessSpec PipelineChainInput(const PipelineConfig& config) {
  return {static_cast<double>(config.input.sample_rate_hz), kDefaultMaxBlockFrames,
          config.input.channels};
}

absl::StatusOr<std::vector<ProcessorConfig>> OutputConversions(const ProcessorRegistry& registry,
                                                               const PipelineConfig& config,
                                                               const ProcessSpec& chain_output) {
  // They run after the requested chain, from what it emits (a chain may itself mix or
  // resample); a mix keeps the rate, so both decisions are made here.
  std::vector<ProcessorConfig> conversions;
  if (chain_output.channels != config.output.channels) {
    ParamValues mix;
    mix.Set("output_channels", static_cast<double>(config.output.channels));
    conversions.push_back({"mix", std::move(mix)});
  }
  if (chain_output.sample_rate_hz != config.output.sample_rate_hz) {
    if (registry.Find("resample") == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("output.sample_rate_hz must equal input.sample_rate_hz (",
                       config.input.sample_rate_hz, "): this server has no resample processor"));
    }
    ParamValues resample;
    resample.Set("sample_rate_hz", static_cast<double>(config.output.sample_rate_hz));
    conversions.push_back({"resample", std::move(resample)});
  }
  return conversions;
}

absl::StatusOr<std::unique_ptr<StreamPipeline>> StreamPipeline::Create(
    const ProcessorRegistry& registry, const PipelineConfig& config) {
  if (absl::Status status = ValidatePipelineFormats(config); !status.ok()) return status;

  absl::StatusOr<std::unique_ptr<Chain>> chain =
      Chain::Build(registry, config.chain, PipelineChainInput(config));
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::vector<ProcessorConfig>> conversions =
      OutputConversions(registry, config, (*chain)->output_spec());
  if (!conversions.ok()) return conversions.status();
  for (const ProcessorConfig& conversion : *conversions) {
    if (absl::Status status = (*chain)->Append(conversion); !status.ok()) return status;
  }

  std::unique_ptr<StreamPipeline> pipeline(new StreamPipeline(config));
  pipeline->chain_ = *std::move(chain);
  if (config.dither) pipeline->dither_.emplace(DitherSeed(config.stream_id));
  if (config.measure_levels && config.measure_channel_levels) {
    pipeline->channel_levels_ = std::make_unique<ChannelLevelsState>();
  }
  pipeline->in_frame_bytes_ = config.input.channels * BytesPerSample(config.input.encoding);
  pipeline->out_frame_bytes_ = config.output.channels * BytesPerSample(config.output.encoding);
  return pipeline;
}

ChunkStats StreamPipeline::ProcessChunk(absl::string_view bytes, std::string* out) {
  BeginChunk();
  Feed(bytes, out);
  return EndChunk();
}

void StreamPipeline::BeginChunk() {
  chunk_stats_ = ChunkStats();
  in_meter_ = LevelMeter();
  out_meter_ = LevelMeter();
  if (channel_levels_) {
    channel_levels_->in = ChannelMeter();
    channel_levels_->out = ChannelMeter();
  }
}

void StreamPipeline::Feed(absl::string_view bytes, std::string* out) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t size = bytes.size();
  if (partial_size_ > 0) {
    const size_t take = std::min<size_t>(size, in_frame_bytes_ - partial_size_);
    std::memcpy(partial_.data() + partial_size_, data, take);
    partial_size_ += static_cast<uint32_t>(take);
    data += take;
    size -= take;
    if (partial_size_ == in_frame_bytes_) {
      partial_size_ = 0;
      RunFrames(partial_.data(), 1, out);
    }
  }
  const size_t frames = size / in_frame_bytes_;
  if (frames > 0) RunFrames(data, static_cast<uint32_t>(frames), out);
  const size_t rest = size - frames * in_frame_bytes_;
  std::memcpy(partial_.data() + partial_size_, data + frames * in_frame_bytes_, rest);
  partial_size_ += static_cast<uint32_t>(rest);
}

ChunkStats StreamPipeline::EndChunk() {
  if (config_.measure_levels) {
    in_meter_.Store(&chunk_stats_.in_peak_dbfs, &chunk_stats_.in_rms_dbfs);
    out_meter_.Store(&chunk_stats_.out_peak_dbfs, &chunk_stats_.out_rms_dbfs);
  }
  if (channel_levels_) {
    ChannelLevelsState& levels = *channel_levels_;
    levels.in_count = levels.in.Store(config_.input.channels, &levels.in_levels);
    levels.out_count = levels.out.Store(config_.output.channels, &levels.out_levels);
  }
  return chunk_stats_;
}

ChunkStats StreamPipeline::Finish(std::string* out) {
  ChunkStats stats;
  LevelMeter out_meter;
  if (channel_levels_) channel_levels_->out = ChannelMeter();
  discarded_bytes_ = partial_size_;
  partial_size_ = 0;
  chain_->Flush([&](const AudioBlock& block) { Emit(block, &stats, &out_meter, out); });
  DrainChainEvents();
  if (config_.measure_levels) out_meter.Store(&stats.out_peak_dbfs, &stats.out_rms_dbfs);
  if (channel_levels_) {
    ChannelLevelsState& levels = *channel_levels_;
    levels.in_count = 0;
    levels.out_count = levels.out.Store(config_.output.channels, &levels.out_levels);
  }
  return stats;
}

void StreamPipeline::RunFrames(const uint8_t* bytes, uint32_t frames, std::string* out) {
  ChunkStats* stats = &chunk_stats_;
  for (uint32_t done = 0; done < frames;) {
    AudioBuffer& decoded = chain_->input_buffer();
    const uint32_t n = std::min(frames - done, decoded.capacity_frames());
    AudioBlock block = decoded.Block(n);
    const uint32_t nonfinite =
        DecodeInterleaved(config_.input.encoding, bytes + size_t{done} * in_frame_bytes_, block);
    stats->nonfinite_samples += nonfinite;
    nonfinite_samples_ += nonfinite;
    stats->frames_in += n;
    if (config_.measure_levels) in_meter_.Add(block);
    if (channel_levels_) channel_levels_->in.Add(block);
    chain_->Process(block,
                    [&](const AudioBlock& output) { Emit(output, stats, &out_meter_, out); });
    DrainChainEvents();
    done += n;
  }
}

void StreamPipeline::Emit(const AudioBlock& block, ChunkStats* stats, LevelMeter* out_meter,
                          std::string* out) {
  // The chain has already counted these frames as emitted.
  const uint64_t first_frame = chain_->frames_out() - block.num_frames();
  const size_t offset = out->size();
  out->resize(offset + size_t{block.num_frames()} * out_frame_bytes_);
  const uint32_t clipped = EncodeInterleaved(config_.output.encoding, block,
                                             reinterpret_cast<uint8_t*>(out->data() + offset),
                                             dither_ ? &*dither_ : nullptr, first_frame);
  stats->clipped_samples += clipped;
  clipped_samples_ += clipped;
  stats->frames_out += block.num_frames();
  if (config_.measure_levels) out_meter->Add(block);
  if (channel_levels_) channel_levels_->out.Add(block);
}

void StreamPipeline::DrainChainEvents() {
  if (chain_->events().empty()) return;
  events_.insert(events_.end(), chain_->events().begin(), chain_->events().end());
  chain_->ClearEvents();
}

void StreamPipeline::LevelMeter::Add(const AudioBlock& block) {
  for (uint32_t c = 0; c < block.num_channels(); ++c) {
    const float* x = block.channel(c);
    for (uint32_t i = 0; i < block.num_frames(); ++i) {
      peak = std::max(peak, std::fabs(x[i]));
      sum_squares += double{x[i]} * x[i];
    }
  }
  samples += uint64_t{block.num_frames()} * block.num_channels();
}

void StreamPipeline::LevelMeter::Store(float* peak_dbfs, float* rms_dbfs) const {
  if (samples == 0) return;
  *peak_dbfs = ToDbfs(peak);
  *rms_dbfs = ToDbfs(std::sqrt(sum_squares / static_cast<double>(samples)));
}

void StreamPipeline::ChannelMeter::Add(const AudioBlock& block) {
  for (uint32_t c = 0; c < block.num_channels(); ++c) {
    const float* x = block.channel(c);
    for (uint32_t i = 0; i < block.num_frames(); ++i) {
      peak[c] = std::max(peak[c], std::fabs(x[i]));
      sum_squares[c] += double{x[i]} * x[i];
    }
  }
  frames += block.num_frames();
}

uint32_t StreamPipeline::ChannelMeter::Store(
    uint32_t channels, std::array<ChannelLevels, kMaxChannels>* levels) const {
  for (uint32_t c = 0; c < channels; ++c) {
    ChannelLevels& level = (*levels)[c];
    if (frames == 0) {
      level = ChannelLevels();
      continue;
    }
    level.peak_dbfs = ToDbfs(peak[c]);
    level.rms_dbfs = ToDbfs(std::sqrt(sum_squares[c] / static_cast<double>(frames)));
  }
  return channels;
}

std::span<const ChannelLevels> StreamPipeline::in_channel_levels() const {
  if (!channel_levels_) return {};
  return std::span<const ChannelLevels>(channel_levels_->in_levels)
      .first(channel_levels_->in_count);
}

std::span<const ChannelLevels> StreamPipeline::out_channel_levels() const {
  if (!channel_levels_) return {};
  return std::span<const ChannelLevels>(channel_levels_->out_levels)
      .first(channel_levels_->out_count);
}

uint64_t StreamPipeline::ChannelLevelsBytes() { return sizeof(ChannelLevelsState); }

namespace {
constexpr StateTag kPipelineStateTag = MakeStateTag("pipe");
constexpr uint16_t kPipelineStateVersion = 1;
}  // namespace

absl::Status StreamPipeline::SaveState(StateWriter& writer) const {
  if (!chain_->SupportsState()) return chain_->SaveState(writer);  // names the stage
  writer.PutTag(kPipelineStateTag, kPipelineStateVersion);
  writer.PutU32(in_frame_bytes_);
  writer.PutBytes({partial_.data(), partial_size_});
  writer.PutU64(clipped_samples_);
  writer.PutU64(nonfinite_samples_);
  if (!writer.ok()) return writer.status();
  return chain_->SaveState(writer);
}

absl::Status StreamPipeline::RestoreState(StateReader& reader) {
  reader.ExpectTag(kPipelineStateTag, kPipelineStateVersion);
  const uint32_t frame_bytes = reader.GetU32();
  if (reader.ok() && frame_bytes != in_frame_bytes_) {
    return absl::FailedPreconditionError("state: the state of a stream of another input format");
  }
  const std::span<const uint8_t> partial = reader.GetBytes(in_frame_bytes_ - 1);
  const uint64_t clipped = reader.GetU64();
  const uint64_t nonfinite = reader.GetU64();
  if (!reader.ok()) return reader.status();
  if (absl::Status status = chain_->RestoreState(reader); !status.ok()) return status;
  std::copy(partial.begin(), partial.end(), partial_.begin());
  partial_size_ = static_cast<uint32_t>(partial.size());
  clipped_samples_ = clipped;
  nonfinite_samples_ = nonfinite;
  return absl::OkStatus();
}

}  // namespace audioproc
