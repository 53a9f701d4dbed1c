#include "service/spec_translation.h"

#include <google/protobuf/reflection.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace audioproc {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The numeric value of a singular scalar field, as a double.
double NumberOf(const Message& message, const FieldDescriptor* field) {
  const Reflection* reflection = message.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_FLOAT:
      return reflection->GetFloat(message, field);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return reflection->GetDouble(message, field);
    case FieldDescriptor::CPPTYPE_INT32:
      return reflection->GetInt32(message, field);
    case FieldDescriptor::CPPTYPE_INT64:
      return static_cast<double>(reflection->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return reflection->GetUInt32(message, field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return static_cast<double>(reflection->GetUInt64(message, field));
    default:
      return 0;
  }
}

void SetNumber(Message* message, const FieldDescriptor* field, double value) {
  const Reflection* reflection = message->GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_FLOAT:
      reflection->SetFloat(message, field, static_cast<float>(value));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      reflection->SetDouble(message, field, value);
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      reflection->SetInt32(message, field, static_cast<int32_t>(value));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      reflection->SetInt64(message, field, static_cast<int64_t>(value));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      reflection->SetUInt32(message, field, static_cast<uint32_t>(value));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      reflection->SetUInt64(message, field, static_cast<uint64_t>(value));
      break;
    default:
      break;
  }
}

// Every field set in `message`, by name: scalars as numbers, bools, enum names and bytes;
// repeated floats as a list; repeated messages as a list of records.
ParamValues MessageToParams(const Message& message) {
  ParamValues params;
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->is_repeated()) {
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        const auto values = reflection->GetRepeatedFieldRef<float>(message, field);
        params.Set(field->name(), std::vector<float>(values.begin(), values.end()));
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        std::vector<ParamValues> records;
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          records.push_back(MessageToParams(reflection->GetRepeatedMessage(message, field, i)));
        }
        params.Set(field->name(), std::move(records));
      }
      continue;
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_BOOL:
        params.Set(field->name(), reflection->GetBool(message, field));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        params.Set(field->name(), reflection->GetEnum(message, field)->name());
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        params.Set(field->name(), reflection->GetString(message, field));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;  // no singular nested parameters
      default:
        params.Set(field->name(), NumberOf(message, field));
    }
  }
  return params;
}

// Sets every parameter of `params` that `message` has a field for.
void ParamsToMessage(const ParamValues& params, Message* message) {
  const Descriptor* descriptor = message->GetDescriptor();
  const Reflection* reflection = message->GetReflection();
  for (const auto& [name, value] : params) {
    const FieldDescriptor* field = descriptor->FindFieldByName(name);
    if (field == nullptr) continue;
    if (const auto* number = std::get_if<double>(&value)) {
      SetNumber(message, field, *number);
    } else if (const auto* flag = std::get_if<bool>(&value)) {
      reflection->SetBool(message, field, *flag);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        if (const auto* enum_value = field->enum_type()->FindValueByName(*text)) {
          reflection->SetEnum(message, field, enum_value);
        }
      } else {
        reflection->SetString(message, field, *text);
      }
    } else if (const auto* list = std::get_if<std::vector<float>>(&value)) {
      for (float x : *list) reflection->AddFloat(message, field, x);
    } else if (const auto* records = std::get_if<std::vector<ParamValues>>(&value)) {
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      for (const ParamValues& record : *records) {
        ParamsToMessage(record, reflection->AddMessage(message, field));
      }
    }
  }
}

void DescribeParam(const ParamInfo& param, absl::string_view name, v1::ParameterInfo* out) {
  out->set_name(std::string(name));
  out->set_type(std::string(ParamTypeName(param.type)));
  out->set_unit(param.unit);
  if (param.default_value.has_value()) out->set_default_value(*param.default_value);
  out->set_min(param.min);
  out->set_max(param.max);
  out->set_required(param.required);
  out->set_runtime_updatable(param.runtime_updatable);
  // min and max cannot say whether a bound is exclusive or depends on the stream; the
  // summary does.
  std::string summary = param.summary;
  if (param.type == ParamType::kFloat || param.type == ParamType::kInt) {
    absl::StrAppend(&summary, summary.empty() ? "" : " ", "Range ",
                    DescribeRange(param, 2 * param.max), ".");
  }
  if (param.below_nyquist) {
    absl::StrAppend(&summary, " Must be below the stream's Nyquist frequency.");
  }
  out->set_summary(summary);
  for (const std::string& allowed : param.allowed_values) out->add_allowed_values(allowed);
}

}  // namespace

absl::StatusOr<ProcessorConfig> ConfigFromSpec(const v1::ProcessorSpec& spec) {
  const Reflection* reflection = spec.GetReflection();
  const FieldDescriptor* which =
      reflection->GetOneofFieldDescriptor(spec, spec.GetDescriptor()->FindOneofByName("processor"));
  if (which == nullptr) {
    return absl::InvalidArgumentError("is empty: set one processor, e.g. {\"gain\":{}}");
  }
  return ProcessorConfig{which->name(), MessageToParams(reflection->GetMessage(spec, which))};
}

v1::ProcessorSpec SpecFromConfig(const ProcessorConfig& config) {
  v1::ProcessorSpec spec;
  const FieldDescriptor* which = spec.GetDescriptor()->FindFieldByName(config.name);
  if (which == nullptr) return spec;
  ParamsToMessage(config.params, spec.GetReflection()->MutableMessage(&spec, which));
  return spec;
}

v1::ProcessorSpec EchoSpec(const ProcessorConfig& config) {
  ProcessorConfig echoed{config.name, {}};
  for (const auto& [name, value] : config.params) {
    // Enum names are strings too, but short.
    const auto* text = std::get_if<std::string>(&value);
    const auto* list = std::get_if<std::vector<float>>(&value);
    if ((text != nullptr && text->size() > kMaxEchoedListValues) ||
        (list != nullptr && list->size() > kMaxEchoedListValues)) {
      continue;
    }
    echoed.params.Set(name, value);
  }
  return SpecFromConfig(echoed);
}

v1::ListProcessorsResponse DescribeProcessors(const ProcessorRegistry& registry) {
  v1::ListProcessorsResponse response;
  for (const ProcessorDefinition& definition : registry.definitions()) {
    v1::ProcessorInfo* info = response.add_processors();
    info->set_name(definition.info.name);
    info->set_summary(definition.info.summary);
    for (const ParamInfo& param : definition.info.params) {
      DescribeParam(param, param.name, info->add_parameters());
      // A record list's fields follow it as "bands[].freq_hz".
      for (const ParamInfo& field : param.fields) {
        DescribeParam(field, absl::StrCat(param.name, "[].", field.name), info->add_parameters());
      }
    }
  }
  return response;
}

}  // namespace audioproc
