// The I/O scheduler: a CAF scheduler whose workers are the threads of the
// Asio context that runs the connections.
//
// With CAF's own scheduler, a frame that arrives is read on an Asio thread
// and handed to its machine on a CAF worker, and the answer goes back the
// same way: two thread wake-ups per round trip, each a context switch when
// the two threads share a core. Here the actors run on the Asio threads,
// and the actors woken inside a batch (a job, or a connection's handler
// that opens one) run when the batch ends, in the same Asio handler: a
// frame read, the machine, its subscriber, the machine again and the next
// write make one handler, with no trip through Asio's queue (each trip
// costs an epoll_wait) and no other thread woken.
//
//   woken on an I/O thread inside a batch ──▶ the thread's ready list
//                                              │ run when the batch ends
//   woken anywhere else (timers, other       ──▶ post a job handler
//   threads, Asio handlers without a batch)     │
//                                              ▼
//                        job handler: a batch around resume(actor)
//
//   resume_later (an actor used its turn) ──▶ post again: sockets go first
//   done / awaiting a message ──▶ release; a message wakes it again
//
// Timeouts and delayed messages (CAF's actor clock) run on one Asio timer
// of the same context, armed for the earliest: CAF's own clock is a thread
// fed through a 64-slot ring, which wakes that thread for every timer a
// machine arms and stalls the arming thread when ten thousand machines arm
// theirs at once.

#include "io/io_scheduler.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <caf/actor_system_config.hpp>
#include <caf/defaults.hpp>
#include <caf/detail/simple_actor_clock.hpp>
#include <caf/execution_unit.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "io/io_runtime.hpp"

namespace wsm::detail {

namespace {

namespace net = boost::asio;

/// Messages an actor handles per turn before the sockets (and the other
/// actors) of its thread get theirs.
constexpr size_t max_messages_per_turn = 64;

/// Actors one batch runs at most; the rest are posted, so that a chatty
/// pair of actors cannot keep a thread from its sockets.
constexpr size_t max_jobs_per_batch = 256;

class io_coordinator;

/// The execution unit of one I/O thread: what an actor running there uses
/// to schedule the actors it wakes, and the thread's ready list.
class io_worker final : public caf::execution_unit {
public:
  io_worker(caf::actor_system& sys, io_coordinator& parent)
    : caf::execution_unit(&sys), parent_(parent) {
  }

  void exec_later(caf::resumable* job) override;

  io_coordinator& parent() const noexcept {
    return parent_;
  }

  /// True inside a batch: a woken actor joins the ready list.
  bool batching() const noexcept {
    return depth_ > 0;
  }

  void add_ready(caf::resumable* job) {
    ready_.push_back(job);
  }

  void enter() noexcept {
    ++depth_;
  }

  /// Leaves a batch; the outermost runs the ready list.
  void leave();

private:
  io_coordinator& parent_;
  size_t depth_ = 0;
  /// FIFO: run from `next_`, cleared once all ran.
  std::vector<caf::resumable*> ready_;
  size_t next_ = 0;
};

/// The worker of the calling thread, if it is an I/O thread.
thread_local io_worker* current_worker = nullptr;

/// CAF's actor clock on an Asio timer: the schedule of CAF's simple clock
/// behind a mutex, and one timer armed for its earliest entry, whose
/// handler fires what is due on an I/O thread.
class io_clock final : public caf::detail::simple_actor_clock {
public:
  using super = caf::detail::simple_actor_clock;

  /// Timers run on `context` from now on.
  void start(net::io_context& context) {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    timer_ = std::make_unique<net::steady_timer>(context);
    arm();
  }

  /// Drops the timer and what is still scheduled; call before the context
  /// goes.
  void stop() {
    schedule_map doomed;
    {
      std::lock_guard<std::recursive_mutex> guard{mutex_};
      timer_ = nullptr;
      doomed.swap(schedule_);
      actor_lookup_.clear();
    }
    // The entries go with the lock released, like shipped ones in `fire`.
  }

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::set_ordinary_timeout(t, self, type, id);
    arm();
  }

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::set_multi_timeout(t, self, type, id);
    arm();
  }

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::set_request_timeout(t, self, id);
    arm();
  }

  void cancel_ordinary_timeout(caf::abstract_actor* self,
                               caf::atom_value type) override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::cancel_ordinary_timeout(self, type);
  }

  void cancel_request_timeout(caf::abstract_actor* self,
                              caf::message_id id) override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::cancel_request_timeout(self, id);
  }

  void cancel_timeouts(caf::abstract_actor* self) override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::cancel_timeouts(self);
  }

  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::schedule_message(t, std::move(receiver), std::move(content));
    arm();
  }

  void schedule_message(time_point t, caf::group target,
                        caf::strong_actor_ptr sender,
                        caf::message content) override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::schedule_message(t, std::move(target), std::move(sender),
                            std::move(content));
    arm();
  }

  void cancel_all() override {
    std::lock_guard<std::recursive_mutex> guard{mutex_};
    super::cancel_all();
  }

