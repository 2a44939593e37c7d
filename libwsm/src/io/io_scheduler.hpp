#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>

namespace wsm::detail {

class io_runtime; // see io_runtime_handle.hpp

/// Makes the scheduler of an actor system as its configuration asks:
/// CAF's test coordinator for `scheduler.policy=testing`, CAF's own
/// scheduler for `wsm.scheduler=caf`, and otherwise the I/O scheduler, which
/// runs actors on the threads of the Asio context the connections use
/// (for an unknown `wsm.scheduler` too: see `scheduler_problem`).
caf::actor_system::module* make_scheduler(caf::actor_system& sys);

/// What is wrong with the scheduler `cfg` asks for, e.g. an unknown
/// `wsm.scheduler`; empty if nothing is.
std::string scheduler_problem(const caf::actor_system_config& cfg);

/// The Asio context of `sys`'s I/O scheduler; null when `sys` runs another
/// scheduler (the broker then starts a context of its own).
std::shared_ptr<io_runtime> scheduler_io_runtime(caf::actor_system& sys);

/// A batch on an I/O thread: the actors woken while one lives (a message
/// sent to an idle machine, say) run when the outermost ends, on this
/// thread, in this Asio handler. A connection's read and write handlers
/// open one, so that a frame, the actors it wakes and the writes they start
/// cost one handler. Does nothing on any other thread.
class batch_scope {
public:
  batch_scope() noexcept;
  ~batch_scope();
  batch_scope(const batch_scope&) = delete;
  batch_scope& operator=(const batch_scope&) = delete;

private:
  caf::execution_unit* worker_;
};

} // namespace wsm::detail
