// libFuzzer's start-up hook, linked into every target: protobuf logs each invalid UTF-8
// string it parses to stderr, which buries libFuzzer's output and slows it down.
#include <google/protobuf/stubs/logging.h>

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}
