#include "service/tls_credentials.h"

#include <fcntl.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "service/logging.h"

namespace audioproc {
namespace {

// How often the provider reads the private copies. They change only when a checked version
// is published, so reading them often costs two small reads and makes a reload take effect
// about a second after it was checked.
constexpr unsigned int kProviderRefreshSeconds = 1;

absl::StatusOr<std::string> MakePrivateDirectory() {
  std::vector<std::string> bases;
  // A tmpfs: the copy of the private key never reaches a disk.
  if (access("/dev/shm", W_OK | X_OK) == 0) bases.emplace_back("/dev/shm");
  std::error_code error;
  const std::filesystem::path temp = std::filesystem::temp_directory_path(error);
  bases.push_back(error ? "/tmp" : temp.string());
  std::string reasons;
  for (const std::string& base : bases) {
    std::string path = base + "/audioproc-tls-XXXXXX";
    if (mkdtemp(path.data()) != nullptr) return path;  // mode 0700
    absl::StrAppend(&reasons, reasons.empty() ? "" : "; ", base, ": ", std::strerror(errno));
  }
  return absl::InternalError(
      absl::StrCat("cannot create a private directory for the served TLS files (", reasons, ")"));
}

// Writes `text` to `path` through a temporary file and a rename, so a reader sees the old
// file or the new one, never a part; the new file's modification time is `mtime`.
absl::Status ReplaceFile(const std::string& path, const std::string& text, time_t mtime) {
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot write ", temporary, ": ", std::strerror(errno)));
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const timespec times[2] = {{mtime, 0}, {mtime, 0}};
  const bool ok = written == text.size() && futimens(fd, times) == 0;
  const int saved_errno = errno;
  close(fd);
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = ok ? errno : saved_errno;
    unlink(temporary.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace

bool TlsCredentials::FileStamp::operator==(const FileStamp& other) const {
  return error == other.error && device == other.device && inode == other.inode &&
         size == other.size && modified.tv_sec == other.modified.tv_sec &&
         modified.tv_nsec == other.modified.tv_nsec;
}

absl::StatusOr<std::unique_ptr<TlsCredentials>> TlsCredentials::Start(
    const TlsFiles& files, unsigned int refresh_seconds, prometheus::Counter& reload_errors) {
  std::unique_ptr<TlsCredentials> tls(new TlsCredentials(files, reload_errors));
  // Stamped before reading: a change made while the files are read is seen at the next check.
  const Stamps stamps = tls->StampFiles();
  ASSIGN_OR_RETURN(TlsMaterial material, ReadTlsMaterial(files));
  ASSIGN_OR_RETURN(tls->dir_, MakePrivateDirectory());
  {
    absl::MutexLock lock(&tls->mu_);
    tls->seen_ = stamps;
    RETURN_IF_ERROR(tls->Publish(material));
    tls->served_ = material;
  }
  // The provider reads its files once here, so it starts with the checked pair.
  tls->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls->IdentityPath(), tls->IdentityPath(), files.client_ca.empty() ? "" : tls->ClientCaPath(),
      kProviderRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(tls->provider_);
  options.watch_identity_key_cert_pairs();
  if (files.client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  tls->credentials_ = grpc::experimental::TlsServerCredentials(options);
  LogLine(LogLevel::kInfo, "tls_loaded")
      .Add("subject", material.subject)
      .Add("not_after", material.not_after)
      .Add("sha256", material.sha256)
      .Add("mutual", !files.client_ca.empty());
  const absl::Duration interval = absl::Seconds(std::max(1u, refresh_seconds));
  TlsCredentials* self = tls.get();
  tls->watcher_ = std::thread([self, interval] {
    while (!self->stop_.WaitForNotificationWithTimeout(interval)) self->ReloadIfChanged();
  });
  return tls;
}

TlsCredentials::~TlsCredentials() {
  stop_.Notify();
  if (watcher_.joinable()) watcher_.join();
  credentials_.reset();
  provider_.reset();
  if (dir_.empty()) return;
  for (const std::string& path : {IdentityPath(), ClientCaPath()}) {
    unlink(path.c_str());
    unlink((path + ".tmp").c_str());
  }
  rmdir(dir_.c_str());
}

TlsCredentials::Stamps TlsCredentials::StampFiles() const {
  Stamps stamps;
  const std::string* paths[] = {&files_.cert, &files_.key, &files_.client_ca};
  for (size_t i = 0; i < stamps.size(); ++i) {
    if (paths[i]->empty()) continue;
    struct stat file;
    if (stat(paths[i]->c_str(), &file) != 0) {
      stamps[i].error = errno;
      continue;
    }
    stamps[i] = {0, file.st_dev, file.st_ino, file.st_size, file.st_mtim};
  }
  return stamps;
}

absl::Status TlsCredentials::Publish(const TlsMaterial& material) {
  // Never the modification time of the version before: the provider compares whole seconds.
  const time_t mtime = std::max(time(nullptr), published_mtime_ + 1);
  if (!files_.client_ca.empty()) {
    RETURN_IF_ERROR(ReplaceFile(ClientCaPath(), material.client_ca_pem, mtime));
  }
  RETURN_IF_ERROR(ReplaceFile(IdentityPath(),
                              material.private_key_pem + material.certificate_chain_pem, mtime));
  published_mtime_ = mtime;
  return absl::OkStatus();
}

TlsCredentials::Reload TlsCredentials::ReloadIfChanged() {
  absl::MutexLock lock(&mu_);
  const Stamps stamps = StampFiles();
  if (stamps == seen_) return Reload::kUnchanged;
  seen_ = stamps;
  absl::StatusOr<TlsMaterial> material = ReadTlsMaterial(files_);
  if (material.ok() && *material == served_) return Reload::kUnchanged;  // rewritten the same
  absl::Status status = material.status();
  if (status.ok()) status = Publish(*material);
  if (!status.ok()) {
    reload_errors_.Increment();
    LogLine(LogLevel::kWarning, "tls_reload_refused")
        .Add("message", status.message())
        .Add("serving_subject", served_.subject)
        .Add("serving_sha256", served_.sha256);
    return Reload::kRefused;
  }
  served_ = *std::move(material);
  LogLine(LogLevel::kInfo, "tls_reloaded")
      .Add("subject", served_.subject)
      .Add("not_after", served_.not_after)
      .Add("sha256", served_.sha256);
  return Reload::kServed;
}

}  // namespace audioproc
