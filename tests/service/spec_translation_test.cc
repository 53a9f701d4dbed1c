// The proto and the processor catalogue describe the same processors and parameters: the
// service translates between them by name, so a mismatch would silently drop a parameter.
#include "service/spec_translation.h"

#include <set>

#include "chain/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using google::protobuf::FieldDescriptor;
using ::testing::HasSubstr;
using testing::StatusIs;

bool TypeMatches(ParamType type, const FieldDescriptor& field) {
  switch (type) {
    case ParamType::kFloat:
      return !field.is_repeated() && (field.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT ||
                                      field.cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE);
    case ParamType::kInt:
      return !field.is_repeated() && (field.cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ||
                                      field.cpp_type() == FieldDescriptor::CPPTYPE_INT32);
    case ParamType::kBool:
      return field.cpp_type() == FieldDescriptor::CPPTYPE_BOOL;
    case ParamType::kEnum:
      return field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM;
    case ParamType::kFloatList:
      return field.is_repeated() && field.cpp_type() == FieldDescriptor::CPPTYPE_FLOAT;
    case ParamType::kBytes:
      return field.type() == FieldDescriptor::TYPE_BYTES;
    case ParamType::kRecordList:
      return field.is_repeated() && field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  }
  return false;
}

// Every ParamInfo of `params` is a field of `message` with a matching type, and the other way
// round; record lists recursively.
void ExpectFieldsMatch(const std::string& owner, const std::vector<ParamInfo>& params,
                       const google::protobuf::Descriptor& message) {
  for (const ParamInfo& param : params) {
    const FieldDescriptor* field = message.FindFieldByName(param.name);
    ASSERT_NE(field, nullptr) << owner << "." << param.name;
    EXPECT_TRUE(TypeMatches(param.type, *field))
        << owner << "." << param.name << " is " << field->type_name();
    if (!field->is_repeated()) {
      EXPECT_TRUE(field->has_presence()) << owner << "." << param.name << " must be optional";
    }
    if (param.type == ParamType::kRecordList) {
      ExpectFieldsMatch(owner + "." + param.name, param.fields, *field->message_type());
    }
  }
  EXPECT_EQ(message.field_count(), static_cast<int>(params.size()))
      << owner << " has proto fields the catalogue does not describe";
}

// A value of every parameter of `params`, in range where a range applies.
ParamValues SampleValues(const std::vector<ParamInfo>& params) {
  ParamValues values;
  for (const ParamInfo& param : params) {
    switch (param.type) {
      case ParamType::kFloat:
      case ParamType::kInt:
        values.Set(param.name, param.type == ParamType::kInt ? 3.0 : 0.5);
        break;
      case ParamType::kBool:
        values.Set(param.name, true);
        break;
      case ParamType::kEnum:
        values.Set(param.name, param.allowed_values.back());
        break;
      case ParamType::kFloatList:
        values.Set(param.name, std::vector<float>{0.25f, -1.5f});
        break;
      case ParamType::kBytes:
        values.Set(param.name, std::string("\x01\x02", 2));
        break;
      case ParamType::kRecordList:
        values.Set(param.name, std::vector<ParamValues>{SampleValues(param.fields),
                                                        SampleValues(param.fields)});
        break;
    }
  }
  return values;
}

TEST(SpecTranslationTest, EveryRegisteredParameterIsAProtoFieldOfTheSameNameAndType) {
  const auto* oneof = v1::ProcessorSpec::descriptor()->FindOneofByName("processor");
  for (const ProcessorDefinition& definition : ProcessorRegistry::Default().definitions()) {
    const FieldDescriptor* field =
        v1::ProcessorSpec::descriptor()->FindFieldByName(definition.info.name);
    ASSERT_NE(field, nullptr) << definition.info.name << " is not a ProcessorSpec field";
    EXPECT_EQ(field->containing_oneof(), oneof) << definition.info.name;
    ExpectFieldsMatch(definition.info.name, definition.info.params, *field->message_type());
  }
}

TEST(SpecTranslationTest, EveryProcessorInTheProtoIsRegistered) {
  const auto* oneof = v1::ProcessorSpec::descriptor()->FindOneofByName("processor");
  for (int i = 0; i < oneof->field_count(); ++i) {
    EXPECT_NE(ProcessorRegistry::Default().Find(oneof->field(i)->name()), nullptr)
        << oneof->field(i)->name();
  }
}

TEST(SpecTranslationTest, ResolvedConfigsRoundTripThroughTheProto) {
  for (const ProcessorDefinition& definition : ProcessorRegistry::Default().definitions()) {
    const ProcessorConfig config{definition.info.name, SampleValues(definition.info.params)};
    absl::StatusOr<ProcessorConfig> back = ConfigFromSpec(SpecFromConfig(config));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->name, config.name);
    EXPECT_EQ(back->params.size(), config.params.size()) << config.name;
    for (const auto& [name, value] : config.params) {
      const ParamValue* got = back->params.Find(name);
      ASSERT_NE(got, nullptr) << config.name << "." << name;
      EXPECT_TRUE(*got == value) << config.name << "." << name;
    }
  }
}

TEST(SpecTranslationTest, AnEmptySpecIsInvalidArgument) {
  EXPECT_THAT(ConfigFromSpec(v1::ProcessorSpec()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(SpecTranslationTest, ListProcessorsDescribesEveryParameterWithItsRange) {
  const v1::ListProcessorsResponse response = DescribeProcessors(ProcessorRegistry::Default());
  ASSERT_EQ(response.processors_size(),
            static_cast<int>(ProcessorRegistry::Default().definitions().size()));
  std::set<std::string> names;
  for (const v1::ProcessorInfo& info : response.processors()) {
    names.insert(info.name());
    EXPECT_FALSE(info.summary().empty()) << info.name();
    const ProcessorDefinition* definition = ProcessorRegistry::Default().Find(info.name());
    ASSERT_NE(definition, nullptr);
    // Each parameter, and after a record list each of its fields as "list[].field".
    std::vector<std::pair<std::string, const ParamInfo*>> expected;
    for (const ParamInfo& param : definition->info.params) {
      expected.emplace_back(param.name, &param);
      for (const ParamInfo& field : param.fields) {
        expected.emplace_back(param.name + "[]." + field.name, &field);
      }
    }
    ASSERT_EQ(info.parameters_size(), static_cast<int>(expected.size())) << info.name();
    for (int i = 0; i < info.parameters_size(); ++i) {
      const v1::ParameterInfo& param = info.parameters(i);
      const ParamInfo& want = *expected[i].second;
      EXPECT_EQ(param.name(), expected[i].first);
      EXPECT_EQ(param.type(), std::string(ParamTypeName(want.type)));
      EXPECT_EQ(param.min(), want.min);
      EXPECT_EQ(param.max(), want.max);
      EXPECT_EQ(param.required(), want.required);
      EXPECT_EQ(param.runtime_updatable(), want.runtime_updatable);
      EXPECT_EQ(param.has_default_value(), want.default_value.has_value());
      EXPECT_EQ(param.allowed_values_size(), static_cast<int>(want.allowed_values.size()));
    }
  }
  for (const char* name : {"gain", "mix", "highpass", "lowpass", "bandpass", "notch", "peaking",
                           "lowshelf", "highshelf", "dc_block", "limiter"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

}  // namespace
}  // namespace audioproc
