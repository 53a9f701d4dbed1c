#include "processors/registry.h"

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

std::string FormatNumber(double value) { return absl::StrFormat("%g", value); }

absl::Status CheckNumber(absl::string_view processor, const ParamInfo& info, double value,
                         double sample_rate_hz) {
  const std::string field = absl::StrCat(processor, ".", info.name);
  Bound upper_bound;
  const double max = UpperBound(info, sample_rate_hz, &upper_bound);
  const bool below_min = info.min_bound == Bound::kInclusive ? value < info.min : value <= info.min;
  const bool above_max = upper_bound == Bound::kInclusive ? value > max : value >= max;
  if (std::isnan(value) || below_min || above_max) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be in ",
                                                   DescribeRange(info, sample_rate_hz),
                                                   ", got ", FormatNumber(value)));
  }
  if (info.type == ParamType::kInt && value != std::floor(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be an integer in ",
                                                   DescribeRange(info, sample_rate_hz),
                                                   ", got ", FormatNumber(value)));
  }
  return absl::OkStatus();
}

absl::Status CheckValue(absl::string_view processor, const ParamInfo& info,
                        const ParamValue& value, double sample_rate_hz) {
  const std::string field = absl::StrCat(processor, ".", info.name);
  switch (info.type) {
    case ParamType::kFloat:
    case ParamType::kInt:
      if (!std::holds_alternative<double>(value)) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be a number"));
      }
      return CheckNumber(processor, info, std::get<double>(value), sample_rate_hz);
    case ParamType::kBool:
      if (!std::holds_alternative<bool>(value)) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be true or false"));
      }
      return absl::OkStatus();
    case ParamType::kEnum: {
      const auto* text = std::get_if<std::string>(&value);
      if (text == nullptr || std::find(info.allowed_values.begin(), info.allowed_values.end(),
                                       *text) == info.allowed_values.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, " must be one of ", absl::StrJoin(info.allowed_values, ", ")));
      }
      return absl::OkStatus();
    }
    case ParamType::kFloatList: {
      const auto* list = std::get_if<std::vector<float>>(&value);
      if (list == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be a list of numbers"));
      }
      if (list->size() > info.max) {
        return absl::InvalidArgumentError(absl::StrCat(field, " may hold at most ",
                                                       FormatNumber(info.max), " values, got ",
                                                       list->size()));
      }
      for (size_t i = 0; i < list->size(); ++i) {
        if (!std::isfinite((*list)[i])) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, "[", i, "] must be a finite number"));
        }
      }
      return absl::OkStatus();
    }
    case ParamType::kBytes:
      if (!std::holds_alternative<std::string>(value)) {
        return absl::InvalidArgumentError(absl::StrCat(field, " must be bytes"));
      }
      return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat(field, " has an unknown type"));
}

absl::Status CheckKnownParams(const ProcessorDefinition& definition, const ParamValues& values) {
  for (const auto& [name, value] : values) {
    if (definition.info.FindParam(name) == nullptr) {
      std::vector<absl::string_view> known;
      for (const ParamInfo& info : definition.info.params) known.push_back(info.name);
      return absl::InvalidArgumentError(absl::StrCat(definition.info.name, " has no parameter '",
                                                     name, "'; it has ",
                                                     absl::StrJoin(known, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string DescribeRange(const ParamInfo& info, double sample_rate_hz) {
  Bound upper_bound;
  const double max = UpperBound(info, sample_rate_hz, &upper_bound);
  std::string range = absl::StrCat(info.min_bound == Bound::kInclusive ? "[" : "(",
                                   FormatNumber(info.min), ", ", FormatNumber(max),
                                   upper_bound == Bound::kInclusive ? "]" : ")");
  if (!info.unit.empty()) absl::StrAppend(&range, " ", info.unit);
  if (info.below_nyquist && max < info.max) absl::StrAppend(&range, " (below Nyquist)");
  return range;
}

ProcessorRegistry::ProcessorRegistry(std::vector<ProcessorDefinition> definitions)
    : definitions_(std::move(definitions)) {
  for (const ProcessorDefinition& definition : definitions_) {
    if (definition.create == nullptr) {
      std::fprintf(stderr, "audioproc: processor '%s' has no factory\n",
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
  if (absl::Status status = CheckKnownParams(*definition, config.params); !status.ok()) {
    return status;
  }
  ParamValues resolved;
  for (const ParamInfo& info : definition->info.params) {
    if (const ParamValue* value = config.params.Find(info.name)) {
      if (absl::Status status = CheckValue(config.name, info, *value, input.sample_rate_hz);
          !status.ok()) {
        return status;
      }
      resolved.Set(info.name, *value);
    } else if (info.required) {
      return absl::InvalidArgumentError(absl::StrCat(config.name, ".", info.name,
                                                     " is required, in ",
                                                     DescribeRange(info, input.sample_rate_hz)));
    } else if (info.default_value.has_value()) {
      switch (info.type) {
        case ParamType::kBool:
          resolved.Set(info.name, *info.default_value != 0);
          break;
        case ParamType::kEnum:
          resolved.Set(info.name,
                       info.allowed_values.at(static_cast<size_t>(*info.default_value)));
          break;
        default:
          resolved.Set(info.name, *info.default_value);
      }
    }
  }
  if (definition->validate != nullptr) {
    if (absl::Status status = definition->validate(resolved, input); !status.ok()) return status;
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
  if (absl::Status status = CheckKnownParams(*definition, update.params); !status.ok()) {
    return status;
  }
  for (const auto& [name, value] : update.params) {
    const ParamInfo& info = *definition->info.FindParam(name);
    if (!info.runtime_updatable) {
      return absl::InvalidArgumentError(
          absl::StrCat(update.name, ".", name, " cannot be changed while streaming"));
    }
    if (absl::Status status = CheckValue(update.name, info, value, input.sample_rate_hz);
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

absl::StatusOr<std::unique_ptr<Processor>> ProcessorRegistry::Create(
    const ProcessorConfig& config, const ProcessSpec& input, ParamValues* resolved) const {
  absl::StatusOr<ParamValues> params = Resolve(config, input);
  if (!params.ok()) return params.status();
  std::unique_ptr<Processor> processor = Find(config.name)->create(*params);
  if (resolved != nullptr) *resolved = *std::move(params);
  return processor;
}

}  // namespace audioproc
