// Parameter metadata and values: the single source of every processor parameter's type, unit,
// default, range and updatability. The registry validates against it, the service answers
// ListProcessors from it, and the service echoes resolved chains (defaults filled in) from it.
//
// Values arrive as a ParamValues bag keyed by the parameter's name, which is also the proto
// field name, so the service translates ProcessorSpec messages generically.
#ifndef AUDIOPROC_CHAIN_PARAMETERS_H_
#define AUDIOPROC_CHAIN_PARAMETERS_H_

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"

namespace audioproc {

enum class ParamType {
  kFloat,       // double value
  kInt,         // double value holding an integer
  kBool,        // bool value
  kEnum,        // std::string value, one of allowed_values
  kFloatList,   // std::vector<float>
  kBytes,       // std::string holding an encoded blob
  kRecordList,  // std::vector<ParamValues>, each record described by ParamInfo::fields
};

// The name ListProcessors reports for a type: "float", "int", "bool", "enum", "float_list",
// "bytes", "record_list".
absl::string_view ParamTypeName(ParamType type);

// How a numeric parameter's range is bounded.
enum class Bound {
  kInclusive,
  kExclusive,
};

struct ParamInfo {
  std::string name;
  ParamType type = ParamType::kFloat;
  std::string unit;  // "dB", "Hz", "ms", "" ...
  // Unset for required parameters and for those whose default depends on the stream.
  std::optional<double> default_value;
  double min = 0;
  double max = 0;
  Bound min_bound = Bound::kInclusive;
  Bound max_bound = Bound::kInclusive;
  // The value must also be below the Nyquist frequency of the stream.
  bool below_nyquist = false;
  bool required = false;
  bool runtime_updatable = false;
  std::string summary;
  std::vector<std::string> allowed_values;  // kEnum only; the default is allowed_values[default]
  // kRecordList only: the fields of each record (max is then the most records allowed).
  std::vector<ParamInfo> fields;
  // kFloatList only: each value must be within [-element_limit, element_limit] (0: any
  // finite value). Bounds what a list can multiply the signal by, so no chain overflows.
  double element_limit = 0;
};

struct ProcessorInfo {
  std::string name;
  std::string summary;
  std::vector<ParamInfo> params;
  // The fewest input channels the processor takes with its default parameters (aec: a
  // microphone and its far-end reference). Generic callers (cost listings, benchmarks, tests
  // over every processor) give it at least this many.
  uint32_t min_input_channels = 1;

  const ParamInfo* FindParam(absl::string_view param) const;
};

class ParamValues;
// A float parameter with an inclusive range and a default: the common case.
ParamInfo FloatParam(absl::string_view name, absl::string_view unit, double default_value,
                     double min, double max, bool runtime_updatable, absl::string_view summary);

using ParamValue =
    std::variant<double, bool, std::string, std::vector<float>, std::vector<ParamValues>>;

// A small name -> value map, kept in insertion order. Lookups are linear: processors have a
// handful of parameters. Processors read them when they are built; run-time updates reach
// them already resolved into typed settings (ProcessorDefinition::resolve_update).
class ParamValues {
 public:
  void Set(absl::string_view name, ParamValue value);
  bool Has(absl::string_view name) const { return Find(name) != nullptr; }
  const ParamValue* Find(absl::string_view name) const;
  bool empty() const { return values_.empty(); }
  size_t size() const { return values_.size(); }

  // Typed getters; the parameter must be present with that type (validation guarantees it
  // for resolved values).
  double Number(absl::string_view name) const;
  float Float(absl::string_view name) const { return static_cast<float>(Number(name)); }
  int Int(absl::string_view name) const { return static_cast<int>(Number(name)); }
  bool Bool(absl::string_view name) const;
  const std::string& Text(absl::string_view name) const;
  const std::vector<float>& Floats(absl::string_view name) const;
  const std::vector<ParamValues>& Records(absl::string_view name) const;

  // Sets every value of `other` over this one.
  void Merge(const ParamValues& other);

  auto begin() const { return values_.begin(); }
  auto end() const { return values_.end(); }

  friend bool operator==(const ParamValues&, const ParamValues&) = default;

 private:
  std::vector<std::pair<std::string, ParamValue>> values_;
};

// One processor of a chain, as requested: its name and the parameters that were set.
struct ProcessorConfig {
  std::string name;
  ParamValues params;

  friend bool operator==(const ProcessorConfig&, const ProcessorConfig&) = default;
};

}  // namespace audioproc

#endif  // AUDIOPROC_CHAIN_PARAMETERS_H_
