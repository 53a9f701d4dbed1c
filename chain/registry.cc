#include "chain/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace audioproc {
namespace {

// The effective upper bound of `info` for a stream at `sample_rate_hz`.
double UpperBound(const ParamInfo& info, double sample_rate_hz, Bound* bound) {
  *bound = info.max_bound;
  double max = info.max;
  if (info.below_nyquist && sample_rate_hz / 2 <= max) {
    max = sample_rate_hz / 2;
    *bound = Bound::kExclusive;
  }
  return max;
}

std::string FormatNumber(double value) { return absl::StrFormat("%.10g", value); }

absl::Status CheckNumber(const std::string& field, const ParamInfo& info, double value,
                         double sample_rate_hz) {
  Bound upper_bound;
  const double max = UpperBound(info, sample_rate_hz, &upper_bound);
  const bool below_min = info.min_bound == Bound::kInclusive ? value < info.min : value <= info.min;
  const bool above_max = upper_bound == Bound::kInclusive ? value > max : value >= max;
  if (std::isnan(value) || below_min || above_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be in ", DescribeRange(info, sample_rate_hz), ", got ", FormatNumber(value)));
  }
  if (info.type == ParamType::kInt && value != std::floor(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be an integer in ",
                                                   DescribeRange(info, sample_rate_hz), ", got ",
                                                   FormatNumber(value)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ParamValues> ResolveParams(const std::string& prefix,
                                          const std::vector<ParamInfo>& infos,
                                          const ParamValues& set, double sample_rate_hz);

// Checks one value against its ParamInfo; record lists are resolved record by record (their
// defaults filled in), so `*resolved` may differ from `value`.
absl::Status CheckValue(const std::string& field, const ParamInfo& info, const ParamValue& value,
                        double sample_rate_hz, ParamValue* resolved) {
  *resolved = value;
  switch (info.type) {
    case ParamType::kFloat:
    case ParamType::kInt:
      if (!std::holds_alternative<double>(value)) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be a number"));
      }
      return CheckNumber(field, info, std::get<double>(value), sample_rate_hz);
    case ParamType::kBool:
      if (!std::holds_alternative<bool>(value)) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be true or false"));
      }
      return absl::OkStatus();
    case ParamType::kEnum: {
      const auto* text = std::get_if<std::string>(&value);
      if (text == nullptr || std::find(info.allowed_values.begin(), info.allowed_values.end(),
                                       *text) == info.allowed_values.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " must be one of ", absl::StrJoin(info.allowed_values, ", ")));
      }
      return absl::OkStatus();
    }
    case ParamType::kFloatList: {
      const auto* list = std::get_if<std::vector<float>>(&value);
      if (list == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be a list of numbers"));
      }
      if (list->size() > info.max) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, " may hold at most ", FormatNumber(info.max), " values, got ", list->size()));
      }
      for (size_t i = 0; i < list->size(); ++i) {
        const float x = (*list)[i];
        if (!std::isfinite(x)) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, "[", i, "] must be a finite number"));
        }
        if (info.element_limit > 0 && std::fabs(x) > info.element_limit) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, "[", i, "] must be in [", FormatNumber(-info.element_limit), ", ",
                           FormatNumber(info.element_limit), "], got ", FormatNumber(x)));
        }
      }
      return absl::OkStatus();
    }
    case ParamType::kBytes:
      if (!std::holds_alternative<std::string>(value)) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be bytes"));
      }
      if (static_cast<double>(std::get<std::string>(value).size()) > info.max) {
        return absl::InvalidArgumentError(absl::StrCat(field, " may hold at most ",
                                                       FormatNumber(info.max), " bytes, got ",
                                                       std::get<std::string>(value).size()));
      }
      return absl::OkStatus();
    case ParamType::kRecordList: {
      const auto* records = std::get_if<std::vector<ParamValues>>(&value);
      if (records == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be a list of records"));
      }
      if (static_cast<double>(records->size()) > info.max) {
        return absl::InvalidArgumentError(absl::StrCat(field, " may hold at most ",
                                                       FormatNumber(info.max), " entries, got ",
                                                       records->size()));
      }
      std::vector<ParamValues> out;
      for (size_t i = 0; i < records->size(); ++i) {
        absl::StatusOr<ParamValues> record = ResolveParams(
            absl::StrCat(field, "[", i, "]"), info.fields, (*records)[i], sample_rate_hz);
        if (!record.ok()) return record.status();
        out.push_back(*std::move(record));
      }
      *resolved = std::move(out);
      return absl::OkStatus();
    }
  }
  return absl::InternalError(absl::StrCat(field, " has an unknown type"));
}

