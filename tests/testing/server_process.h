// ServerProcess: the real audioproc-server binary, started for a test on free loopback ports
// (--port=0 --metrics_port=0 --port_file=...), and stopped (SIGTERM, then SIGKILL after a
// deadline) when the object goes away.
#ifndef AUDIOPROC_TESTS_TESTING_SERVER_PROCESS_H_
#define AUDIOPROC_TESTS_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace audioproc::testing {

class ServerProcess {
 public:
  // Starts `binary` with `extra_flags` and waits (up to `timeout`) for its port file.
  static absl::StatusOr<ServerProcess> Start(const std::string& binary,
                                             const std::vector<std::string>& extra_flags = {},
                                             absl::Duration timeout = absl::Seconds(20));
  // How a server that was expected not to start ended: its exit code and its log.
  struct Exit {
    int code;
    std::string log;
  };
  // Starts `binary` as Start does and waits (up to `timeout`) for it to exit before binding,
  // as a startup error makes it. FAILED_PRECONDITION if it bound its ports instead (it is then
  // stopped); DEADLINE_EXCEEDED if it did neither in time.
  static absl::StatusOr<Exit> ExpectStartupFailure(const std::string& binary,
                                                   const std::vector<std::string>& extra_flags,
                                                   absl::Duration timeout = absl::Seconds(20));

  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&&) = delete;
  ~ServerProcess();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  pid_t pid() const { return pid_; }
  // Where the server's stderr (its log) goes.
  const std::string& log_path() const { return log_path_; }

  // Sends `signal` to the server.
  void Signal(int signal) const;
  // Waits up to `timeout` for the server to exit; its exit code, or nullopt on timeout or if
  // it died of a signal.
  std::optional<int> Wait(absl::Duration timeout);

 private:
  ServerProcess() = default;
  // Forks and execs `binary` on free ports, its stderr to a log in a directory of its own.
  static absl::StatusOr<ServerProcess> Spawn(const std::string& binary,
                                             const std::vector<std::string>& extra_flags);
  std::string port_file() const { return dir_ + "/ports.json"; }

  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::string dir_;
  std::string log_path_;
  bool exited_ = false;
};

// The path of the audioproc-server binary this test build made (from the build system).
std::string ServerBinaryPath();

// Reads a whole file; empty when it does not exist.
std::string ReadFile(const std::string& path);

}  // namespace audioproc::testing

#endif  // AUDIOPROC_TESTS_TESTING_SERVER_PROCESS_H_
