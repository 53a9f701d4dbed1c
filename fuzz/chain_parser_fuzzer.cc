// Fuzzes the command-line tools' chain parser (clients/chain_parser.h) on arbitrary text: the
// one-line form, and the JSON forms it hands to protobuf's JSON parser.
//
// For every chain that parses, the round trips the header promises:
// - FormatChainJson always parses back to the same chain;
// - FormatChain parses back to the same chain when every processor is set and every
//   parameter is a scalar the one-line form can carry. That leaves out NaN and +-Inf, which
//   JSON can spell ("NaN") and the one-line form refuses on purpose (the server would refuse
//   them anyway), and enum numbers the proto does not name, which JSON accepts as numbers.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audioproc/v1/audioproc.pb.h"
#include "clients/chain_parser.h"
#include "fuzz/fuzz_input.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"

namespace audioproc::fuzz {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool SameChain(const std::vector<v1::ProcessorSpec>& a, const std::vector<v1::ProcessorSpec>& b) {
  if (a.size() != b.size()) return false;
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  for (size_t i = 0; i < a.size(); ++i) {
    if (!differencer.Compare(a[i], b[i])) return false;
  }
  return true;
}

// True if the one-line form can carry `spec`: a processor is set, and each parameter set in
// it is a singular scalar with a value the one-line parser accepts.
bool OneLineCanCarry(const v1::ProcessorSpec& spec) {
  const FieldDescriptor* processor = spec.GetReflection()->GetOneofFieldDescriptor(
      spec, v1::ProcessorSpec::descriptor()->FindOneofByName("processor"));
  if (processor == nullptr) return false;
  const Message& params = spec.GetReflection()->GetMessage(spec, processor);
  const google::protobuf::Reflection& r = *params.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r.ListFields(params, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->is_repeated() || field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ||
        field->type() == FieldDescriptor::TYPE_BYTES) {
      return false;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_FLOAT:
        if (!std::isfinite(r.GetFloat(params, field))) return false;
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        if (!std::isfinite(r.GetDouble(params, field))) return false;
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        if (field->enum_type()->FindValueByNumber(r.GetEnumValue(params, field)) == nullptr) {
          return false;
        }
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace
}  // namespace audioproc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace audioproc;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<v1::ProcessorSpec>> chain = client::ParseChain(text);
  // ParseStreamConfig shares the parsing; a whole-config JSON goes through it alone.
  (void)client::ParseStreamConfig(text);
  if (!chain.ok()) return 0;

  const std::string json = client::FormatChainJson(*chain);
  absl::StatusOr<std::vector<v1::ProcessorSpec>> from_json = client::ParseChain(json);
  AUDIOPROC_FUZZ_CHECK(from_json.ok(), absl::StrCat(json, " -> ", from_json.status().ToString()));
  AUDIOPROC_FUZZ_CHECK(fuzz::SameChain(*chain, *from_json), json);

  const std::string one_line = client::FormatChain(*chain);
  bool carried = true;
  for (const v1::ProcessorSpec& spec : *chain) carried = carried && fuzz::OneLineCanCarry(spec);
  if (!carried) return 0;
  absl::StatusOr<std::vector<v1::ProcessorSpec>> from_line = client::ParseChain(one_line);
  AUDIOPROC_FUZZ_CHECK(from_line.ok(),
                       absl::StrCat(one_line, " -> ", from_line.status().ToString()));
  AUDIOPROC_FUZZ_CHECK(fuzz::SameChain(*chain, *from_line), one_line);
  return 0;
}