const ParamInfo* FindInfo(const std::vector<ParamInfo>& infos, absl::string_view name) {
  for (const ParamInfo& info : infos) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

absl::Status CheckKnownParams(const std::string& prefix, const std::vector<ParamInfo>& infos,
                              const ParamValues& values) {
  for (const auto& [name, value] : values) {
    if (FindInfo(infos, name) == nullptr) {
      std::vector<absl::string_view> known;
      for (const ParamInfo& info : infos) known.emplace_back(info.name);
      return absl::InvalidArgumentError(absl::StrCat(prefix, " has no parameter '", name,
                                                     "'; it has ", absl::StrJoin(known, ", ")));
    }
  }
  return absl::OkStatus();
}

ParamValue DefaultOf(const ParamInfo& info) {
  switch (info.type) {
    case ParamType::kBool:
      return *info.default_value != 0;
    case ParamType::kEnum:
      return info.allowed_values.at(static_cast<size_t>(*info.default_value));
    default:
      return *info.default_value;
  }
}

// Checks every value of `set` against `infos` and fills in defaults; `prefix` names the
// owner in messages ("highpass", "eq.bands[2]").
absl::StatusOr<ParamValues> ResolveParams(const std::string& prefix,
                                          const std::vector<ParamInfo>& infos,
                                          const ParamValues& set, double sample_rate_hz) {
  if (absl::Status status = CheckKnownParams(prefix, infos, set); !status.ok()) return status;
  ParamValues resolved;
  for (const ParamInfo& info : infos) {
    const std::string field = absl::StrCat(prefix, ".", info.name);
    if (const ParamValue* value = set.Find(info.name)) {
      ParamValue checked;
      if (absl::Status status = CheckValue(field, info, *value, sample_rate_hz, &checked);
          !status.ok()) {
        return status;
      }
      resolved.Set(info.name, std::move(checked));
    } else if (info.required) {
      std::string range;
      if (info.type == ParamType::kFloat || info.type == ParamType::kInt) {
        range = absl::StrCat(", in ", DescribeRange(info, sample_rate_hz));
      } else if (info.type == ParamType::kEnum) {
        range = absl::StrCat(", one of ", absl::StrJoin(info.allowed_values, ", "));
      }
      return absl::InvalidArgumentError(absl::StrCat(field, " is required", range));
    } else if (info.default_value.has_value()) {
      resolved.Set(info.name, DefaultOf(info));
    }
  }
  return resolved;
}

}  // namespace

std::string DescribeRange(const ParamInfo& info, double sample_rate_hz) {
  Bound upper_bound;
  const double max = UpperBound(info, sample_rate_hz, &upper_bound);
  std::string range =
      absl::StrCat(info.min_bound == Bound::kInclusive ? "[" : "(", FormatNumber(info.min), ", ",
                   FormatNumber(max), upper_bound == Bound::kInclusive ? "]" : ")");
  if (!info.unit.empty()) absl::StrAppend(&range, " ", info.unit);
  if (info.below_nyquist && max < info.max) absl::StrAppend(&range, " (below Nyquist)");
  return range;
}

ProcessorConfig ExampleConfig(const ProcessorDefinition& definition) {
  ProcessorConfig config{definition.info.name, definition.example};
  if (!config.params.empty()) return config;
  for (const ParamInfo& param : definition.info.params) {
    if (!param.required || (param.type != ParamType::kFloat && param.type != ParamType::kInt)) {
      continue;
    }
    double value = param.below_nyquist ? 1000.0 : (param.min + param.max) / 2;
    if (param.type == ParamType::kInt) value = std::round(value);
    config.params.Set(param.name, value);
  }
  return config;
}

