// ResumeKeys: the HMAC-SHA256 keys that sign and check resume tokens (issue 14), from
// --resume_key_file, which every replica of a deployment shares (a Kubernetes Secret).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ResumeKeys> keys, ResumeKeys::Load(path));
//   keys->WatchEvery(absl::Seconds(1));
//   std::shared_ptr<const ResumeKeys::Set> set = keys->Current();  // sign with set->keys[0]
//
// The file holds one key: its text with surrounding whitespace trimmed, at least 32 bytes
// (`openssl rand -hex 32 > resume.key`). Rotation: when the file changes to another valid
// key, the new one signs from then on and the one before it still verifies, so tokens issued
// just before the change stay good on every replica while the Secret propagates; the key
// before that is forgotten. A file that becomes unreadable or too short keeps the keys in
// force (logged once). Keys are never logged.
// Thread safety: Current and ReloadIfChanged may run concurrently from any threads; the set is
// swapped whole.
#ifndef AUDIOPROC_SERVICE_RESUME_KEYS_H_
#define AUDIOPROC_SERVICE_RESUME_KEYS_H_

#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace audioproc {

// The shortest key accepted, in bytes.
inline constexpr size_t kMinResumeKeyBytes = 32;

class ResumeKeys {
 public:
  // The keys in force: keys[0] signs; every one verifies (at most two).
  struct Set {
    std::vector<std::string> keys;
  };

  // Reads `path`: NOT_FOUND if it cannot be read, INVALID_ARGUMENT if its key is too short.
  static absl::StatusOr<std::unique_ptr<ResumeKeys>> Load(const std::string& path);
  // A fixed key (tests, tools).
  static std::unique_ptr<ResumeKeys> ForKey(std::string key);
  ~ResumeKeys();

  std::shared_ptr<const Set> Current() const;

  enum class Reload {
    kUnchanged,  // the file is as last read (or still unusable)
    kRotated,    // a new key signs; the one before it still verifies
    kKept,       // the file became unreadable or its key too short; the keys stay in force
  };
  // Re-reads the file if its identity, size or modification time changed.
  Reload ReloadIfChanged();
  // Calls ReloadIfChanged every `interval` on a thread of its own until destruction.
  void WatchEvery(absl::Duration interval);

 private:
  explicit ResumeKeys(std::string path) : path_(std::move(path)) {}
  // The key in the file now, and the file's stamp.
  absl::StatusOr<std::string> Read(struct stat* file) const;

  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Set> set_ ABSL_GUARDED_BY(mu_);
  struct stat file_ ABSL_GUARDED_BY(mu_) {};
  bool unusable_ ABSL_GUARDED_BY(mu_) = false;  // logged when it became so
  absl::Notification stop_;
  std::thread watcher_;
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_RESUME_KEYS_H_
