// The budgets' defaults follow the container's cgroup limits, v1 or v2, read from a fake
// cgroup tree.
#include "service/cgroup_limits.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace audioproc {
namespace {

class CgroupLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/cgroup_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(root_ + "/" + path).parent_path());
    std::ofstream(root_ + "/" + path) << text;
  }
  std::string root_;
};

TEST_F(CgroupLimitsTest, V2LimitsAreRead) {
  Write("memory.max", "1073741824\n");
  Write("cpu.max", "250000 100000\n");
  const CgroupLimits limits = ReadCgroupLimits(root_);
  EXPECT_EQ(limits.memory_bytes, 1073741824);
  ASSERT_TRUE(limits.cpu_cores.has_value());
  EXPECT_DOUBLE_EQ(*limits.cpu_cores, 2.5);
}

TEST_F(CgroupLimitsTest, V2MaxMeansNoLimit) {
  Write("memory.max", "max\n");
  Write("cpu.max", "max 100000\n");
  const CgroupLimits limits = ReadCgroupLimits(root_);
  EXPECT_FALSE(limits.memory_bytes.has_value());
  EXPECT_FALSE(limits.cpu_cores.has_value());
}

TEST_F(CgroupLimitsTest, V1LimitsAreRead) {
  Write("memory/memory.limit_in_bytes", "536870912\n");
  Write("cpu/cpu.cfs_quota_us", "50000\n");
  Write("cpu/cpu.cfs_period_us", "100000\n");
  const CgroupLimits limits = ReadCgroupLimits(root_);
  EXPECT_EQ(limits.memory_bytes, 536870912);
  ASSERT_TRUE(limits.cpu_cores.has_value());
  EXPECT_DOUBLE_EQ(*limits.cpu_cores, 0.5);
}

TEST_F(CgroupLimitsTest, V1UnlimitedValuesMeanNoLimit) {
  // What cgroup v1 reports without a limit: the largest page-aligned int64, and quota -1.
  Write("memory/memory.limit_in_bytes", "9223372036854771712\n");
  Write("cpu/cpu.cfs_quota_us", "-1\n");
  Write("cpu/cpu.cfs_period_us", "100000\n");
  const CgroupLimits limits = ReadCgroupLimits(root_);
  EXPECT_FALSE(limits.memory_bytes.has_value());
  EXPECT_FALSE(limits.cpu_cores.has_value());
}

TEST_F(CgroupLimitsTest, MissingOrMalformedFilesMeanNoLimit) {
  EXPECT_FALSE(ReadCgroupLimits(root_ + "/absent").memory_bytes.has_value());
  Write("memory.max", "lots\n");
  Write("cpu.max", "100000\n");
  const CgroupLimits limits = ReadCgroupLimits(root_);
  EXPECT_FALSE(limits.memory_bytes.has_value());
  EXPECT_FALSE(limits.cpu_cores.has_value());
}

TEST(AvailableCpusTest, AtLeastOne) { EXPECT_GE(AvailableCpus(), 1); }

}  // namespace
}  // namespace audioproc