ProcessorRegistry::ProcessorRegistry(std::vector<ProcessorDefinition> definitions)
    : definitions_(std::move(definitions)) {
  for (const ProcessorDefinition& definition : definitions_) {
    if (definition.create == nullptr) {
      std::fprintf(stderr, "audioproc: processor '%s' has no factory\n",
                   definition.info.name.c_str());
      std::abort();
    }
    const bool updatable =
        std::any_of(definition.info.params.begin(), definition.info.params.end(),
                    [](const ParamInfo& param) { return param.runtime_updatable; });
    if (updatable != (definition.resolve_update != nullptr)) {
      std::fprintf(stderr, "audioproc: processor '%s' %s\n", definition.info.name.c_str(),
                   updatable ? "has runtime-updatable parameters but no resolve_update"
                             : "has a resolve_update but no runtime-updatable parameter");
      std::abort();
    }
    // The service admits streams by their cost before building them (resource_estimate.h).
    if (definition.estimate == nullptr) {
      std::fprintf(stderr, "audioproc: processor '%s' states no resource estimate\n",
                   definition.info.name.c_str());
      std::abort();
    }
  }
}

const ProcessorDefinition* ProcessorRegistry::Find(absl::string_view name) const {
  for (const ProcessorDefinition& definition : definitions_) {
    if (definition.info.name == name) return &definition;
  }
  return nullptr;
}

absl::StatusOr<ParamValues> ProcessorRegistry::Resolve(const ProcessorConfig& config,
                                                       const ProcessSpec& input) const {
  const ProcessorDefinition* definition = Find(config.name);
  if (definition == nullptr) {
    if (config.name.empty()) return absl::InvalidArgumentError("processor is empty: name one");
    return absl::InvalidArgumentError(absl::StrCat("unknown processor '", config.name, "'"));
  }
  absl::StatusOr<ParamValues> resolved =
      ResolveParams(config.name, definition->info.params, config.params, input.sample_rate_hz);
  if (!resolved.ok()) return resolved.status();
  if (definition->validate != nullptr) {
    if (absl::Status status = definition->validate(*resolved, input); !status.ok()) return status;
  }
  return resolved;
}

absl::Status ProcessorRegistry::ValidateUpdate(const ProcessorConfig& update,
                                               const ParamValues& current,
                                               const ProcessSpec& input) const {
  const ProcessorDefinition* definition = Find(update.name);
  if (definition == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown processor '", update.name, "'"));
  }
  if (absl::Status status = CheckKnownParams(update.name, definition->info.params, update.params);
      !status.ok()) {
    return status;
  }
  for (const auto& [name, value] : update.params) {
    const ParamInfo& info = *definition->info.FindParam(name);
    const std::string field = absl::StrCat(update.name, ".", name);
    if (!info.runtime_updatable) {
      std::vector<absl::string_view> updatable;
      for (const ParamInfo& other : definition->info.params) {
        if (other.runtime_updatable) updatable.emplace_back(other.name);
      }
      return absl::InvalidArgumentError(absl::StrCat(
          field, " cannot be changed while streaming; ",
          updatable.empty() ? absl::StrCat("no parameter of ", update.name, " can")
                            : absl::StrCat("what can: ", absl::StrJoin(updatable, ", "))));
    }
    ParamValue checked;
    if (absl::Status status = CheckValue(field, info, value, input.sample_rate_hz, &checked);
        !status.ok()) {
      return status;
    }
  }
  if (definition->validate != nullptr) {
    ParamValues merged = current;
    merged.Merge(update.params);
    return definition->validate(merged, input);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ProcessorUpdate>> ProcessorRegistry::ResolveUpdate(
    const ProcessorConfig& update, const ParamValues& current, const ProcessSpec& input) const {
  if (absl::Status status = ValidateUpdate(update, current, input); !status.ok()) return status;
  const ProcessorDefinition& definition = *Find(update.name);
  if (definition.resolve_update == nullptr) return std::unique_ptr<ProcessorUpdate>();
  return definition.resolve_update(update.params);
}

absl::StatusOr<std::unique_ptr<Processor>> ProcessorRegistry::Create(const ProcessorConfig& config,
                                                                     const ProcessSpec& input,
                                                                     ParamValues* resolved) const {
  absl::StatusOr<ParamValues> params = Resolve(config, input);
  if (!params.ok()) return params.status();
  std::unique_ptr<Processor> processor = Find(config.name)->create(*params);
  if (resolved != nullptr) *resolved = *std::move(params);
  return processor;
}

}  // namespace audioproc
