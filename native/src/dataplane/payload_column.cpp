#include "payload_column.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace ragwire::dataplane {

namespace {

// A row: u32 id bytes, u32 payload bytes (kNoPayload: none), the id, the payload.
constexpr uint32_t kNoPayload = UINT32_MAX;
constexpr uint64_t kRowHeader = 8;
constexpr uint64_t kFirstCapacity = 1u << 20;
// Garbage is rewritten away once it passes this and the live bytes.
constexpr uint64_t kCompactGarbage = 16u << 20;

Status io_error(const std::string& what) {
  return Status(Code::kIo, "payload column: " + what + ": " + std::strerror(errno));
}

// An unnamed file in `dir`: O_TMPFILE where the file system has it, else created and unlinked.
int open_unnamed(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string path = dir + "/.ragwire-column-XXXXXX";
  fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

Status write_all(int fd, const uint8_t* p, size_t n, uint64_t at) {
  while (n > 0) {
    const ssize_t w = pwrite(fd, p, n, (off_t)at);
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error("write");
    }
    p += w;
    n -= (size_t)w;
    at += (uint64_t)w;
  }
  return Status::ok();
}

uint64_t row_bytes(std::string_view id, const std::string_view* payload) {
  return kRowHeader + id.size() + (payload ? payload->size() : 0);
}

}  // namespace

Status PayloadColumn::open(const std::string& dir, std::unique_ptr<PayloadColumn>* out) {
  std::unique_ptr<PayloadColumn> c(new PayloadColumn());
  c->dir_ = dir;
  c->fd_ = open_unnamed(dir);
  if (c->fd_ < 0) return io_error("open a file in " + dir);
  RAGWIRE_RETURN_IF_ERROR(c->reserve(kFirstCapacity));
  *out = std::move(c);
  return Status::ok();
}

PayloadColumn::~PayloadColumn() {
  if (map_ != nullptr) munmap(map_, capacity_);
  if (fd_ >= 0) ::close(fd_);
}

Status PayloadColumn::reserve(uint64_t extra) {
  if (end_ + extra <= capacity_ && map_ != nullptr) return Status::ok();
  uint64_t want = std::max<uint64_t>(capacity_, kFirstCapacity);
  while (want < end_ + extra) want *= 2;
  if (ftruncate(fd_, (off_t)want) != 0) return io_error("grow the file");
  void* m = map_ == nullptr ? mmap(nullptr, want, PROT_READ, MAP_SHARED, fd_, 0)
                            : mremap(map_, capacity_, want, MREMAP_MAYMOVE);
  if (m == MAP_FAILED) return io_error("map the file");
  map_ = static_cast<uint8_t*>(m);
  capacity_ = want;
  return Status::ok();
}

Status PayloadColumn::append(uint32_t label, std::string_view id, const std::string_view* payload) {
  const uint64_t bytes = row_bytes(id, payload);
  if (id.size() >= kNoPayload || (payload && payload->size() >= kNoPayload))
    return Status(Code::kInvalidArgument, "payload column: a row of 4 GiB or more");
  RAGWIRE_RETURN_IF_ERROR(reserve(bytes));
  std::vector<uint8_t>& row = row_;  // kept between rows: one allocation for a whole publish
  row.resize(bytes);
  const uint32_t id_len = (uint32_t)id.size();
  const uint32_t payload_len = payload ? (uint32_t)payload->size() : kNoPayload;
  std::memcpy(row.data(), &id_len, 4);
  std::memcpy(row.data() + 4, &payload_len, 4);
  if (!id.empty()) std::memcpy(row.data() + kRowHeader, id.data(), id.size());
  if (payload && !payload->empty()) std::memcpy(row.data() + kRowHeader + id.size(), payload->data(), payload->size());
  RAGWIRE_RETURN_IF_ERROR(write_all(fd_, row.data(), row.size(), end_));
  offsets_[label] = end_;
  end_ += bytes;
  live_ += bytes;
  return Status::ok();
}

Status PayloadColumn::put(uint32_t label, std::string_view id, const std::string_view* payload) {
  remove(label);
  RAGWIRE_RETURN_IF_ERROR(append(label, id, payload));
  const uint64_t garbage = end_ - live_;
  return garbage > kCompactGarbage && garbage > live_ ? compact() : Status::ok();
}

void PayloadColumn::remove(uint32_t label) {
  auto it = offsets_.find(label);
  if (it == offsets_.end()) return;
  RowView old;
  find(label, &old);
  live_ -= kRowHeader + old.id.size() + old.payload.size();
  offsets_.erase(it);
}

bool PayloadColumn::find(uint32_t label, RowView* out) const {
  auto it = offsets_.find(label);
  if (it == offsets_.end()) return false;
  const uint8_t* p = map_ + it->second;
  uint32_t id_len, payload_len;
  std::memcpy(&id_len, p, 4);
  std::memcpy(&payload_len, p + 4, 4);
  out->id = std::string_view(reinterpret_cast<const char*>(p + kRowHeader), id_len);
  out->has_payload = payload_len != kNoPayload;
  out->payload =
      std::string_view(reinterpret_cast<const char*>(p + kRowHeader + id_len), out->has_payload ? payload_len : 0);
  return true;
}

Status PayloadColumn::compact() {
  // The live rows into a new file; the old one goes once they are all written.
  std::unique_ptr<PayloadColumn> fresh;
  RAGWIRE_RETURN_IF_ERROR(open(dir_, &fresh));
  RAGWIRE_RETURN_IF_ERROR(fresh->reserve(live_));
  for (const auto& entry : offsets_) {
    RowView row;
    find(entry.first, &row);
    RAGWIRE_RETURN_IF_ERROR(fresh->append(entry.first, row.id, row.has_payload ? &row.payload : nullptr));
  }
  std::swap(fd_, fresh->fd_);
  std::swap(map_, fresh->map_);
  std::swap(capacity_, fresh->capacity_);
  std::swap(end_, fresh->end_);
  std::swap(live_, fresh->live_);
  offsets_.swap(fresh->offsets_);
  return Status::ok();
}

}  // namespace ragwire::dataplane
