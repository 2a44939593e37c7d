#pragma once

// Bytes gathered for the socket: a growable buffer whose new room is left
// uninitialized (a std::string zero-fills every byte it grows by, and the
// bytes are overwritten at once), growing by one allocation to at least
// twice its size, copying only the bytes it holds.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>

namespace wsm::detail {

class byte_buffer {
public:
  char* data() noexcept {
    return storage_.get();
  }

  size_t size() const noexcept {
    return size_;
  }

  bool empty() const noexcept {
    return size_ == 0;
  }

  size_t capacity() const noexcept {
    return capacity_;
  }

  /// `n` more bytes at the end, uninitialized: the caller writes them all.
  char* extend(size_t n) {
    if (capacity_ - size_ < n) {
      auto capacity = std::max({size_ + n, 2 * capacity_, min_capacity});
      std::unique_ptr<char[]> grown{new char[capacity]};
      if (size_ > 0)
        std::memcpy(grown.get(), storage_.get(), size_);
      storage_ = std::move(grown);
      capacity_ = capacity;
    }
    auto at = storage_.get() + size_;
    size_ += n;
    return at;
  }

  /// Empty, keeping the room.
  void clear() noexcept {
    size_ = 0;
  }

  /// Empty, and the room let go.
  void release() noexcept {
    storage_.reset();
    size_ = capacity_ = 0;
  }

  void swap(byte_buffer& other) noexcept {
    std::swap(storage_, other.storage_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

private:
  static constexpr size_t min_capacity = 512;
  std::unique_ptr<char[]> storage_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

} // namespace wsm::detail
