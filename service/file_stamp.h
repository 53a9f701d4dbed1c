// FileStamp: whether a watched file changed since it was last read (its identity, size or
// modification time), for the files the server re-reads while it runs (tokens, resume keys).
//
//   struct stat now;
//   if (stat(path, &now) == 0 && SameFile(now, last_read)) return;  // unchanged
//
// Thread safety: a pure function.
#ifndef AUDIOPROC_SERVICE_FILE_STAMP_H_
#define AUDIOPROC_SERVICE_FILE_STAMP_H_

#include <sys/stat.h>

namespace audioproc {

inline bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace audioproc

#endif  // AUDIOPROC_SERVICE_FILE_STAMP_H_
