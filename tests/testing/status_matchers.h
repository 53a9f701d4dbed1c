// StatusIs: a gMock matcher for absl::Status and absl::StatusOr<T>, which the packaged Abseil
// (20220623) does not ship. Asserts the exact code and, optionally, the message.
//
//   EXPECT_THAT(Resolve(...), StatusIs(absl::StatusCode::kInvalidArgument,
//                                      HasSubstr("cutoff_hz")));
#ifndef AUDIOPROC_TESTS_TESTING_STATUS_MATCHERS_H_
#define AUDIOPROC_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace audioproc::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  return status.ok();
}

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_STATUS_MATCHERS_H_
