#include "processors/mix.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dsp/cost_model.h"

namespace audioproc {
namespace {

// CPU-seconds per frame for each non-zero weight (a multiply-add in double), per output sample
// that has weights (rounding the sum to float, clamped) and per silent output sample.
constexpr double kMixTermSeconds = 0.40e-9;
constexpr double kMixOutputSeconds = 0.70e-9;
constexpr double kMixSilentOutputSeconds = 0.05e-9;

absl::Status ValidateMix(const ParamValues& resolved, const ProcessSpec& input) {
  const ParamValue* matrix = resolved.Find("matrix");
  if (matrix == nullptr) return absl::OkStatus();
  const size_t size = std::get<std::vector<float>>(*matrix).size();
  if (size == 0) return absl::OkStatus();
  const uint32_t outputs = static_cast<uint32_t>(resolved.Int("output_channels"));
  const size_t expected = size_t{outputs} * input.channels;
  if (size != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mix.matrix must hold output_channels x input channels = ", outputs, " x ", input.channels,
        " = ", expected, " weights (row-major), or none for the standard mix; got ", size));
  }
  return absl::OkStatus();
}

// The non-zero weights of each output row, as MixProcessor::Prepare keeps them.
std::vector<uint32_t> TermsPerOutput(const ParamValues& params, uint32_t input_channels) {
  const auto outputs = static_cast<uint32_t>(params.Int("output_channels"));
  std::vector<double> matrix;
  if (const ParamValue* given = params.Find("matrix");
      given != nullptr && !std::get<std::vector<float>>(*given).empty()) {
    const auto& weights = std::get<std::vector<float>>(*given);
    matrix.assign(weights.begin(), weights.end());
  } else {
    matrix = StandardMixMatrix(input_channels, outputs);
  }
  std::vector<uint32_t> terms(outputs, 0);
  for (uint32_t o = 0; o < outputs; ++o) {
    for (uint32_t i = 0; i < input_channels; ++i) {
      if (matrix[size_t{o} * input_channels + i] != 0.0) ++terms[o];
    }
  }
  return terms;
}

}  // namespace

absl::StatusOr<StageEstimate> MixProcessor::Estimate(const ParamValues& params,
                                                     const ProcessSpec& input) {
  const std::vector<uint32_t> terms = TermsPerOutput(params, input.channels);
  const auto outputs = static_cast<uint32_t>(terms.size());
  StageEstimate estimate;
  estimate.output = input;
  estimate.output.channels = outputs;
  estimate.in_place = false;
  uint64_t bytes = cost::HeapBlock(sizeof(MixProcessor)) +
                   cost::VectorBytes<std::vector<Term>>(outputs) +
                   cost::VectorBytes<double>(input.max_block_frames);
  if (const ParamValue* given = params.Find("matrix")) {
    bytes += cost::VectorBytes<float>(std::get<std::vector<float>>(*given).size());
  }
  double per_frame = 0;
  for (uint32_t row : terms) {
    bytes += cost::HeapBlock(cost::GrownCapacity(row) * sizeof(Term));
    per_frame += row == 0 ? kMixSilentOutputSeconds : row * kMixTermSeconds + kMixOutputSeconds;
  }
  estimate.memory_bytes = bytes;
  estimate.cpu_cores = input.sample_rate_hz * per_frame;
  return estimate;
}

ProcessorDefinition MixDefinition() {
  ProcessorDefinition definition;
  definition.info.name = "mix";
  definition.info.summary =
      "Channel matrix: remap, downmix or upmix; without a matrix, the standard down/upmix "
      "(mono copies, average to mono, ITU-R BS.775 5.1 to stereo).";
  ParamInfo outputs;
  outputs.name = "output_channels";
  outputs.type = ParamType::kInt;
  outputs.min = 1;
  outputs.max = kMaxChannels;
  outputs.required = true;
  outputs.summary = "Channels out.";
  ParamInfo matrix;
  matrix.name = "matrix";
  matrix.type = ParamType::kFloatList;
  matrix.min = 0;
  matrix.max = kMaxMixMatrixSize;  // for a list: the most values it may hold
  matrix.element_limit = 1000;     // +60 dB, as gain allows
  matrix.summary = "Weights, output_channels x input channels, row-major; empty: the standard mix.";
  definition.info.params = {std::move(outputs), std::move(matrix)};
  definition.validate = ValidateMix;
  definition.create = [](const ParamValues& params) -> std::unique_ptr<Processor> {
    std::vector<float> matrix;
    if (params.Has("matrix")) matrix = params.Floats("matrix");
    return std::make_unique<MixProcessor>(static_cast<uint32_t>(params.Int("output_channels")),
                                          std::move(matrix));
  };
  definition.estimate = MixProcessor::Estimate;
  definition.example.Set("output_channels", 2.0);  // to stereo
  return definition;
}

