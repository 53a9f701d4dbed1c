#include "clients/chain_parser.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"

namespace audioproc::client {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

const OneofDescriptor& ProcessorOneof() {
  static const OneofDescriptor* const oneof =
      v1::ProcessorSpec::descriptor()->FindOneofByName("processor");
  if (oneof == nullptr) {
    // The generated code and this file disagree about the proto: a build problem, not input.
    std::fprintf(stderr, "audioproc.v1.ProcessorSpec has no oneof 'processor'\n");
    std::abort();
  }
  return *oneof;
}

std::string ProcessorNames() {
  const OneofDescriptor& oneof = ProcessorOneof();
  std::vector<std::string> names;
  for (int i = 0; i < oneof.field_count(); ++i) names.push_back(oneof.field(i)->name());
  return absl::StrJoin(names, ", ");
}

std::string FieldNames(const google::protobuf::Descriptor& descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor.field_count(); ++i) names.push_back(descriptor.field(i)->name());
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

absl::Status InvalidArgument(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// Why the one-line form cannot carry `field`, or "" if it can.
std::string OneLineRestriction(const FieldDescriptor& field) {
  if (field.is_repeated()) return "is a list";
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) return "is nested";
  if (field.type() == FieldDescriptor::TYPE_BYTES) return "is binary";
  return "";
}

template <typename Int>
absl::Status SetInteger(absl::string_view text, Int* out) {
  if (absl::SimpleAtoi(text, out)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a whole number in [",
                                                 std::numeric_limits<Int>::min(), ", ",
                                                 std::numeric_limits<Int>::max(), "]"));
}

template <typename Float>
std::string ShortestFloat(Float value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string FormatValue(const Message& message, const FieldDescriptor& field, int index) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_FLOAT:
      return ShortestFloat(repeated ? r.GetRepeatedFloat(message, &field, index)
                                    : r.GetFloat(message, &field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return ShortestFloat(repeated ? r.GetRepeatedDouble(message, &field, index)
                                    : r.GetDouble(message, &field));
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(repeated ? r.GetRepeatedInt32(message, &field, index)
                                   : r.GetInt32(message, &field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(repeated ? r.GetRepeatedInt64(message, &field, index)
                                   : r.GetInt64(message, &field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(repeated ? r.GetRepeatedUInt32(message, &field, index)
                                   : r.GetUInt32(message, &field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(repeated ? r.GetRepeatedUInt64(message, &field, index)
                                   : r.GetUInt64(message, &field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? r.GetRepeatedBool(message, &field, index) : r.GetBool(message, &field))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return (repeated ? r.GetRepeatedEnum(message, &field, index) : r.GetEnum(message, &field))
          ->name();
    case FieldDescriptor::CPPTYPE_STRING:
      if (field.type() == FieldDescriptor::TYPE_BYTES) {
        return absl::StrCat(
            "<",
            (repeated ? r.GetRepeatedString(message, &field, index) : r.GetString(message, &field))
                .size(),
            " bytes>");
      }
      return repeated ? r.GetRepeatedString(message, &field, index) : r.GetString(message, &field);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return absl::StrCat(
          "{",
          (repeated ? r.GetRepeatedMessage(message, &field, index) : r.GetMessage(message, &field))
              .ShortDebugString(),
          "}");
  }
  return "?";
}

// One processor of the one-line form: `name[:param=value]...`, at chain position `index`.
absl::Status ParseSegment(absl::string_view segment, size_t index, v1::ProcessorSpec& spec) {
  const std::string where = absl::StrCat("chain[", index, "]");
  std::vector<absl::string_view> tokens = absl::StrSplit(segment, ':');
  const absl::string_view name = absl::StripAsciiWhitespace(tokens[0]);
  if (name.empty()) {
    return InvalidArgument(where, tokens.size() == 1
                                      ? "empty processor (a leading, trailing or doubled ',')"
                                      : "missing processor name before ':'");
  }
  const FieldDescriptor* processor =
      v1::ProcessorSpec::descriptor()->FindFieldByName(std::string(name));
  if (processor == nullptr || processor->containing_oneof() != &ProcessorOneof()) {
    return InvalidArgument(
        where, absl::StrCat("unknown processor '", name, "' (known: ", ProcessorNames(), ")"));
  }
  Message& params = *spec.GetReflection()->MutableMessage(&spec, processor);
  std::vector<const FieldDescriptor*> seen;
  for (size_t i = 1; i < tokens.size(); ++i) {
    const absl::string_view token = absl::StripAsciiWhitespace(tokens[i]);
    if (token.empty()) {
      return InvalidArgument(where, absl::StrCat(name, ": empty parameter (a stray ':')"));
    }
    const size_t equals = token.find('=');
    if (equals == absl::string_view::npos) {
      return InvalidArgument(where,
                             absl::StrCat(name, ": parameter '", token, "' has no '=' and value"));
    }
    const absl::string_view key = absl::StripAsciiWhitespace(token.substr(0, equals));
    const absl::string_view value = absl::StripAsciiWhitespace(token.substr(equals + 1));
    if (key.empty()) {
      return InvalidArgument(where, absl::StrCat(name, ": parameter name missing before '='"));
    }
    const FieldDescriptor* field = params.GetDescriptor()->FindFieldByName(std::string(key));
    if (field == nullptr) {
      return InvalidArgument(where,
                             absl::StrCat(name, " has no parameter '", key, "' (", name,
                                          " takes: ", FieldNames(*params.GetDescriptor()), ")"));
    }
    const std::string param = absl::StrCat(name, ".", key);
    if (const std::string restriction = OneLineRestriction(*field); !restriction.empty()) {
      return InvalidArgument(
          where, absl::StrCat(param, " ", restriction,
                              ", which the one-line form cannot carry: give the chain as "
                              "JSON, e.g. [{\"",
                              name, "\":{\"", field->json_name(), "\":...}}]"));
    }
    for (const FieldDescriptor* earlier : seen) {
      if (earlier == field) return InvalidArgument(where, absl::StrCat(param, " is given twice"));
    }
    seen.push_back(field);
    if (value.empty()) return InvalidArgument(where, absl::StrCat(param, ": no value after '='"));
    if (absl::Status status = SetScalarFieldFromText(*field, value, params); !status.ok()) {
      return InvalidArgument(where, absl::StrCat(param, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ProcessorSpec>> ParseOneLine(absl::string_view text) {
  std::vector<v1::ProcessorSpec> chain;
  if (absl::StripAsciiWhitespace(text).empty()) return chain;
  for (absl::string_view segment : absl::StrSplit(text, ',')) {
    v1::ProcessorSpec& spec = chain.emplace_back();
    if (absl::Status status = ParseSegment(segment, chain.size() - 1, spec); !status.ok()) {
      return status;
    }
  }
  return chain;
}

absl::StatusOr<v1::StreamConfig> ParseJsonConfig(absl::string_view json, absl::string_view what) {
  v1::StreamConfig config;
  const google::protobuf::util::Status status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &config);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON ", what, ": ", std::string(status.message())));
  }
  return config;
}

// True if `config` sets anything besides its chain.
bool HasMoreThanChain(const v1::StreamConfig& config) {
  v1::StreamConfig rest = config;
  rest.clear_chain();
  return rest.ByteSizeLong() != 0;
}

}  // namespace

absl::Status SetScalarFieldFromText(const FieldDescriptor& field, absl::string_view text,
                                    Message& message) {
  const Reflection& r = *message.GetReflection();
  if (const std::string restriction = OneLineRestriction(field); !restriction.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field.name(), " ", restriction));
  }
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double value;
      // strtod underneath would also take hexadecimal, which JSON and people do not write.
      if (absl::StrContains(text, 'x') || absl::StrContains(text, 'X') ||
          !absl::SimpleAtod(text, &value)) {
        return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a number"));
      }
      // A float field must also be finite as a float: 1e39 is a double but not a float.
      const bool is_float = field.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT;
      if (!std::isfinite(value) || (is_float && !std::isfinite(static_cast<float>(value)))) {
        return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a finite number"));
      }
      if (is_float) {
        float as_float;
        // Parse again as float rather than narrowing, so the value is the float nearest to
        // the text (what a JSON chain would give), not a double rounded twice.
        if (!absl::SimpleAtof(text, &as_float)) {
          return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a number"));
        }
        r.SetFloat(&message, &field, as_float);
      } else {
        r.SetDouble(&message, &field, value);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t value;
      if (absl::Status s = SetInteger(text, &value); !s.ok()) return s;
      r.SetInt32(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t value;
      if (absl::Status s = SetInteger(text, &value); !s.ok()) return s;
      r.SetInt64(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t value;
      if (absl::Status s = SetInteger(text, &value); !s.ok()) return s;
      r.SetUInt32(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t value;
      if (absl::Status s = SetInteger(text, &value); !s.ok()) return s;
      r.SetUInt64(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const std::string lower = absl::AsciiStrToLower(text);
      if (lower != "true" && lower != "false" && lower != "1" && lower != "0") {
        return absl::InvalidArgumentError(
            absl::StrCat("'", text, "' is not a bool (true, false, 1 or 0)"));
      }
      r.SetBool(&message, &field, lower == "true" || lower == "1");
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumDescriptor& type = *field.enum_type();
      const google::protobuf::EnumValueDescriptor* value =
          type.FindValueByName(absl::AsciiStrToUpper(text));
      if (value == nullptr) value = type.FindValueByName(std::string(text));
      if (value == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < type.value_count(); ++i) names.push_back(type.value(i)->name());
        return absl::InvalidArgumentError(
            absl::StrCat("'", text, "' is not one of ", absl::StrJoin(names, ", ")));
      }
      r.SetEnum(&message, &field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING:
      r.SetString(&message, &field, std::string(text));
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;  // Refused by OneLineRestriction above.
  }
  return absl::InvalidArgumentError(absl::StrCat(field.name(), " is not a scalar"));
}

absl::StatusOr<v1::StreamConfig> ParseStreamConfig(absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (absl::StartsWith(trimmed, "{")) return ParseJsonConfig(trimmed, "StreamConfig");
  v1::StreamConfig config;
  if (absl::StartsWith(trimmed, "[")) {
    absl::StatusOr<v1::StreamConfig> parsed =
        ParseJsonConfig(absl::StrCat("{\"chain\":", trimmed, "}"), "chain");
    if (!parsed.ok()) return parsed.status();
    // Wrapping lets `[...], "streamId": "x"` through as valid JSON; it is not an array.
    if (HasMoreThanChain(*parsed)) {
      return absl::InvalidArgumentError("invalid JSON chain: not a single JSON array");
    }
    return parsed;
  }
  absl::StatusOr<std::vector<v1::ProcessorSpec>> chain = ParseOneLine(trimmed);
  if (!chain.ok()) return chain.status();
  for (v1::ProcessorSpec& spec : *chain) *config.add_chain() = std::move(spec);
  return config;
}

absl::StatusOr<std::vector<v1::ProcessorSpec>> ParseChain(absl::string_view text) {
  absl::StatusOr<v1::StreamConfig> config = ParseStreamConfig(text);
  if (!config.ok()) return config.status();
  if (HasMoreThanChain(*config)) {
    return absl::InvalidArgumentError(
        "this JSON StreamConfig sets more than its chain, which is all that is accepted "
        "here: give a chain");
  }
  return std::vector<v1::ProcessorSpec>(config->chain().begin(), config->chain().end());
}

std::string FormatChain(const google::protobuf::RepeatedPtrField<v1::ProcessorSpec>& chain) {
  std::vector<std::string> segments;
  for (const v1::ProcessorSpec& spec : chain) {
    const FieldDescriptor* processor =
        spec.GetReflection()->GetOneofFieldDescriptor(spec, &ProcessorOneof());
    if (processor == nullptr) {
      segments.emplace_back("(none)");
      continue;
    }
    std::string segment = processor->name();
    const Message& params = spec.GetReflection()->GetMessage(spec, processor);
    std::vector<const FieldDescriptor*> fields;
    params.GetReflection()->ListFields(params, &fields);
    for (const FieldDescriptor* field : fields) {
      absl::StrAppend(&segment, ":", field->name(), "=");
      if (!field->is_repeated()) {
        absl::StrAppend(&segment, FormatValue(params, *field, 0));
        continue;
      }
      std::vector<std::string> items;
      const int size = params.GetReflection()->FieldSize(params, field);
      for (int i = 0; i < size; ++i) items.push_back(FormatValue(params, *field, i));
      absl::StrAppend(&segment, "[", absl::StrJoin(items, " "), "]");
    }
    segments.push_back(std::move(segment));
  }
  return absl::StrJoin(segments, ",");
}

std::string FormatChain(const std::vector<v1::ProcessorSpec>& chain) {
  return FormatChain(
      google::protobuf::RepeatedPtrField<v1::ProcessorSpec>(chain.begin(), chain.end()));
}

std::string FormatChainJson(const std::vector<v1::ProcessorSpec>& chain) {
  std::vector<std::string> items;
  for (const v1::ProcessorSpec& spec : chain) {
    std::string json;
    // Only invalid UTF-8 in a string field can make this fail, and then the server would
    // refuse the chain anyway: show the element as empty rather than hide the rest.
    if (!google::protobuf::util::MessageToJsonString(spec, &json).ok()) json = "{}";
    items.push_back(std::move(json));
  }
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

}  // namespace audioproc::client
