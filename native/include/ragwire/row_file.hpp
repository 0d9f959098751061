// The f32 rows of a disk-resident index: a file of fixed-size rows, appended
// with pwrite (the writer's memory does not grow with it) and read through a
// shared mapping, so the kernel pages rows in on demand and may drop them
// under memory pressure. A running crc32c over the rows lets a snapshot name
// the exact prefix it was taken at, and refuse a file that changed since.
//
// One index owns a file at a time: it is held with an exclusive flock.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ragwire/status.hpp"

namespace ragwire {

class RowFile {
 public:
  RowFile() = default;
  ~RowFile();
  RowFile(const RowFile&) = delete;
  RowFile& operator=(const RowFile&) = delete;

  // A new, empty file at path (an existing one is replaced).
  Status create(const std::string& path, size_t row_bytes);
  // An existing file holding at least `rows` rows whose crc32c is `crc`; rows past them (a batch
  // written after the snapshot, or by a build that died) are dropped.
  Status open(const std::string& path, size_t row_bytes, size_t rows, uint32_t crc);

  Status append(const void* rows, size_t n);
  // Keeps the first n rows (after compaction moved the kept ones forward) and recomputes the crc.
  Status truncate(size_t n);
  // The rows on stable storage (a snapshot naming them is written after this).
  Status sync() const;

  const uint8_t* data() const { return static_cast<const uint8_t*>(base_); }
  uint8_t* mutable_data() { return static_cast<uint8_t*>(base_); }
  size_t rows() const { return rows_; }
  size_t bytes() const { return rows_ * row_bytes_; }
  uint32_t crc() const { return crc_; }
  const std::string& path() const { return path_; }
  // Asks the kernel to read the pages of the rows ahead (MADV_WILLNEED), in one process_madvise
  // call where the kernel has it (Linux 5.10+), else one madvise per row: the reads of scattered
  // rows are then in flight together instead of faulting in one after another.
  void will_need(const uint32_t* rows, size_t n) const;

 private:
  Status open_locked(const std::string& path, int flags);
  Status reserve(size_t rows);
  Status io_error(const char* what) const;
  Status checksum_by_reading();

  std::string path_;
  int fd_ = -1;
  void* base_ = nullptr;
  size_t mapped_ = 0;  // bytes mapped (the file's length: rows_ rounded up to the reserve)
  size_t row_bytes_ = 0;
  size_t rows_ = 0;
  uint32_t crc_ = 0;
  bool ready_ = false;  // created or opened whole
  bool wrote_ = false;  // this index wrote the file (create, append, truncate): closing trims it to its rows
  int pidfd_ = -1;      // this process, for process_madvise (-1: unavailable)
};

}  // namespace ragwire
