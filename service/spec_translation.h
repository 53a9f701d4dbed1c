// Translation between the wire's ProcessorSpec messages and the processors' plain
// ProcessorConfig. Generic, by protobuf reflection: a processor's name is its field in the
// ProcessorSpec oneof and each parameter's name is a field of that message, so a processor
// added to the registry and the proto needs no code here.
// Thread safety: stateless functions.
#ifndef AUDIOPROC_SERVICE_SPEC_TRANSLATION_H_
#define AUDIOPROC_SERVICE_SPEC_TRANSLATION_H_

#include "absl/status/statusor.h"
#include "audioproc/v1/audioproc.pb.h"
#include "chain/parameters.h"
#include "chain/registry.h"

namespace audioproc {

// The processor named by `spec`'s oneof and the parameters set in it. INVALID_ARGUMENT when no
// processor is set.
absl::StatusOr<ProcessorConfig> ConfigFromSpec(const v1::ProcessorSpec& spec);

// `config` as a ProcessorSpec, every parameter in it set (used to echo resolved chains).
v1::ProcessorSpec SpecFromConfig(const ProcessorConfig& config);

// Lists longer than this, and bytes values larger, are left out of echoed specs.
inline constexpr size_t kMaxEchoedListValues = 64;

// `config` as StreamReady echoes it: as SpecFromConfig, but without the values that are
// blobs rather than settings (a convolve impulse of up to 262144 taps, an impulse_file of up
// to 4 MiB; a mix matrix of at most 64 values stays), so that `ready` stays small whatever
// the chain. The client sent them; the server does not send them back.
v1::ProcessorSpec EchoSpec(const ProcessorConfig& config);

// ListProcessors' answer: every processor of `registry` with every parameter's metadata.
v1::ListProcessorsResponse DescribeProcessors(const ProcessorRegistry& registry);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_SPEC_TRANSLATION_H_
