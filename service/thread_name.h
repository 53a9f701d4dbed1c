// NameThread: names a thread as the kernel shows it (top -H, perf, /proc/<pid>/task/*/comm),
// so that a profile of the server says which of its pools spent the time.
#ifndef AUDIOPROC_SERVICE_THREAD_NAME_H_
#define AUDIOPROC_SERVICE_THREAD_NAME_H_

#include <pthread.h>

#include <string>
#include <string_view>
#include <thread>

namespace audioproc {

// Linux keeps 15 characters of a name; longer ones are cut there rather than refused.
inline void NameThread(std::thread& thread, std::string_view name) {
  const std::string cut(name.substr(0, 15));
  pthread_setname_np(thread.native_handle(), cut.c_str());
}

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_THREAD_NAME_H_
