#include "chain/parameters.h"

#include <cstdio>
#include <cstdlib>

namespace audioproc {
namespace {

// A missing or mistyped resolved parameter is a bug in a processor, not bad input: validation
// has already checked every value against its ParamInfo.
[[noreturn]] void MissingParam(absl::string_view name, const char* type) {
  std::fprintf(stderr, "audioproc: resolved parameter '%.*s' is not a %s\n",
               static_cast<int>(name.size()), name.data(), type);
  std::abort();
}

template <typename T>
const T& Get(const ParamValues& values, absl::string_view name, const char* type) {
  const ParamValue* value = values.Find(name);
  if (value == nullptr || !std::holds_alternative<T>(*value)) MissingParam(name, type);
  return std::get<T>(*value);
}

}  // namespace

absl::string_view ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kFloat:
      return "float";
    case ParamType::kInt:
      return "int";
    case ParamType::kBool:
      return "bool";
    case ParamType::kEnum:
      return "enum";
    case ParamType::kFloatList:
      return "float_list";
    case ParamType::kBytes:
      return "bytes";
    case ParamType::kRecordList:
      return "record_list";
  }
  return "unknown";
}

ParamInfo FloatParam(absl::string_view name, absl::string_view unit, double default_value,
                     double min, double max, bool runtime_updatable, absl::string_view summary) {
  ParamInfo info;
  info.name = std::string(name);
  info.type = ParamType::kFloat;
  info.unit = std::string(unit);
  info.default_value = default_value;
  info.min = min;
  info.max = max;
  info.runtime_updatable = runtime_updatable;
  info.summary = std::string(summary);
  return info;
}

const ParamInfo* ProcessorInfo::FindParam(absl::string_view param) const {
  for (const ParamInfo& info : params) {
    if (info.name == param) return &info;
  }
  return nullptr;
}

void ParamValues::Set(absl::string_view name, ParamValue value) {
  for (auto& [key, existing] : values_) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  values_.emplace_back(std::string(name), std::move(value));
}

const ParamValue* ParamValues::Find(absl::string_view name) const {
  for (const auto& [key, value] : values_) {
    if (key == name) return &value;
  }
  return nullptr;
}

double ParamValues::Number(absl::string_view name) const {
  return Get<double>(*this, name, "number");
}
bool ParamValues::Bool(absl::string_view name) const { return Get<bool>(*this, name, "bool"); }
const std::string& ParamValues::Text(absl::string_view name) const {
  return Get<std::string>(*this, name, "string");
}
const std::vector<float>& ParamValues::Floats(absl::string_view name) const {
  return Get<std::vector<float>>(*this, name, "float list");
}

const std::vector<ParamValues>& ParamValues::Records(absl::string_view name) const {
  return Get<std::vector<ParamValues>>(*this, name, "record list");
}

void ParamValues::Merge(const ParamValues& other) {
  for (const auto& [key, value] : other) Set(key, value);
}

}  // namespace audioproc
