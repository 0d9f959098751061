#include "ragwire/snapshot.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ragwire {

Mapping::~Mapping() {
  if (base_) munmap(base_, size_);
}

namespace {

uint32_t crc_table[8][256];
bool crc_table_ready = [] {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    crc_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++) crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
  return true;
}();

uint32_t crc32c_soft(uint32_t crc, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    v ^= crc;
    crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^ crc_table[5][(v >> 16) & 0xff] ^
          crc_table[4][(v >> 24) & 0xff] ^ crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
          crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  // Three independent streams hide the instruction's latency; combined by
  // running the shorter streams' CRC over their successors' bytes serially
  // would need shift tables, so keep it simple: one stream, unrolled.
  while (n >= 32) {
    uint64_t a, b, d, e;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    std::memcpy(&d, p + 16, 8);
    std::memcpy(&e, p + 24, 8);
    c = _mm_crc32_u64(c, a);
    c = _mm_crc32_u64(c, b);
    c = _mm_crc32_u64(c, d);
    c = _mm_crc32_u64(c, e);
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    uint64_t a;
    std::memcpy(&a, p, 8);
    c = _mm_crc32_u64(c, a);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
bool have_sse42 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t get64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

constexpr char kMagic[8] = {'R', 'A', 'G', 'W', 'I', 'R', 'E', 0};
constexpr size_t kHeader = 64;
constexpr size_t kEntry = 24;

size_t align64(size_t v) { return (v + 63) & ~size_t(63); }

}  // namespace

uint32_t crc32c(uint32_t crc, const void* data, size_t n);

namespace {

// The header checksum covers all 64 header bytes but its own four.
uint32_t header_crc(const uint8_t* head) { return crc32c(crc32c(0, head, 28), head + 32, 32); }

Status io_error(const std::string& what, const std::string& path) {
  return Status(Code::kIo, what + " '" + path + "': " + std::strerror(errno));
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n > (1u << 30) ? (1u << 30) : n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= (size_t)w;
  }
  return true;
}

}  // namespace

uint32_t crc32c(uint32_t crc, const void* data, size_t n) {
  crc = ~crc;
#if defined(__x86_64__)
  if (have_sse42) return ~crc32c_hw(crc, static_cast<const uint8_t*>(data), n);
#endif
  return ~crc32c_soft(crc, static_cast<const uint8_t*>(data), n);
}

