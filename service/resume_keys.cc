#include "service/resume_keys.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "service/file_stamp.h"
#include "service/logging.h"

namespace audioproc {

absl::StatusOr<std::unique_ptr<ResumeKeys>> ResumeKeys::Load(const std::string& path) {
  std::unique_ptr<ResumeKeys> keys(new ResumeKeys(path));
  struct stat file;
  absl::StatusOr<std::string> key = keys->Read(&file);
  if (!key.ok()) return key.status();
  absl::MutexLock lock(&keys->mu_);
  keys->set_ = std::make_shared<const Set>(Set{{*std::move(key)}});
  keys->file_ = file;
  return keys;
}

std::unique_ptr<ResumeKeys> ResumeKeys::ForKey(std::string key) {
  std::unique_ptr<ResumeKeys> keys(new ResumeKeys(""));
  absl::MutexLock lock(&keys->mu_);
  keys->set_ = std::make_shared<const Set>(Set{{std::move(key)}});
  return keys;
}

ResumeKeys::~ResumeKeys() {
  stop_.Notify();
  if (watcher_.joinable()) watcher_.join();
}

std::shared_ptr<const ResumeKeys::Set> ResumeKeys::Current() const {
  absl::MutexLock lock(&mu_);
  return set_;
}

absl::StatusOr<std::string> ResumeKeys::Read(struct stat* file) const {
  const auto unreadable = [this](absl::string_view why) {
    return absl::NotFoundError(absl::StrCat("--resume_key_file=", path_, " cannot be read: ", why));
  };
  if (stat(path_.c_str(), file) != 0) return unreadable(std::strerror(errno));
  if (!S_ISREG(file->st_mode)) return unreadable("not a regular file");
  std::ifstream in(path_, std::ios::binary);
  if (!in) return unreadable(std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  std::string key(absl::StripAsciiWhitespace(text.str()));
  if (key.size() < kMinResumeKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--resume_key_file=", path_, " holds a key of ", key.size(), " bytes; at least ",
        kMinResumeKeyBytes, " are needed (e.g. openssl rand -hex 32)"));
  }
  return key;
}

ResumeKeys::Reload ResumeKeys::ReloadIfChanged() {
  struct stat file;
  {
    absl::MutexLock lock(&mu_);
    if (path_.empty()) return Reload::kUnchanged;
    if (stat(path_.c_str(), &file) == 0 && SameFile(file, file_)) return Reload::kUnchanged;
  }
  absl::StatusOr<std::string> key = Read(&file);
  absl::MutexLock lock(&mu_);
  if (!key.ok()) {
    if (unusable_) return Reload::kUnchanged;
    unusable_ = true;
    LogLine(LogLevel::kWarning, "resume_key_file_unusable")
        .Add("message", key.status().message())
        .Add("kept_keys", static_cast<uint64_t>(set_->keys.size()));
    return Reload::kKept;
  }
  unusable_ = false;
  file_ = file;
  if (*key == set_->keys.front()) return Reload::kUnchanged;  // touched, same key
  set_ = std::make_shared<const Set>(Set{{*std::move(key), set_->keys.front()}});
  LogLine(LogLevel::kInfo, "resume_key_rotated").Add("keys", uint64_t{2});
  return Reload::kRotated;
}

void ResumeKeys::WatchEvery(absl::Duration interval) {
  watcher_ = std::thread([this, interval] {
    while (!stop_.WaitForNotificationWithTimeout(interval)) ReloadIfChanged();
  });
}

}  // namespace audioproc