std::vector<double> StandardMixMatrix(uint32_t in, uint32_t out) {
  std::vector<double> m(size_t{in} * out, 0.0);
  auto at = [&](uint32_t o, uint32_t i) -> double& { return m[size_t{o} * in + i]; };
  if (in == out) {
    for (uint32_t c = 0; c < in; ++c) at(c, c) = 1.0;
  } else if (in == 1) {
    for (uint32_t o = 0; o < out; ++o) at(o, 0) = 1.0;
  } else if (out == 1) {
    for (uint32_t i = 0; i < in; ++i) at(0, i) = 1.0 / in;
  } else if (in == 6 && out == 2) {
    const double minus_3db = 1.0 / std::sqrt(2.0);
    enum { kL, kR, kC, kLfe, kLs, kRs };
    at(0, kL) = 1.0;
    at(0, kC) = minus_3db;
    at(0, kLs) = minus_3db;
    at(1, kR) = 1.0;
    at(1, kC) = minus_3db;
    at(1, kRs) = minus_3db;
  } else {
    for (uint32_t c = 0; c < std::min(in, out); ++c) at(c, c) = 1.0;
  }
  return m;
}

MixProcessor::MixProcessor(uint32_t output_channels, std::vector<float> matrix)
    : output_channels_(output_channels), requested_matrix_(std::move(matrix)) {}

absl::StatusOr<ProcessSpec> MixProcessor::Prepare(const ProcessSpec& input) {
  const uint32_t in = input.channels;
  std::vector<double> matrix;
  if (requested_matrix_.empty()) {
    matrix = StandardMixMatrix(in, output_channels_);
  } else if (requested_matrix_.size() == size_t{in} * output_channels_) {
    matrix.assign(requested_matrix_.begin(), requested_matrix_.end());
  } else {
    // The registry validates this; a direct caller gets the same message.
    ParamValues params;
    params.Set("output_channels", static_cast<double>(output_channels_));
    params.Set("matrix", requested_matrix_);
    return ValidateMix(params, input);
  }
  terms_.assign(output_channels_, {});
  for (uint32_t o = 0; o < output_channels_; ++o) {
    for (uint32_t i = 0; i < in; ++i) {
      const double weight = matrix[size_t{o} * in + i];
      if (weight != 0.0) terms_[o].push_back({i, weight});
    }
  }
  scratch_.assign(input.max_block_frames, 0.0);
  ProcessSpec output = input;
  output.channels = output_channels_;
  return output;
}

void MixProcessor::Process(AudioBlock& in, AudioBlock& out) noexcept {
  constexpr double kMaxMagnitude = std::numeric_limits<float>::max();
  const uint32_t frames = in.num_frames();
  out.set_num_frames(frames);
  double* sum = scratch_.data();
  for (uint32_t o = 0; o < output_channels_; ++o) {
    float* y = out.channel(o);
    const std::vector<Term>& terms = terms_[o];
    if (terms.empty()) {
      std::fill_n(y, frames, 0.0f);
      continue;
    }
    // Term by term over the whole block (vectorizable), in double so that the sum is rounded
    // to float once; the clamp keeps 8 x FLT_MAX from becoming Inf.
    const float* x = in.channel(terms[0].input);
    for (uint32_t i = 0; i < frames; ++i) sum[i] = terms[0].weight * x[i];
    for (size_t t = 1; t < terms.size(); ++t) {
      x = in.channel(terms[t].input);
      const double weight = terms[t].weight;
      for (uint32_t i = 0; i < frames; ++i) sum[i] += weight * x[i];
    }
    for (uint32_t i = 0; i < frames; ++i) {
      y[i] = static_cast<float>(std::clamp(sum[i], -kMaxMagnitude, kMaxMagnitude));
    }
  }
}

}  // namespace audioproc
