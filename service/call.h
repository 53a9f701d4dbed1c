// Call and CallTag: how completion-queue events reach call objects.
//
// Every RPC is a call object with a small state machine. A bidi stream may have a read and a
// write outstanding at once, so each kind of operation has its own tag (a CallTag member of
// the call naming the operation) rather than `this`; the polling loop is
//   while (cq->Next(&tag, &ok)) static_cast<CallTag*>(tag)->Complete(ok);
// Call objects delete themselves once no operation, task or event can still reach them.
#ifndef AUDIOPROC_SERVICE_CALL_H_
#define AUDIOPROC_SERVICE_CALL_H_

namespace audioproc {

class Call {
 public:
  virtual ~Call() = default;
  // Runs on a completion-queue thread when operation `op` completes; `ok` as gRPC reports it
  // (false on a pending request means the server is shutting down).
  virtual void OnCompletion(int op, bool ok) = 0;
};

struct CallTag {
  Call* call;
  int op;
  void Complete(bool ok) { call->OnCompletion(op, ok); }
};

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_CALL_H_
