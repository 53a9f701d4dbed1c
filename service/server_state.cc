#include "service/server_state.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace audioproc {

absl::Status ServerState::Authenticate(const grpc::ServerContext& context) {
  return AuthenticateWith(auth_tokens_, context);
}

absl::Status ServerState::AuthenticateAdmin(const grpc::ServerContext& context) {
  return AuthenticateWith(admin_tokens_ != nullptr ? admin_tokens_ : auth_tokens_, context);
}

absl::Status ServerState::AuthenticateWith(const AuthTokens* tokens,
                                           const grpc::ServerContext& context) {
  if (tokens == nullptr) return absl::OkStatus();
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find("authorization");
  if (header != metadata.end() &&
      tokens->Accepts(absl::string_view(header->second.data(), header->second.size()))) {
    return absl::OkStatus();
  }
  metrics_.Rejections("unauthenticated").Increment();
  return absl::UnauthenticatedError(
      "a valid bearer token is required: send metadata 'authorization: Bearer <token>'");
}

absl::Status ServerState::AcceptNewWork(const grpc::ServerContext& context) {
  if (absl::Status auth = Authenticate(context); !auth.ok()) return auth;
  if (draining()) {
    metrics_.Rejections("draining").Increment();
    return absl::UnavailableError("the server is draining; retry on another instance");
  }
  return absl::OkStatus();
}

bool ServerState::TryAdmit(StreamHandle* stream) {
  {
    absl::MutexLock lock(&mu_);
    if (static_cast<int>(streams_.size()) >= options_.max_streams) return false;
    streams_.insert(stream);
  }
  metrics_.streams_active().Increment();
  return true;
}

void ServerState::Release(StreamHandle* stream) {
  {
    absl::MutexLock lock(&mu_);
    streams_.erase(stream);
  }
  metrics_.streams_active().Decrement();
}

int ServerState::active_streams() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(streams_.size());
}

absl::Status ServerState::AddFile(StreamHandle* file) {
  absl::MutexLock lock(&mu_);
  if (file_cores_.size() < static_cast<size_t>(options_.file_workers) &&
      files_.size() >= file_cores_.size()) {
    std::string exhausted;
    absl::StatusOr<ResourceBudget::Reservation> core =
        budget_.Reserve({.memory_bytes = 0, .cpu_cores = 1.0},
                        "the file (it keeps a file worker busy)", &exhausted);
    if (!core.ok()) {
      metrics_.Rejections(exhausted).Increment();
      return core.status();
    }
    file_cores_.push_back(*std::move(core));
  }
  files_.insert(file);
  return absl::OkStatus();
}

void ServerState::RemoveFile(StreamHandle* file) {
  absl::MutexLock lock(&mu_);
  files_.erase(file);
  while (file_cores_.size() > files_.size()) file_cores_.pop_back();
}

int ServerState::active_files() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(files_.size());
}

void ServerState::CallStarted() {
  absl::MutexLock lock(&mu_);
  ++live_calls_;
}

void ServerState::CallEnded() {
  absl::MutexLock lock(&mu_);
  --live_calls_;
}

int ServerState::live_calls() const {
  absl::MutexLock lock(&mu_);
  return live_calls_;
}

bool ServerState::AwaitNoStreams(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(
      absl::Condition(
          +[](absl::flat_hash_set<StreamHandle*>* streams) { return streams->empty(); }, &streams_),
      deadline);
}

bool ServerState::AwaitNoWork(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(
                                   +[](ServerState* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
                                     return self->streams_.empty() && self->files_.empty();
                                   },
                                   this),
                               deadline);
}

bool ServerState::AwaitNoCalls(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(
                                   +[](int* calls) { return *calls == 0; }, &live_calls_),
                               deadline);
}

v1::ListStreamsResponse ServerState::ListStreams() const {
  v1::ListStreamsResponse response;
  // Under mu_, a handle cannot be released (see AbortAll); each locks only itself.
  absl::MutexLock lock(&mu_);
  response.mutable_streams()->Reserve(static_cast<int>(streams_.size()));
  for (const StreamHandle* stream : streams_) stream->Describe(response.add_streams());
  response.set_files_in_flight(static_cast<uint32_t>(files_.size()));
  return response;
}

void ServerState::AbortAll(const absl::Status& status) {
  // Abort only queues work and never ends a stream synchronously, so calling it under mu_
  // cannot re-enter Release; and a handle stays valid while mu_ is held, because a stream
  // leaves streams_ only through Release, which needs mu_ (files likewise: RemoveFile).
  absl::MutexLock lock(&mu_);
  for (StreamHandle* stream : streams_) stream->Abort(status);
  for (StreamHandle* file : files_) file->Abort(status);
}

void ServerState::CheckpointAll() {
  // Like AbortAll: each only queues work on its stream.
  absl::MutexLock lock(&mu_);
  for (StreamHandle* stream : streams_) stream->CheckpointAndLeave();
}

std::string ServerState::Principal(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  if (const auto header = metadata.find("authorization"); header != metadata.end()) {
    return absl::StrCat("bearer:", absl::string_view(header->second.data(), header->second.size()));
  }
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::string identity = "x509:";
    for (const grpc::string_ref& part : auth->GetPeerIdentity()) {
      absl::StrAppend(&identity, absl::string_view(part.data(), part.size()), "\n");
    }
    return identity;
  }
  return "";
}

StreamSession::Deps ServerState::session_deps() {
  return {.registry = registry_,
          .limits = session_limits_,
          .metrics = session_metrics_,
          .admission = admission_,
          .new_stream_id = [this] { return NewStreamId(); },
          .now = [] { return StreamSession::Clock::now(); },
          .resume_keys = resume_keys_};
}

std::string ServerState::NewStreamId() {
  return absl::StrFormat("s-%x-%d", id_prefix_, next_stream_.fetch_add(1));
}

}  // namespace audioproc
