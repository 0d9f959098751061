// A published collection's column of label -> document id and encoded payload (docs/protocol.md §7),
// kept in a memory-mapped file beside the collection's index rather than on the heap: the kernel
// may page out what queries do not touch. The file is unnamed (O_TMPFILE in the collection's
// directory, or created and unlinked at once), so nothing is left behind by a crash: the column is
// derived data, rebuilt from LMDB whenever the store publishes the collection. Rows are appended; a
// replaced or removed row's bytes are garbage until a compaction rewrites the live rows. Plain C++.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ragwire/status.hpp"

namespace ragwire::dataplane {

struct RowView {
  std::string_view id;
  std::string_view payload;  // encoded (§7); empty with has_payload false: none
  bool has_payload = false;
};

class PayloadColumn {
 public:
  // An empty column in a file of `dir`.
  static Status open(const std::string& dir, std::unique_ptr<PayloadColumn>* out);
  ~PayloadColumn();
  PayloadColumn(const PayloadColumn&) = delete;
  PayloadColumn& operator=(const PayloadColumn&) = delete;

  // Writers hold the collection's lock exclusively, readers shared: a view stays valid until the
  // next put, remove or compaction.

  // The row of `label` (replacing any earlier one); `payload` null: none.
  Status put(uint32_t label, std::string_view id, const std::string_view* payload);
  void remove(uint32_t label);
  bool find(uint32_t label, RowView* out) const;

  size_t rows() const { return offsets_.size(); }
  // Bytes of live rows, and bytes the file uses (live rows and garbage).
  uint64_t live_bytes() const { return live_; }
  uint64_t used_bytes() const { return end_; }

 private:
  PayloadColumn() = default;
  Status reserve(uint64_t extra);
  Status compact();
  Status append(uint32_t label, std::string_view id, const std::string_view* payload);

  std::string dir_;
  int fd_ = -1;
  uint8_t* map_ = nullptr;
  uint64_t capacity_ = 0;  // file size and mapping length
  uint64_t end_ = 0;       // bytes written
  uint64_t live_ = 0;      // bytes of the rows `offsets_` points at
  std::unordered_map<uint32_t, uint64_t> offsets_;
  std::vector<uint8_t> row_;  // the row being appended
};

}  // namespace ragwire::dataplane