private:
  /// Arms the timer for the earliest entry unless it is armed for that or
  /// earlier already: a machine's timers lie in the future of the others'
  /// mostly, so arming one rarely touches the timer. Needs `mutex_`.
  void arm() {
    if (!timer_ || schedule().empty())
      return;
    auto earliest = schedule().begin()->first;
    if (armed_ && armed_for_ <= earliest)
      return;
    armed_ = true;
    armed_for_ = earliest;
    timer_->expires_at(earliest);
    timer_->async_wait([this, arming = ++armings_](boost::system::error_code) {
      // The actors the due entries wake run when the batch ends.
      batch_scope batch;
      fire(arming);
    });
  }

  /// Takes what is due out of the schedule, then ships it with the lock
  /// released: shipping enqueues to actors, and an entry's end may end an
  /// actor, which comes back here to cancel its timeouts.
  void fire(uint64_t arming) {
    std::vector<unique_delayed_event_ptr> due;
    {
      std::lock_guard<std::recursive_mutex> guard{mutex_};
      if (arming != armings_)
        return; // armed again for an earlier entry since
      armed_ = false;
      auto now = this->now();
      for (auto i = schedule_.begin();
           i != schedule_.end() && i->first <= now;) {
        if (i->second->backlink != actor_lookup_.end())
          actor_lookup_.erase(i->second->backlink);
        due.push_back(std::move(i->second));
        i = schedule_.erase(i);
      }
      arm();
    }
    for (auto& event : due)
      ship(*event);
  }

  /// Recursive: an entry's destructor may release the last reference to
  /// an actor, whose cleanup cancels its own timeouts here.
  std::recursive_mutex mutex_;
  std::unique_ptr<net::steady_timer> timer_;
  time_point armed_for_;
  bool armed_ = false;
  uint64_t armings_ = 0;
};


class io_coordinator final : public caf::scheduler::abstract_coordinator {
public:
  using super = caf::scheduler::abstract_coordinator;

  explicit io_coordinator(caf::actor_system& sys) : super(sys) {
  }

  void init(caf::actor_system_config& cfg) override {
    super::init(cfg);
    // `wsm.io-threads` when given, else CAF's worker count (which
    // wsm::config sets to the usable CPUs).
    if (auto threads = caf::get_if<size_t>(&cfg, "wsm.io-threads");
        threads && *threads > 0)
      num_workers_ = *threads;
    // CAF's default lets an actor run until its mailbox is empty; here a
    // flooded actor would keep its thread's sockets waiting.
    max_throughput_ = std::min(max_throughput_, max_messages_per_turn);
  }

  void start() override {
    io_ = std::make_shared<io_runtime>(
      num_workers_, [this](io_runtime::context_type& context) {
        io_worker worker{system(), *this};
        current_worker = &worker;
        system().thread_started();
        io_runtime::run_guarded(context);
        system().thread_terminates();
        current_worker = nullptr;
      });
    clock_.start(io_->context());
    super::start();
  }

  void stop() override {
    // The utility actors (the printer) end while the threads still run.
    stop_actors();
    io_->stop();
    clock_.stop();
    // Jobs still queued are released with the context (job_handler's
    // destructor) while the actor system is still there.
    io_.reset();
  }

  void enqueue(caf::resumable* job) override {
    schedule(job);
  }

  io_clock& clock() noexcept override {
    return clock_;
  }

  std::shared_ptr<io_runtime> runtime() const {
    return io_;
  }

  /// Runs `job` later: inside a batch on an I/O thread of this context
  /// when the batch ends, else in a handler of its own on whichever I/O
  /// thread is free.
  void schedule(caf::resumable* job) {
    if (current_worker != nullptr && &current_worker->parent() == this
        && current_worker->batching())
      current_worker->add_ready(job);
    else
      post(job);
  }

