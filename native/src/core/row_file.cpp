#include "ragwire/row_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ragwire/snapshot.hpp"

namespace ragwire {

namespace {
constexpr size_t kMinReserve = size_t(4) << 20;  // the file grows by at least this many bytes
size_t page_size() {
  static const size_t p = (size_t)sysconf(_SC_PAGESIZE);
  return p;
}
}  // namespace

RowFile::~RowFile() {
  if (base_) munmap(base_, mapped_);
  if (fd_ < 0) return;
  // A file this index wrote keeps exactly its rows: a reserve past them is not data. One it only
  // read (or failed to open) is left as it was found.
  if (ready_ && wrote_ && ftruncate(fd_, (off_t)bytes()) != 0) {
  }
  close(fd_);
  if (pidfd_ >= 0) close(pidfd_);
}

Status RowFile::io_error(const char* what) const {
  return Status(Code::kIo, std::string(what) + " '" + path_ + "': " + std::strerror(errno));
}

Status RowFile::open_locked(const std::string& path, int flags) {
  path_ = path;
#if defined(SYS_pidfd_open) && defined(SYS_process_madvise)
  pidfd_ = (int)syscall(SYS_pidfd_open, getpid(), 0);
#endif
  fd_ = ::open(path.c_str(), flags | O_RDWR | O_CLOEXEC, 0644);
  if (fd_ < 0) return io_error("cannot open the vector file");
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return Status(Code::kIo, "the vector file '" + path + "' is in use by another open index");
    return io_error("cannot lock the vector file");
  }
  return Status::ok();
}

Status RowFile::create(const std::string& path, size_t row_bytes) {
  row_bytes_ = row_bytes;
  RAGWIRE_RETURN_IF_ERROR(open_locked(path, O_CREAT));
  // Truncated only once locked: a file another index holds is left alone.
  if (ftruncate(fd_, 0) != 0) return io_error("cannot truncate the vector file");
  ready_ = wrote_ = true;
  return Status::ok();
}

Status RowFile::open(const std::string& path, size_t row_bytes, size_t rows, uint32_t crc) {
  row_bytes_ = row_bytes;
  RAGWIRE_RETURN_IF_ERROR(open_locked(path, 0));
  struct stat st;
  if (fstat(fd_, &st) != 0) return io_error("cannot stat the vector file");
  if ((uint64_t)st.st_size / row_bytes < rows)
    return Status(Code::kCorruptSnapshot, "the vector file '" + path + "' holds " +
                                              std::to_string((uint64_t)st.st_size / row_bytes) +
                                              " rows, the snapshot names " + std::to_string(rows));
  // Rows past `rows` stay as the reserve the next appends overwrite: nothing is cut before the
  // checksum shows this is the file the snapshot names.
  if (st.st_size > 0) {
    void* p = mmap(nullptr, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return io_error("cannot map the vector file");
    base_ = p;
    mapped_ = (size_t)st.st_size;
  }
  rows_ = rows;
  RAGWIRE_RETURN_IF_ERROR(checksum_by_reading());
  if (crc_ != crc)
    return Status(Code::kCorruptSnapshot,
                  "the vector file '" + path + "' does not hold the rows the snapshot was taken with (checksum)");
  ready_ = true;
  return Status::ok();
}

// Grows the file (sparse) and its mapping to hold `rows` rows.
Status RowFile::reserve(size_t rows) {
  size_t need = rows * row_bytes_;
  if (need <= mapped_ && base_) return Status::ok();
  size_t want = mapped_ + mapped_ / 2;
  if (want < need) want = need;
  if (want < kMinReserve) want = kMinReserve;
  want = (want + page_size() - 1) / page_size() * page_size();
  if (ftruncate(fd_, (off_t)want) != 0) return io_error("cannot grow the vector file");
  void* p = base_ ? mremap(base_, mapped_, want, MREMAP_MAYMOVE)
                  : mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) return io_error("cannot map the vector file");
  base_ = p;
  mapped_ = want;
  return Status::ok();
}

Status RowFile::append(const void* rows, size_t n) {
  if (n == 0) return Status::ok();
  RAGWIRE_RETURN_IF_ERROR(reserve(rows_ + n));
  // pwrite, not a copy into the mapping: the rows go to the page cache without
  // becoming part of this process's resident set.
  const uint8_t* p = static_cast<const uint8_t*>(rows);
  size_t left = n * row_bytes_;
  off_t at = (off_t)bytes();
  while (left > 0) {
    ssize_t w = pwrite(fd_, p, left, at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return io_error("cannot write the vector file");
    p += w;
    at += w;
    left -= (size_t)w;
  }
  crc_ = crc32c(crc_, rows, n * row_bytes_);
  rows_ += n;
  wrote_ = true;
  return Status::ok();
}

Status RowFile::truncate(size_t n) {
  rows_ = n;
  wrote_ = true;
  return checksum_by_reading();
}

// The rows' crc32c, read with pread rather than through the mapping: checking a file does not make
// all of it part of this process's resident set.
Status RowFile::checksum_by_reading() {
  constexpr size_t kChunk = size_t(8) << 20;
  std::vector<uint8_t> buf(bytes() < kChunk ? bytes() : kChunk);
  uint32_t crc = 0;
  for (size_t at = 0; at < bytes();) {
    ssize_t r = pread(fd_, buf.data(), std::min(buf.size(), bytes() - at), (off_t)at);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return io_error("cannot read the vector file");
    crc = crc32c(crc, buf.data(), (size_t)r);
    at += (size_t)r;
  }
  crc_ = crc;
  return Status::ok();
}

Status RowFile::sync() const {
  if (fdatasync(fd_) != 0) return io_error("cannot sync the vector file");
  return Status::ok();
}

void RowFile::will_need(const uint32_t* rows, size_t n) const {
  constexpr size_t kBatch = 256;  // below IOV_MAX (1024)
  const uintptr_t mask = ~(uintptr_t)(page_size() - 1);
  iovec iov[kBatch];
  for (size_t done = 0; done < n; done += kBatch) {
    size_t m = n - done < kBatch ? n - done : kBatch;
    for (size_t i = 0; i < m; i++) {
      uintptr_t b = (uintptr_t)base_ + (size_t)rows[done + i] * row_bytes_;
      uintptr_t e = b + row_bytes_;
      iov[i].iov_base = (void*)(b & mask);
      iov[i].iov_len = e - (b & mask);
    }
#if defined(SYS_process_madvise)
    if (pidfd_ >= 0 && syscall(SYS_process_madvise, pidfd_, iov, m, MADV_WILLNEED, 0) >= 0) continue;
#endif
    for (size_t i = 0; i < m; i++) madvise(iov[i].iov_base, iov[i].iov_len, MADV_WILLNEED);
  }
}

}  // namespace ragwire
