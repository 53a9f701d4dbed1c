// AuthTokens: the bearer tokens a server accepts, from --auth_tokens_file (one token per line;
// blank lines and `#` comments ignored), reloaded when the file changes.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<AuthTokens> tokens, AuthTokens::Load(path));
//   if (!tokens->Accepts(authorization_header)) -> UNAUTHENTICATED
//
// Revocation: the file's tokens are the whole truth. A file with no token (empty, or only
// comments and blank lines) accepts nothing, so emptying it revokes every token from the next
// reload on. A file that cannot be read at a reload (deleted, or a volume briefly unmounted)
// revokes nothing: the last tokens stay in force, and a warning is logged once per
// disappearance.
// Accepts compares in constant time with respect to the tokens' contents: every known token
// is compared in full, with no early exit, so response timing does not reveal how much of a
// guess was right. Tokens are never logged.
// Thread safety: Accepts and Reload may run concurrently from any threads; the token set is
// swapped whole (a reader sees the old set or the new, never a mix).
#ifndef AUDIOPROC_SERVICE_AUTH_TOKENS_H_
#define AUDIOPROC_SERVICE_AUTH_TOKENS_H_

#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace audioproc {

class AuthTokens {
 public:
  // Reads `path`. NOT_FOUND if it cannot be read. A file with no token is valid and accepts
  // nothing (logged as a warning).
  static absl::StatusOr<std::unique_ptr<AuthTokens>> Load(const std::string& path);
  ~AuthTokens();

  // Whether `authorization` (the metadata value) is "Bearer <token>" for a known token. The
  // scheme is case-insensitive (RFC 7235); the token is not.
  bool Accepts(absl::string_view authorization) const;

  enum class Reload {
    kUnchanged,  // the file is as last read, or still unreadable
    kReloaded,   // the file changed and its tokens (possibly none) are now in force
    kKept,       // the file became unreadable; the last tokens stay in force (logged once)
  };
  // Re-reads the file if its identity, size or modification time changed, or if it was
  // unreadable at the last call. Reads the file; blocks briefly.
  Reload ReloadIfChanged();

  // Calls ReloadIfChanged every `interval` on a thread of its own until destruction.
  void WatchEvery(absl::Duration interval);

  size_t size() const;

 private:
  explicit AuthTokens(std::string path) : path_(std::move(path)) {}
  // Reads the file and puts its tokens in force; NOT_FOUND (with the reason) if it cannot.
  absl::Status Read();

  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<std::string>> tokens_ ABSL_GUARDED_BY(mu_);
  struct stat file_ ABSL_GUARDED_BY(mu_) {};
  // The file could not be read at the last reload (and that was logged).
  bool unreadable_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification stop_;
  std::thread watcher_;
};

// The tokens in a tokens file's text: one per line, surrounding whitespace trimmed, blank
// lines and lines starting with `#` skipped.
std::vector<std::string> ParseTokens(absl::string_view text);

// Constant-time equality of two strings' contents (time depends only on their lengths).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_AUTH_TOKENS_H_
