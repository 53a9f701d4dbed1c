// The proto and the processor catalogue describe the same processors and parameters: the
// service translates between them by name, so a mismatch would silently drop a parameter.
#include "service/spec_translation.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "processors/registry.h"
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
  }
  return false;
}

TEST(SpecTranslationTest, EveryRegisteredParameterIsAProtoFieldOfTheSameNameAndType) {
  const auto* oneof = v1::ProcessorSpec::descriptor()->FindOneofByName("processor");
  for (const ProcessorDefinition& definition : ProcessorRegistry::Default().definitions()) {
    const FieldDescriptor* field =
        v1::ProcessorSpec::descriptor()->FindFieldByName(definition.info.name);
    ASSERT_NE(field, nullptr) << definition.info.name << " is not a ProcessorSpec field";
    EXPECT_EQ(field->containing_oneof(), oneof) << definition.info.name;
    for (const ParamInfo& param : definition.info.params) {
      const FieldDescriptor* param_field = field->message_type()->FindFieldByName(param.name);
      ASSERT_NE(param_field, nullptr) << definition.info.name << "." << param.name;
      EXPECT_TRUE(TypeMatches(param.type, *param_field))
          << definition.info.name << "." << param.name << " is " << param_field->type_name();
      if (!param_field->is_repeated()) {
        EXPECT_TRUE(param_field->has_presence())
            << definition.info.name << "." << param.name << " must be optional";
      }
    }
    EXPECT_EQ(field->message_type()->field_count(), static_cast<int>(definition.info.params.size()))
        << definition.info.name << " has proto fields the catalogue does not describe";
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
    ProcessorConfig config{definition.info.name, {}};
    for (const ParamInfo& param : definition.info.params) {
      switch (param.type) {
        case ParamType::kFloat:
        case ParamType::kInt:
          config.params.Set(param.name, param.type == ParamType::kInt ? 3.0 : 0.5);
          break;
        case ParamType::kBool:
          config.params.Set(param.name, true);
          break;
        case ParamType::kEnum:
          config.params.Set(param.name, param.allowed_values.back());
          break;
        case ParamType::kFloatList:
          config.params.Set(param.name, std::vector<float>{0.25f, -1.5f});
          break;
        case ParamType::kBytes:
          config.params.Set(param.name, std::string("\x01\x02", 2));
          break;
      }
    }
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
    ASSERT_EQ(info.parameters_size(), static_cast<int>(definition->info.params.size()));
    for (int i = 0; i < info.parameters_size(); ++i) {
      const v1::ParameterInfo& param = info.parameters(i);
      const ParamInfo& expected = definition->info.params[i];
      EXPECT_EQ(param.name(), expected.name);
      EXPECT_EQ(param.min(), expected.min);
      EXPECT_EQ(param.max(), expected.max);
      EXPECT_EQ(param.required(), expected.required);
      EXPECT_EQ(param.runtime_updatable(), expected.runtime_updatable);
      EXPECT_EQ(param.has_default_value(), expected.default_value.has_value());
    }
  }
  for (const char* name : {"gain", "mix", "highpass", "lowpass", "bandpass", "notch", "peaking",
                           "lowshelf", "highshelf", "dc_block", "limiter"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

}  // namespace
}  // namespace audioproc