Status SnapshotWriter::write(const std::string& path) const {
  (void)crc_table_ready;
  size_t table_end = kHeader + kEntry * sections_.size();
  std::vector<uint8_t> head(align64(table_end), 0);
  size_t offset = head.size();
  for (size_t i = 0; i < sections_.size(); i++) {
    uint8_t* e = head.data() + kHeader + i * kEntry;
    put32(e, sections_[i].tag);
    put64(e + 8, offset);
    put64(e + 16, sections_[i].size);
    offset = align64(offset + sections_[i].size);
  }
  size_t file_size = offset;
  static const uint8_t zeros[64] = {0};
  // payload crc covers the table, padding and sections, in file order
  uint32_t crc = crc32c(0, head.data() + kHeader, head.size() - kHeader);
  size_t pos = head.size();
  for (const auto& s : sections_) {
    crc = crc32c(crc, s.data, s.size);
    pos += s.size;
    size_t pad = align64(pos) - pos;
    crc = crc32c(crc, zeros, pad);
    pos += pad;
  }
  std::memcpy(head.data(), kMagic, 8);
  put32(head.data() + 8, kSnapshotVersion);
  put32(head.data() + 12, (uint32_t)sections_.size());
  put64(head.data() + 16, file_size);
  put32(head.data() + 24, crc);
  put32(head.data() + 28, header_crc(head.data()));

  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create snapshot", tmp);
  bool ok = write_all(fd, head.data(), head.size());
  pos = head.size();
  for (const auto& s : sections_) {
    if (!ok) break;
    ok = write_all(fd, static_cast<const uint8_t*>(s.data), s.size);
    pos += s.size;
    size_t pad = align64(pos) - pos;
    if (ok && pad) ok = write_all(fd, zeros, pad);
    pos += pad;
  }
  if (ok) ok = ::fsync(fd) == 0;
  if (!ok) {
    Status st = io_error("cannot write snapshot", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return st;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = io_error("cannot move snapshot into place", path);
    ::unlink(tmp.c_str());
    return st;
  }
  return Status::ok();
}

Status SnapshotReader::open(const std::string& path, std::unique_ptr<SnapshotReader>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open snapshot", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = io_error("cannot stat snapshot", path);
    ::close(fd);
    return s;
  }
  size_t size = (size_t)st.st_size;
  if (size < kHeader) {
    ::close(fd);
    return Status(Code::kCorruptSnapshot, "snapshot '" + path + "' is truncated (" + std::to_string(size) + " bytes)");
  }
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) return io_error("cannot map snapshot", path);
  auto mapping = std::make_shared<Mapping>(base, size);
  const uint8_t* p = mapping->data();
  auto corrupt = [&](const std::string& why) {
    return Status(Code::kCorruptSnapshot, "snapshot '" + path + "' is corrupt: " + why);
  };
  if (std::memcmp(p, kMagic, 8) != 0) return corrupt("not a ragwire snapshot (bad magic)");
  if (header_crc(p) != get32(p + 28)) return corrupt("header checksum mismatch");
  uint32_t version = get32(p + 8);
  if (version != kSnapshotVersion)
    return corrupt("unsupported format version " + std::to_string(version) + " (this build reads " +
                   std::to_string(kSnapshotVersion) + ")");
  uint64_t file_size = get64(p + 16);
  if (file_size != size)
    return corrupt("file is " + std::to_string(size) + " bytes, header says " + std::to_string(file_size) +
                   " (truncated?)");
  uint32_t count = get32(p + 12);
  if (count > 1024 || kHeader + (uint64_t)count * kEntry > size) return corrupt("bad section count");
  if (crc32c(0, p + kHeader, size - kHeader) != get32(p + 24)) return corrupt("payload checksum mismatch");
  std::unique_ptr<SnapshotReader> r(new SnapshotReader());
  // Sections are borrowed in place and written through (the mapping is
  // private): each must lie past the table and share no byte with another.
  size_t table_end = align64(kHeader + (size_t)count * kEntry);
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t* e = p + kHeader + (size_t)i * kEntry;
    Entry entry{get32(e), get64(e + 8), get64(e + 16)};
    if (entry.offset < table_end || entry.offset > size || entry.size > size - entry.offset || entry.offset % 64 != 0)
      return corrupt("section out of bounds");
    r->entries_.push_back(entry);
  }
  std::vector<Entry> by_offset = r->entries_;
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry& a, const Entry& b) { return a.offset < b.offset; });
  for (size_t i = 1; i < by_offset.size(); i++)
    if (by_offset[i].offset < by_offset[i - 1].offset + by_offset[i - 1].size) return corrupt("sections overlap");
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry& a, const Entry& b) { return a.tag < b.tag; });
  for (size_t i = 1; i < by_offset.size(); i++)
    if (by_offset[i].tag == by_offset[i - 1].tag) return corrupt("a section appears twice");
  r->mapping_ = std::move(mapping);
  *out = std::move(r);
  return Status::ok();
}

bool SnapshotReader::has(uint32_t tag) const {
  for (const auto& e : entries_)
    if (e.tag == tag) return true;
  return false;
}

Status SnapshotReader::raw(uint32_t tag, uint8_t** data, size_t* size) const {
  for (const auto& e : entries_) {
    if (e.tag == tag) {
      *data = mapping_->mutable_data() + e.offset;
      *size = e.size;
      return Status::ok();
    }
  }
  char name[5] = {char(tag & 0xff), char((tag >> 8) & 0xff), char((tag >> 16) & 0xff), char(tag >> 24), 0};
  return Status(Code::kCorruptSnapshot, std::string("snapshot lacks section ") + name);
}

}  // namespace ragwire
