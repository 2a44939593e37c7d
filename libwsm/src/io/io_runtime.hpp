#pragma once
// The Asio contexts that run every connection of an actor system, one per
// thread. Included by the two files that need Asio: the broker, which puts
// connections on them, and the I/O scheduler, which runs actors on them too.
//
// One context per thread rather than one context shared by all: a
// connection lives on one thread, so its handlers need no strand, its
// socket and timers use the context's own executor type (no type-erased
// executor copied for every operation), and a context takes work from its
// own thread without a lock.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <cstdio>
#include <exception>

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace wsm::detail {

class io_runtime {
public:
  using context_type = boost::asio::io_context;

  /// What each thread runs; by default just its context.
  using thread_main = std::function<void(context_type&)>;

  /// Starts `threads` threads (at least one), each running a context of
  /// its own through `main`.
  explicit io_runtime(size_t threads, thread_main main = nullptr) {
    if (!main)
      main = [](context_type& context) { run_guarded(context); };
    auto count = std::max<size_t>(threads, 1);
    for (size_t i = 0; i < count; ++i) {
      // One thread runs each: Asio keeps work posted from it in a queue
      // of the thread's own, without a lock or a wake-up.
      auto& slot = slots_.emplace_back(std::make_unique<slot_type>());
      slot->context = std::make_unique<context_type>(1);
      slot->work.emplace(boost::asio::make_work_guard(*slot->context));
    }
    for (auto& slot : slots_) {
      auto* context = slot->context.get();
      slot->thread = std::thread{[this, context, main] {
        current_owner = this;
        current_context = context;
        main(*context);
        current_context = nullptr;
        current_owner = nullptr;
      }};
      // Named so that `top -H` and the tests can tell them apart.
      pthread_setname_np(slot->thread.native_handle(), "wsm-io");
    }
  }

  /// Runs `context` until it stops. Sessions let no exception out of their
  /// handlers; one from elsewhere (an allocation inside Beast, say) is
  /// reported and the context runs on, instead of ending the process.
  static void run_guarded(context_type& context) {
    for (;;) {
      try {
        context.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "wsm: an I/O handler threw, dropped: %s\n",
                     e.what());
      } catch (...) {
        std::fprintf(stderr, "wsm: an I/O handler threw, dropped\n");
      }
    }
  }

  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  ~io_runtime() {
    stop();
  }

  /// Stops the contexts and joins their threads; what is still on them is
  /// abandoned (destroyed with the contexts). Idempotent.
  void stop() {
    for (auto& slot : slots_) {
      slot->work.reset();
      slot->context->stop();
    }
    for (auto& slot : slots_) {
      if (!slot->thread.joinable())
        continue;
      if (slot->thread.get_id() == std::this_thread::get_id())
        slot->thread.detach(); // the last reference dropped on an I/O thread
      else
        slot->thread.join();
    }
  }

  /// The first context: where the clock's timer runs.
  context_type& context() noexcept {
    return *slots_.front()->context;
  }

  /// The context of the calling thread if it is one of these, else the next
  /// in turn: work stays where it started, and work from outside spreads.
  context_type& nearest() noexcept {
    if (current_owner == this)
      return *current_context;
    return next();
  }

  /// The next context in turn, for a new connection.
  context_type& next() noexcept {
    auto i = next_.fetch_add(1, std::memory_order_relaxed) % slots_.size();
    return *slots_[i]->context;
  }

  size_t threads() const noexcept {
    return slots_.size();
  }

private:
  struct slot_type {
    std::unique_ptr<context_type> context;
    std::optional<boost::asio::executor_work_guard<context_type::executor_type>>
      work;
    std::thread thread;
  };

  /// The runtime and the context the calling thread runs, if any.
  static inline thread_local const io_runtime* current_owner = nullptr;
  static inline thread_local context_type* current_context = nullptr;

  std::vector<std::unique_ptr<slot_type>> slots_;
  std::atomic<size_t> next_{0};
};

} // namespace wsm::detail
