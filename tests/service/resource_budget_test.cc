// ResourceBudget: reservations are whole or nothing, refusals name what is needed and what
// is left, and everything comes back when reservations end.
#include "service/resource_budget.h"

#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace audioproc {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::StatusIs;

constexpr int64_t kMiB = 1 << 20;

TEST(ResourceBudgetTest, ReservesWholeAndGivesBackWhenTheReservationEnds) {
  std::vector<ResourceAmount> seen;
  ResourceBudget budget({100 * kMiB, 2.0}, [&](const ResourceAmount& a) { seen.push_back(a); });
  {
    absl::StatusOr<ResourceBudget::Reservation> a = budget.Reserve({60 * kMiB, 1.5}, "a");
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(budget.committed().memory_bytes, 60 * kMiB);
    EXPECT_DOUBLE_EQ(budget.committed().cpu_cores, 1.5);
    // Moving keeps one claim.
    ResourceBudget::Reservation moved = *std::move(a);
    EXPECT_EQ(budget.committed().memory_bytes, 60 * kMiB);
    EXPECT_EQ(moved.amount().memory_bytes, 60 * kMiB);
  }
  EXPECT_EQ(budget.committed().memory_bytes, 0);
  EXPECT_DOUBLE_EQ(budget.committed().cpu_cores, 0);
  // The observer saw every step, the last one being the current state.
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.back().memory_bytes, 0);
}

TEST(ResourceBudgetTest, RefusesWhatDoesNotFitNamingNeedAndWhatIsLeft) {
  ResourceBudget budget({100 * kMiB, 2.0});
  absl::StatusOr<ResourceBudget::Reservation> held = budget.Reserve({90 * kMiB, 0.5}, "a");
  ASSERT_TRUE(held.ok());
  std::string exhausted;
  EXPECT_THAT(budget.Reserve({20 * kMiB, 0.1}, "the stream", &exhausted),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("the stream needs 20 MiB of memory"),
                             HasSubstr("10 MiB of the server's 100 MiB (--memory_budget_bytes)"),
                             HasSubstr("retry"))));
  EXPECT_EQ(exhausted, "memory_budget");
  EXPECT_THAT(budget.Reserve({1 * kMiB, 1.6}, "the file", &exhausted),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("the file needs 1.6 cores"),
                             HasSubstr("1.5 of the server's 2 (--cpu_budget)"))));
  EXPECT_EQ(exhausted, "cpu_budget");
  // Nothing of a refused reservation was taken.
  EXPECT_EQ(budget.committed().memory_bytes, 90 * kMiB);
  EXPECT_DOUBLE_EQ(budget.committed().cpu_cores, 0.5);
  // What exactly fits, fits.
  EXPECT_TRUE(budget.Reserve({10 * kMiB, 1.5}, "c").ok());
}

TEST(ResourceBudgetTest, UncheckedReservationsMayOvercommit) {
  ResourceBudget budget({10 * kMiB, 1.0});
  ResourceBudget::Reservation transport = budget.ReserveUnchecked({12 * kMiB, 0});
  EXPECT_EQ(budget.committed().memory_bytes, 12 * kMiB);
  EXPECT_THAT(budget.Reserve({1, 0}, "x"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("0 B")));
}

TEST(FormatBytesTest, BytesForPeople) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(768 * kMiB), "768 MiB");
  EXPECT_EQ(FormatBytes(int64_t{3} << 30), "3 GiB");
}

}  // namespace
}  // namespace audioproc
