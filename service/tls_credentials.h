// TlsCredentials: the gRPC port's TLS (mutual TLS with a client CA) from the TLS flags, with
// certificate rotation that never puts a broken pair in service.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<TlsCredentials> tls,
//                    TlsCredentials::Start(files, refresh_seconds, reload_errors));
//   builder.AddListeningPort(address, tls->server_credentials(), &port);
//
// gRPC's FileWatcherCertificateProvider serves whatever it finds in the files it watches: a
// key that does not match its certificate, or a file caught half-written, and every new
// handshake fails. So it never watches the operator's files. Those are checked with OpenSSL
// (ReadTlsMaterial) at start, where a failure is a startup error, and again every
// `refresh_seconds` when they have changed: material that passes is handed to the provider;
// material that does not is refused, the previous pair stays in service, a warning is logged
// and `reload_errors` (audioproc_tls_reload_errors_total) counts it.
//
// The provider watches a private directory (0700; under /dev/shm when it is writable, so the
// key's copy stays in memory, else under TMPDIR), removed on destruction. It holds
// identity.pem, the key followed by the chain, and client-ca.pem. The key and the chain share
// one file because the provider reads its key path and then its chain path: two files replaced
// one after the other could be read as a new key with an old chain. One file changes with one
// rename, and the provider reads again when a file's modification time changed while it read
// (each version gets a modification time of its own, in whole seconds as the provider compares
// them).
// Thread safety: ReloadIfChanged may be called from any thread (calls are serialized); the
// watcher thread calls it until destruction.
#ifndef AUDIOPROC_SERVICE_TLS_CREDENTIALS_H_
#define AUDIOPROC_SERVICE_TLS_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <prometheus/counter.h>
#include <sys/stat.h>

#include <array>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "service/tls_material.h"

namespace audioproc {

class TlsCredentials {
 public:
  // Checks `files` (enabled()) and serves them; errors as ReadTlsMaterial's (a startup error
  // naming the file and the reason), or INTERNAL when the private directory cannot be
  // written. The files are checked again every `refresh_seconds` (at least 1); refused
  // reloads increment `reload_errors`, which must outlive the returned object.
  static absl::StatusOr<std::unique_ptr<TlsCredentials>> Start(const TlsFiles& files,
                                                               unsigned int refresh_seconds,
                                                               prometheus::Counter& reload_errors);
  // Stops watching and removes the private directory. Destroy the gRPC server first.
  ~TlsCredentials();
  TlsCredentials(const TlsCredentials&) = delete;
  TlsCredentials& operator=(const TlsCredentials&) = delete;

  // For the gRPC port: TLS with the served pair; client certificates are required and
  // verified against the served client CA when --tls_client_ca is set.
  std::shared_ptr<grpc::ServerCredentials> server_credentials() const { return credentials_; }

  enum class Reload {
    kUnchanged,  // the files, or what they hold, are as last seen
    kServed,     // new material passed the checks; new handshakes get it within a second
    kRefused,    // the files changed into something that fails the checks; logged, counted
  };
  // Checks the files again if any of them changed (identity, size or modification time) since
  // last seen. A refused state is reported once, not at every call. Reads and writes files.
  Reload ReloadIfChanged();

 private:
  // What stat() said of one file; `error` is its errno (0: the file exists).
  struct FileStamp {
    int error = 0;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    timespec modified{};
    bool operator==(const FileStamp& other) const;
  };
  using Stamps = std::array<FileStamp, 3>;  // cert, key, client CA

  TlsCredentials(TlsFiles files, prometheus::Counter& reload_errors)
      : files_(std::move(files)), reload_errors_(reload_errors) {}
  Stamps StampFiles() const;
  // Writes `material` where the provider reads it, each file replaced whole by a rename.
  absl::Status Publish(const TlsMaterial& material) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string IdentityPath() const { return dir_ + "/identity.pem"; }
  std::string ClientCaPath() const { return dir_ + "/client-ca.pem"; }

  const TlsFiles files_;
  prometheus::Counter& reload_errors_;
  std::string dir_;  // the private directory; set once by Start

  absl::Mutex mu_;
  Stamps seen_ ABSL_GUARDED_BY(mu_);
  TlsMaterial served_ ABSL_GUARDED_BY(mu_);
  time_t published_mtime_ ABSL_GUARDED_BY(mu_) = 0;

  std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> provider_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  absl::Notification stop_;
  std::thread watcher_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_TLS_CREDENTIALS_H_
