#include "service/auth_tokens.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "service/file_stamp.h"
#include "service/logging.h"

namespace audioproc {

std::vector<std::string> ParseTokens(absl::string_view text) {
  std::vector<std::string> tokens;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    tokens.emplace_back(line);
  }
  return tokens;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Every byte of the longer string is visited; the length difference joins the result
  // instead of returning early.
  const size_t n = std::max(a.size(), b.size());
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference |= x ^ y;
  }
  return difference == 0;
}

absl::StatusOr<std::unique_ptr<AuthTokens>> AuthTokens::Load(const std::string& path) {
  std::unique_ptr<AuthTokens> tokens(new AuthTokens(path));
  if (absl::Status status = tokens->Read(); !status.ok()) return status;
  if (tokens->size() == 0) {
    LogLine(LogLevel::kWarning, "auth_tokens_none")
        .Add("file", path)
        .Add("message", "the tokens file holds no token: every call but health is refused");
  }
  return tokens;
}

AuthTokens::~AuthTokens() {
  stop_.Notify();
  if (watcher_.joinable()) watcher_.join();
}

absl::Status AuthTokens::Read() {
  const auto unreadable = [this] {
    return absl::NotFoundError(
        absl::StrCat("--auth_tokens_file=", path_, " cannot be read: ", std::strerror(errno)));
  };
  struct stat file;
  if (stat(path_.c_str(), &file) != 0) return unreadable();
  if (!S_ISREG(file.st_mode)) {
    // A directory reads as empty, which would revoke every token.
    return absl::NotFoundError(
        absl::StrCat("--auth_tokens_file=", path_, " cannot be read: not a regular file"));
  }
  std::ifstream in(path_);
  if (!in) return unreadable();
  std::stringstream text;
  text << in.rdbuf();
  auto tokens = std::make_shared<const std::vector<std::string>>(ParseTokens(text.str()));
  absl::MutexLock lock(&mu_);
  tokens_ = std::move(tokens);
  file_ = file;
  unreadable_ = false;
  return absl::OkStatus();
}

AuthTokens::Reload AuthTokens::ReloadIfChanged() {
  struct stat file;
  const bool present = stat(path_.c_str(), &file) == 0;
  {
    absl::MutexLock lock(&mu_);
    if (present && !unreadable_ && SameFile(file, file_)) return Reload::kUnchanged;
  }
  if (absl::Status status = Read(); !status.ok()) {
    bool went_now;
    {
      absl::MutexLock lock(&mu_);
      went_now = !unreadable_;
      unreadable_ = true;
    }
    if (!went_now) return Reload::kUnchanged;  // logged when it went
    LogLine(LogLevel::kWarning, "auth_tokens_file_unreadable")
        .Add("message", status.message())
        .Add("kept_tokens", static_cast<uint64_t>(size()));
    return Reload::kKept;
  }
  const size_t count = size();
  if (count == 0) {
    LogLine(LogLevel::kWarning, "auth_tokens_reloaded")
        .Add("tokens", uint64_t{0})
        .Add("message", "the tokens file holds no token: every call but health is refused");
  } else {
    LogLine(LogLevel::kInfo, "auth_tokens_reloaded").Add("tokens", static_cast<uint64_t>(count));
  }
  return Reload::kReloaded;
}

void AuthTokens::WatchEvery(absl::Duration interval) {
  watcher_ = std::thread([this, interval] {
    while (!stop_.WaitForNotificationWithTimeout(interval)) ReloadIfChanged();
  });
}

bool AuthTokens::Accepts(absl::string_view authorization) const {
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  const absl::string_view candidate =
      absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  std::shared_ptr<const std::vector<std::string>> tokens;
  {
    absl::MutexLock lock(&mu_);
    tokens = tokens_;
  }
  bool accepted = false;
  for (const std::string& token : *tokens) accepted |= ConstantTimeEquals(candidate, token);
  return accepted;
}

size_t AuthTokens::size() const {
  absl::MutexLock lock(&mu_);
  return tokens_->size();
}

}  // namespace audioproc
