// Processing chains as command-line tools take them (DESIGN.md section 3, "One-line chains").
// Every tool parses its --chain flag here, so all of them accept the same two forms:
//
//   one-line:  highpass:cutoff_hz=80,gain:gain_db=6,limiter:ceiling_db=-1
//   JSON:      [{"highpass":{"cutoffHz":80}},{"limiter":{"ceilingDb":-1}}]      (a chain)
//              {"chain":[...],"output":{"sampleRateHz":8000}}            (a StreamConfig)
//
// The one-line form is read through protobuf reflection, not a table: a processor name is a
// field of ProcessorSpec's `processor` oneof and a parameter name is a field of that
// processor's message, so processors and parameters added to the proto work here unchanged.
// Values are read by field type (float, double, integers, bool as true/false/1/0, enums by
// value name, strings). Repeated and nested parameters (mix matrix, eq bands, convolve
// impulse) exist only in the JSON form. Ranges and required parameters are the server's to
// check; this parser checks only what the proto can tell.
//
// Thread safety: stateless functions, safe to call from any thread.
#ifndef AUDIOPROC_CLIENTS_CHAIN_PARSER_H_
#define AUDIOPROC_CLIENTS_CHAIN_PARSER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audioproc/v1/audioproc.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace audioproc::client {

// Parses a chain in either form. Text starting with `[` (after whitespace) is a proto3 JSON
// array of ProcessorSpec; text starting with `{` is a proto3 JSON StreamConfig that may set
// nothing but `chain` (use ParseStreamConfig to accept the other fields); anything else is the
// one-line form. Empty or blank text is the empty chain.
// Errors are INVALID_ARGUMENT and name the chain position (0-based, as
// ProcessorUpdate.index), the processor and the parameter, e.g.
// "chain[0]: highpass.cutoff_hz: 'abc' is not a number".
absl::StatusOr<std::vector<v1::ProcessorSpec>> ParseChain(absl::string_view text);

// As ParseChain, but a `{` StreamConfig may set any field; the one-line and `[` forms give a
// StreamConfig with only `chain` set. Lets one flag carry a whole stream setup, which the tool
// then completes (input format from the file) or overrides (output flags).
absl::StatusOr<v1::StreamConfig> ParseStreamConfig(absl::string_view text);

// The one-line form of `chain`, e.g. to show the resolved chain of a StreamReady. Prints the
// parameters that are set, in field order; floats in their shortest exact form, so that
// ParseChain(FormatChain(c)) == c whenever every parameter is a scalar. Repeated and nested
// parameters are shown for people to read (`matrix=[0.5 0.5]`) and do not parse back: use
// FormatChainJson where such a chain must round-trip. A ProcessorSpec with no processor set
// prints as `(none)`.
std::string FormatChain(const std::vector<v1::ProcessorSpec>& chain);
std::string FormatChain(const google::protobuf::RepeatedPtrField<v1::ProcessorSpec>& chain);

// `chain` as a proto3 JSON array; always parses back with ParseChain.
std::string FormatChainJson(const std::vector<v1::ProcessorSpec>& chain);

// Sets the singular scalar `field` of `message` from its one-line text `text` (already
// trimmed). Errors are INVALID_ARGUMENT describing the value alone ("'abc' is not a number");
// callers add where it was. Exposed so that value types no processor uses yet (enums, int32,
// double) are tested too.
absl::Status SetScalarFieldFromText(const google::protobuf::FieldDescriptor& field,
                                    absl::string_view text, google::protobuf::Message& message);

}  // namespace audioproc::client

#endif  // AUDIOPROC_CLIENTS_CHAIN_PARSER_H_
