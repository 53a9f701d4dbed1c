// RETURN_IF_ERROR and ASSIGN_OR_RETURN, which the packaged Abseil (20220623) lacks.
#ifndef AUDIOPROC_COMMON_STATUS_MACROS_H_
#define AUDIOPROC_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"

#define AUDIOPROC_CONCAT_INNER_(a, b) a##b
#define AUDIOPROC_CONCAT_(a, b) AUDIOPROC_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                                           \
  do {                                                                  \
    if (::absl::Status status_ = (expr); !status_.ok()) return status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(AUDIOPROC_CONCAT_(status_or_, __LINE__), lhs, expr)
// `status_or` names a variable and `lhs` may be a declaration (`auto x`): neither can be
// parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ASSIGN_OR_RETURN_IMPL_(status_or, lhs, expr) \
  auto status_or = (expr);                           \
  if (!status_or.ok()) return status_or.status();    \
  lhs = *std::move(status_or)
// NOLINTEND(bugprone-macro-parentheses)

#endif  // AUDIOPROC_COMMON_STATUS_MACROS_H_
