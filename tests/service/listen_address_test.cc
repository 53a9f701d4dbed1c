// Listen addresses from --host: IPv6 literals bracketed for gRPC, wildcards dual-stack for
// gRPC and IPv4 for civetweb (built without IPv6), an IPv6 metrics address refused.
#include "service/listen_address.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace audioproc {
namespace {

TEST(ListenAddressTest, GrpcAddresses) {
  EXPECT_EQ(GrpcListenAddress("[::]", 50051), "[::]:50051");
  EXPECT_EQ(GrpcListenAddress("::", 50051), "[::]:50051");
  EXPECT_EQ(GrpcListenAddress("", 50051), "[::]:50051");
  EXPECT_EQ(GrpcListenAddress("::1", 0), "[::1]:0");
  EXPECT_EQ(GrpcListenAddress("[::1]", 0), "[::1]:0");
  EXPECT_EQ(GrpcListenAddress("fd00::7", 1), "[fd00::7]:1");
  EXPECT_EQ(GrpcListenAddress("0.0.0.0", 50051), "0.0.0.0:50051");
  EXPECT_EQ(GrpcListenAddress("10.0.0.7", 50051), "10.0.0.7:50051");
  EXPECT_EQ(GrpcListenAddress("localhost", 50051), "localhost:50051");
}

TEST(ListenAddressTest, MetricsAddresses) {
  for (const char* wildcard : {"[::]", "::", "", "0.0.0.0"}) {
    EXPECT_EQ(*MetricsListenAddress(wildcard, 9090), "0.0.0.0:9090") << wildcard;
  }
  EXPECT_EQ(*MetricsListenAddress("127.0.0.1", 0), "127.0.0.1:0");
  absl::StatusOr<std::string> v6 = MetricsListenAddress("::1", 9090);
  ASSERT_FALSE(v6.ok());
  EXPECT_EQ(v6.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v6.status().message(), ::testing::HasSubstr("--metrics_port=-1"));
  EXPECT_FALSE(MetricsListenAddress("[fd00::7]", 9090).ok());
}

}  // namespace
}  // namespace audioproc
