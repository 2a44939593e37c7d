#pragma once
// The Asio context that runs every connection of an actor system, and its
// threads. Included by the two files that need Asio: the broker, which puts
// connections on it, and the I/O scheduler, which runs actors on it too.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace wsm::detail {

class io_runtime {
public:
  using context_type = boost::asio::io_context;

  /// What each thread runs; by default just the context.
  using thread_main = std::function<void(context_type&)>;

  /// Starts `threads` threads (at least one) running the context through
  /// `main`.
  explicit io_runtime(size_t threads, thread_main main = nullptr)
    // With one thread, Asio keeps work posted from that thread in a queue
    // of the thread's own, without a lock or a wake-up.
    : context_(threads <= 1 ? 1 : BOOST_ASIO_CONCURRENCY_HINT_DEFAULT),
      work_(boost::asio::make_work_guard(context_)) {
    if (!main)
      main = [](context_type& context) { context.run(); };
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
      threads_.emplace_back([this, main] { main(context_); });
      // Named so that `top -H` and the tests can tell them apart.
      pthread_setname_np(threads_.back().native_handle(), "wsm-io");
    }
  }

  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  ~io_runtime() {
    stop();
  }

  /// Stops the context and joins its threads; what is still on it is
  /// abandoned (destroyed with the context). Idempotent.
  void stop() {
    work_.reset();
    context_.stop();
    for (auto& thread : threads_) {
      if (!thread.joinable())
        continue;
      if (thread.get_id() == std::this_thread::get_id())
        thread.detach(); // the last reference dropped on an I/O thread
      else
        thread.join();
    }
  }

  context_type& context() noexcept {
    return context_;
  }

  size_t threads() const noexcept {
    return threads_.size();
  }

private:
  context_type context_;
  boost::asio::executor_work_guard<context_type::executor_type> work_;
  std::vector<std::thread> threads_;
};

} // namespace wsm::detail