  /// Runs `job` in a handler of its own, behind what the context has
  /// queued already.
  void post(caf::resumable* job) {
    net::post(io_->nearest(), job_handler{this, job});
  }

  /// Runs `job` for one turn on the calling I/O thread.
  void resume(caf::resumable* job) {
    switch (job->resume(current_worker, max_throughput_)) {
      case caf::resumable::resume_later:
        // Behind what is queued already: the sockets get their turn.
        post(job);
        break;
      case caf::resumable::done:
      case caf::resumable::awaiting_message:
        // The actor adds a reference again when a message wakes it.
        caf::intrusive_ptr_release(job);
        break;
      case caf::resumable::shutdown_execution_unit:
        // Only CAF's own shutdown helper says this; it never comes here.
        break;
    }
  }

private:
  /// Owns one reference to a job until it runs; a job that never runs (the
  /// context stopped) is cleaned up and released.
  class job_handler {
  public:
    job_handler(io_coordinator* parent, caf::resumable* job) noexcept
      : parent_(parent), job_(job) {
    }

    job_handler(job_handler&& other) noexcept
      : parent_(other.parent_), job_(std::exchange(other.job_, nullptr)) {
    }

    job_handler(const job_handler&) = delete;
    job_handler& operator=(const job_handler&) = delete;
    job_handler& operator=(job_handler&&) = delete;

    ~job_handler() {
      if (job_ != nullptr)
        caf::scheduler::abstract_coordinator::cleanup_and_release(job_);
    }

    void operator()() {
      current_worker->enter();
      parent_->resume(std::exchange(job_, nullptr));
      current_worker->leave();
    }

  private:
    io_coordinator* parent_;
    caf::resumable* job_;
  };

  io_clock clock_;
  std::shared_ptr<io_runtime> io_;
};

void io_worker::exec_later(caf::resumable* job) {
  parent_.schedule(job);
}

void io_worker::leave() {
  if (depth_ > 1) {
    --depth_;
    return;
  }
  // Still inside the batch while the list runs: what these actors wake
  // joins the list.
  size_t budget = max_jobs_per_batch;
  while (next_ < ready_.size() && budget-- > 0)
    parent_.resume(ready_[next_++]);
  for (; next_ < ready_.size(); ++next_)
    parent_.post(ready_[next_]);
  ready_.clear();
  next_ = 0;
  depth_ = 0;
}

} // namespace

batch_scope::batch_scope() noexcept : worker_(current_worker) {
  if (worker_ != nullptr)
    static_cast<io_worker*>(worker_)->enter();
}

batch_scope::~batch_scope() {
  if (worker_ != nullptr)
    static_cast<io_worker*>(worker_)->leave();
}


caf::actor_system::module* make_scheduler(caf::actor_system& sys) {
  auto& cfg = sys.config();
  auto policy = caf::get_or(cfg, "scheduler.policy",
                            caf::defaults::scheduler::policy);
  if (policy == caf::atom("testing"))
    return new caf::scheduler::test_coordinator(sys);
  // An unknown name gets the I/O scheduler here (a module factory must not
  // throw: CAF 0.17 leaves a half-built system behind), and every
  // spawn_machine refuses it by name (scheduler_problem).
  if (caf::get_or(cfg, "wsm.scheduler", std::string{"io"}) != "caf")
    return new io_coordinator(sys);
  if (policy == caf::atom("sharing"))
    return new caf::scheduler::coordinator<caf::policy::work_sharing>(sys);
  return new caf::scheduler::coordinator<caf::policy::work_stealing>(sys);
}

std::string scheduler_problem(const caf::actor_system_config& cfg) {
  auto choice = caf::get_or(cfg, "wsm.scheduler", std::string{"io"});
  if (choice == "io" || choice == "caf")
    return {};
  return "wsm.scheduler: '" + choice + "' is not a scheduler; use 'io' or "
         "'caf'";
}

std::shared_ptr<io_runtime> scheduler_io_runtime(caf::actor_system& sys) {
  auto* scheduler = dynamic_cast<io_coordinator*>(&sys.scheduler());
  return scheduler == nullptr ? nullptr : scheduler->runtime();
}

} // namespace wsm::detail
