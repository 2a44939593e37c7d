#pragma once

// A deque that allocates nothing until its first element. libstdc++'s
// std::deque allocates its map and a 512-byte node on construction; a
// machine has two, mostly empty, and thousands of machines per process.

#include <deque>
#include <memory>

namespace wsm::detail {

template <class T>
class lazy_deque {
public:
  using iterator = typename std::deque<T>::iterator;
  using const_iterator = typename std::deque<T>::const_iterator;

  bool empty() const noexcept {
    return !items_ || items_->empty();
  }

  size_t size() const noexcept {
    return items_ ? items_->size() : 0;
  }

  T& front() {
    return items_->front();
  }

  const T& front() const {
    return items_->front();
  }

  T& back() {
    return items_->back();
  }

  void push_back(T x) {
    get().push_back(std::move(x));
  }

  void push_front(T x) {
    get().push_front(std::move(x));
  }

  void pop_front() {
    items_->pop_front();
  }

  void pop_back() {
    items_->pop_back();
  }

  /// Removes the element at `pos` (of a deque that is not empty).
  iterator erase(iterator pos) {
    return items_->erase(pos);
  }

  /// Empties the deque and gives its memory back.
  void clear() noexcept {
    items_.reset();
  }

  iterator begin() {
    return items_ ? items_->begin() : iterator{};
  }

  iterator end() {
    return items_ ? items_->end() : iterator{};
  }

  const_iterator begin() const {
    return items_ ? items_->cbegin() : const_iterator{};
  }

  const_iterator end() const {
    return items_ ? items_->cend() : const_iterator{};
  }

private:
  std::deque<T>& get() {
    if (!items_)
      items_ = std::make_unique<std::deque<T>>();
    return *items_;
  }

  std::unique_ptr<std::deque<T>> items_;
};

} // namespace wsm::detail
