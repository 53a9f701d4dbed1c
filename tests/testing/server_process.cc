#include "tests/testing/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace audioproc::testing {
namespace {

// The value of "key": N in a one-line JSON object such as {"grpc":1,"metrics":2}.
std::optional<int> JsonInt(const std::string& json, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\":");
  const size_t at = json.find(needle);
  if (at == std::string::npos) return std::nullopt;
  size_t end = at + needle.size();
  while (end < json.size() && (isdigit(json[end]) || json[end] == '-')) ++end;
  int value;
  if (!absl::SimpleAtoi(json.substr(at + needle.size(), end - at - needle.size()), &value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::string ServerBinaryPath() { return AUDIOPROC_SERVER_PATH; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::StatusOr<ServerProcess> ServerProcess::Spawn(const std::string& binary,
                                                   const std::vector<std::string>& extra_flags) {
  ServerProcess server;
  char dir_template[] = "/tmp/audioproc-test-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return absl::InternalError("mkdtemp failed");
  server.dir_ = dir_template;
  server.log_path_ = server.dir_ + "/server.log";

  std::vector<std::string> args = {binary, "--host=127.0.0.1", "--port=0", "--metrics_port=0",
                                   "--port_file=" + server.port_file()};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    const int log = open(server.log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) dup2(log, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  server.pid_ = pid;
  return server;
}

absl::StatusOr<ServerProcess> ServerProcess::Start(const std::string& binary,
                                                   const std::vector<std::string>& extra_flags,
                                                   absl::Duration timeout) {
  absl::StatusOr<ServerProcess> server = Spawn(binary, extra_flags);
  if (!server.ok()) return server.status();
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    const std::string ports = ReadFile(server->port_file());
    std::optional<int> grpc = JsonInt(ports, "grpc");
    std::optional<int> metrics = JsonInt(ports, "metrics");
    if (grpc && metrics) {
      server->grpc_port_ = *grpc;
      server->metrics_port_ = *metrics;
      return server;
    }
    int status;
    if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      server->exited_ = true;
      return absl::InternalError(
          absl::StrCat("the server exited before binding: ", ReadFile(server->log_path_)));
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling a file another process writes
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "no port file after ", absl::FormatDuration(timeout), ": ", ReadFile(server->log_path_)));
}

absl::StatusOr<ServerProcess::Exit> ServerProcess::ExpectStartupFailure(
    const std::string& binary, const std::vector<std::string>& extra_flags,
    absl::Duration timeout) {
  absl::StatusOr<ServerProcess> server = Spawn(binary, extra_flags);
  if (!server.ok()) return server.status();
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status;
    if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      server->exited_ = true;
      if (!WIFEXITED(status)) {
        return absl::InternalError(absl::StrCat("the server died of signal ", WTERMSIG(status),
                                                ": ", ReadFile(server->log_path_)));
      }
      return Exit{WEXITSTATUS(status), ReadFile(server->log_path_)};
    }
    if (!ReadFile(server->port_file()).empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the server started: ", ReadFile(server->log_path_)));
    }
    absl::SleepFor(absl::Milliseconds(10));  // waitpid has no timeout
  }
  return absl::DeadlineExceededError(absl::StrCat("the server neither exited nor bound in ",
                                                  absl::FormatDuration(timeout), ": ",
                                                  ReadFile(server->log_path_)));
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept
    : pid_(other.pid_),
      grpc_port_(other.grpc_port_),
      metrics_port_(other.metrics_port_),
      dir_(std::move(other.dir_)),
      log_path_(std::move(other.log_path_)),
      exited_(other.exited_) {
  other.pid_ = -1;
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  if (!exited_) {
    Signal(SIGTERM);
    Signal(SIGTERM);  // the second signal skips the drain
    if (!Wait(absl::Seconds(10))) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (!dir_.empty()) {
    unlink((dir_ + "/ports.json").c_str());
    unlink(log_path_.c_str());
    rmdir(dir_.c_str());
  }
}

void ServerProcess::Signal(int signal) const {
  if (pid_ > 0 && !exited_) kill(pid_, signal);
}

std::optional<int> ServerProcess::Wait(absl::Duration timeout) {
  if (exited_) return std::nullopt;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return std::nullopt;
    }
    absl::SleepFor(absl::Milliseconds(10));  // waitpid has no timeout
  }
  return std::nullopt;
}

}  // namespace audioproc::testing
