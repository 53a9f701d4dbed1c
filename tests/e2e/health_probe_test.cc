// `audioproc-client --health` against the real server binary: what a container HEALTHCHECK or
// an exec probe runs. Exit 0 and SERVING from a server that is up (on its gRPC port, over TLS,
// and on the plaintext --health_port); exit 1 when nothing listens or the service is unknown.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certificates.h"
#include "tests/testing/server_process.h"

namespace audioproc {
namespace {

using ::testing::HasSubstr;
using testing::ServerProcess;

struct ClientRun {
  int exit_code;
  std::string out;
  std::string err;
};

// Runs audioproc-client with `flags`; its exit code (-1 if it did not exit) and output.
ClientRun Client(const std::string& dir, const std::string& flags) {
  const std::string command =
      absl::StrCat(AUDIOPROC_CLIENT_PATH, " ", flags, " > ", dir, "/out.txt 2> ", dir, "/err.txt");
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::ReadFile(dir + "/out.txt"),
          testing::ReadFile(dir + "/err.txt")};
}

std::string TempDir(const std::string& name) {
  std::string dir = testing::ProcessTempDir(name);
  EXPECT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  return dir;
}

// A loopback port nothing listens on now: bound to port 0, read back, closed.
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

TEST(HealthProbeTest, ServingServerExitsZero) {
  absl::StatusOr<ServerProcess> server = ServerProcess::Start(testing::ServerBinaryPath());
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string dir = TempDir("audioproc-health-serving");
  const std::string addr = absl::StrCat("--addr=127.0.0.1:", server->grpc_port());
  ClientRun run = Client(dir, "--health --timeout_s=5 " + addr);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "SERVING\n");
  run = Client(dir, "--health --health_service=audioproc.v1.AudioProcessor " + addr);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "SERVING\n");
  run = Client(dir, "--health --health_service=no.such.Service " + addr);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("NOT_FOUND"));
}

TEST(HealthProbeTest, NothingListeningExitsNonZero) {
  const int port = UnusedPort();
  ASSERT_NE(port, 0);
  const std::string dir = TempDir("audioproc-health-nothing");
  const ClientRun run = Client(dir, absl::StrCat("--health --timeout_s=5 --addr=127.0.0.1:", port));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_THAT(run.err, HasSubstr("UNAVAILABLE"));
}

TEST(HealthProbeTest, PlaintextHealthPortOfATlsServer) {
  const std::string dir = TempDir("audioproc-health-port");
  absl::StatusOr<testing::Certificates> certs = testing::MakeCertificates(dir, "health");
  ASSERT_TRUE(certs.ok()) << certs.status();
  const int health_port = UnusedPort();
  ASSERT_NE(health_port, 0);
  absl::StatusOr<ServerProcess> server =
      ServerProcess::Start(testing::ServerBinaryPath(),
                           {"--tls_cert=" + certs->server_cert, "--tls_key=" + certs->server_key,
                            absl::StrCat("--health_port=", health_port)});
  ASSERT_TRUE(server.ok()) << server.status();
  // The gRPC port with TLS, as the client's other calls use it.
  ClientRun run =
      Client(dir, absl::StrCat("--health --timeout_s=5 --addr=localhost:", server->grpc_port(),
                               " --tls_ca=", certs->ca_cert));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "SERVING\n");
  // The plaintext health port, without TLS.
  run = Client(dir, absl::StrCat("--health --timeout_s=5 --addr=127.0.0.1:", health_port));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "SERVING\n");
  // Plaintext on the TLS port fails the call instead of passing the probe.
  run = Client(dir, absl::StrCat("--health --timeout_s=5 --addr=127.0.0.1:", server->grpc_port()));
  EXPECT_EQ(run.exit_code, 1);
}

}  // namespace
}  // namespace audioproc
