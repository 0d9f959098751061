// A growable array of trivially copyable values whose memory is either its own
// or borrowed from a mapped snapshot (MAP_PRIVATE, so writes stay private).
// Growing a borrowed array copies it out of the mapping.
#pragma once
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include <sys/mman.h>

namespace ragwire {

// A mapped file region; unmapped when the last array borrowing from it goes.
class Mapping {
 public:
  Mapping(void* base, size_t size) : base_(base), size_(size) {}
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(base_); }
  uint8_t* mutable_data() { return static_cast<uint8_t*>(base_); }
  size_t size() const { return size_; }

 private:
  void* base_;
  size_t size_;
};

template <class T>
class PodArray {
  static_assert(std::is_trivially_copyable_v<T>, "PodArray holds plain values only");

 public:
  PodArray() = default;
  ~PodArray() { release(); }
  PodArray(const PodArray&) = delete;
  PodArray& operator=(const PodArray&) = delete;
  PodArray(PodArray&& o) noexcept { steal(o); }
  PodArray& operator=(PodArray&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t bytes() const { return cap_ * sizeof(T); }

  // Ensures room for n values (amortised growth); false when out of memory.
  bool reserve(size_t n) {
    if (n <= cap_) return true;  // borrowed memory is a private mapping: writable in place
    // Grow by half for a stream of small appends; take a large request as asked.
    size_t grown = cap_ < 16 ? 16 : cap_ + cap_ / 2;
    size_t cap = n > grown ? n : grown;
    T* p = static_cast<T*>(allocate(cap * sizeof(T)));
    if (!p) return false;
    if (size_) std::memcpy(p, data_, size_ * sizeof(T));
    release_memory();
    data_ = p;
    cap_ = cap;
    return true;
  }

  // Sets size to n; new values are `fill`. False when out of memory.
  bool resize(size_t n, T fill = T()) {
    if (!reserve(n)) return false;
    for (size_t i = size_; i < n; i++) data_[i] = fill;
    size_ = n;
    return true;
  }

  bool append(const T* values, size_t n) {
    if (!reserve(size_ + n)) return false;
    std::memcpy(data_ + size_, values, n * sizeof(T));
    size_ += n;
    return true;
  }

  void clear() { release(); }

  // Borrows n values at p from a mapping (kept alive by the array).
  void borrow(std::shared_ptr<Mapping> mapping, T* p, size_t n) {
    release();
    mapping_ = std::move(mapping);
    data_ = p;
    size_ = cap_ = n;
  }

  bool borrowed() const { return mapping_ != nullptr; }

 private:
  // Large arrays (vectors, graph links) are read at random by searches: back
  // them with transparent huge pages where the kernel offers them on request,
  // so a walk over hundreds of MiB does not miss the TLB on every hop.
  static void* allocate(size_t bytes) {
    constexpr size_t kHuge = size_t(2) << 20;
    if (bytes < 2 * kHuge) return std::aligned_alloc(64, (bytes + 63) & ~size_t(63));
    size_t rounded = (bytes + kHuge - 1) & ~(kHuge - 1);
    void* p = std::aligned_alloc(kHuge, rounded);
#if defined(MADV_HUGEPAGE)
    if (p) madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
  }
  void release_memory() {
    if (mapping_)
      mapping_.reset();
    else
      std::free(data_);
    data_ = nullptr;
  }
  void release() {
    release_memory();
    size_ = cap_ = 0;
  }
  void steal(PodArray& o) {
    data_ = o.data_;
    size_ = o.size_;
    cap_ = o.cap_;
    mapping_ = std::move(o.mapping_);
    o.data_ = nullptr;
    o.size_ = o.cap_ = 0;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
  std::shared_ptr<Mapping> mapping_;
};

}  // namespace ragwire
