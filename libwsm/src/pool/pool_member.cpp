#include "pool/pool_member.hpp"

#include "observability/machine_registry.hpp"
#include "runtime/runtime.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/response_promise.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "delivery/output_sender.hpp"
#include "delivery/room_waiters.hpp"
#include "delivery/subscriber_list.hpp"
#include "wsm/error.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

namespace {

/// How long a member waits for its machine's counters before it answers
/// with its own view (the machine's node may be gone).
constexpr auto stats_timeout = std::chrono::seconds(5);

/// Statuses and inputs a new machine may send before the pool has said it
/// is ours: kept up to this many, then dropped.
constexpr size_t early_limit = 64;

/// An output accepted by the member, kept until its receipt comes.
struct kept_output {
  output message;
  output_sender sender;
  /// The placement it was last sent to; 0 while it waits for one.
  uint64_t placement = 0;
};

/// A status or input from an actor that is not (yet) our machine.
struct early_message {
  caf::actor_addr from;
  caf::message content;
};

class pool_member : public member_actor::base {
public:
  pool_member(caf::actor_config& cfg, caf::actor first_subscriber,
              size_t max_queue, size_t max_queue_bytes)
    : member_actor::base(cfg),
      max_queue_(max_queue),
      max_queue_bytes_(max_queue_bytes) {
    if (first_subscriber)
      add_subscriber(first_subscriber);
    last_.state = state::connecting;
    set_down_handler([this](caf::down_msg& x) { on_down(x); });
  }

  behavior_type make_behavior() override {
    return {
      [this](output& x) { accept(x); },
      [this](confirm_atom, std::string& id) { confirm(std::move(id)); },
      [this](command x) { on_command(x); },
      [this](command x, std::string& payload) {
        if (x == command::ping && machine_)
          send(machine_, x, std::move(payload));
        else
          on_command(x);
      },
      [this](subscribe_atom, caf::actor& who) {
        add_subscriber(who);
        return last_;
      },
      [this](unsubscribe_atom, const caf::actor& who) {
        demonitor(who);
        remove_subscriber(who.address());
      },
      [this](get_atom, status_atom) { return last_; },
      [this](get_atom, stats_atom) -> caf::result<stats> {
        return counters();
      },
      [this](room_atom, uint64_t bytes) {
        return room_waiting_.ask(this, bytes, fill());
      },
      [this](status& x) {
        if (!from_machine())
          keep_early(caf::make_message(std::move(x)));
        else if (!quit_by_its_node(x))
          publish(std::move(x));
      },
      [this](input& x) {
        // A former machine's input is still what the server sent: handed
        // on, never dropped.
        if (from_machine() || from_former_machine())
          fan_out(caf::make_message(std::move(x)));
        else
          keep_early(caf::make_message(std::move(x)));
      },
      [this](placed_atom, machine_actor& machine) {
        on_placed(std::move(machine));
      },
      [this](placed_atom, caf::error& err) { give_up(std::move(err)); },
      [this](node_lost_atom, const std::string& reason) { on_lost(reason); },
    };
  }

  void on_exit() override {
    room_waiting_.fail_all(make_error(errc::machine_quit, "the member ended"));
    // Ended by the pool or by an error: the machine must not outlive us.
    if (machine_ && !ending_)
      caf::anon_send(machine_, command::quit);
    machine_ = nullptr;
  }

private:
  // -- subscribers ------------------------------------------------------------

  void add_subscriber(const caf::actor& who) {
    subscribers_.add(this, who);
  }

  void remove_subscriber(const caf::actor_addr& who) {
    subscribers_.remove(who);
  }

  void fan_out(const caf::message& content) {
    subscribers_.fan_out(this, content);
  }

  /// Hands a status on with the epoch counted over every machine this
  /// member has had, so it never goes back after a move.
  void publish(status x) {
    x.epoch += epoch_base_;
    last_ = x;
    // The pool's status page shows where each of its machines stands.
    if (auto registry = detail::registry_of(system()))
      registry->record_status(id(), last_);
    fan_out(caf::make_message(std::move(x)));
  }

  // -- outputs ----------------------------------------------------------------

  void accept(output& x) {
    kept_output item{std::move(x), output_sender::of_current(this), 0};
    if (ending_) {
      give_back(item, "quit", errc::machine_quit);
      return;
    }
    auto size = item.message.bytes().size();
    if (!fill().fits(size)) {
      give_back(item, "queue full");
      return;
    }
    auto seq = ++last_seq_;
    kept_bytes_ += size;
    auto& kept = kept_.emplace(seq, std::move(item)).first->second;
    if (machine_)
      send_kept(seq, kept);
  }

  /// The server confirmed `id`: the oldest output kept under it is
  /// settled here at once (its machine may be gone with its node), and the
  /// machine hears so, to let it go too.
  void confirm(std::string id) {
    auto i = std::find_if(kept_.begin(), kept_.end(), [&](const auto& entry) {
      return !id.empty() && entry.second.message.confirm_id == id;
    });
    if (i != kept_.end()) {
      i->second.sender.written();
      forget(i);
    }
    if (machine_)
      send(machine_, confirm_atom::value, std::move(id));
  }

  /// Sends a kept output as a request: the machine's receipt (or its
  /// refusal) settles it; for an output that asked for confirmation, the
  /// receipt comes once it is confirmed. A machine lost with its node answers neither;
  /// the output is then sent again to the next machine.
  void send_kept(uint64_t seq, kept_output& item) {
    item.placement = placement_;
    request(machine_, caf::infinite, item.message)
      .then(
        [this, seq] {
          auto i = kept_.find(seq);
          if (i == kept_.end())
            return;
          i->second.sender.written();
          forget(i);
        },
        [this, seq, placement = placement_](caf::error& err) {
          auto i = kept_.find(seq);
          if (i == kept_.end() || i->second.placement != placement
              || err.category() != caf::atom("wsm"))
            return;
          if (!ending_ && err.code() == static_cast<uint8_t>(errc::machine_quit)) {
            // Its node is shutting down and quit the machine: the output
            // waits for the next machine.
            i->second.placement = 0;
            return;
          }
          give_back(i->second, describe(err), static_cast<errc>(err.code()));
          forget(i);
        });
  }

  /// Tells the sender of an output that it will never be written, as the
  /// machine itself would.
  void give_back(kept_output& x, const std::string& reason,
                 errc code = errc::undelivered) {
    ++undelivered_;
    x.sender.give_back(this, x.message.bytes(), reason, code);
  }

  void give_back_all(const std::string& reason,
                     errc code = errc::undelivered) {
    for (auto& entry : kept_)
      give_back(entry.second, reason, code);
    kept_.clear();
    kept_bytes_ = 0;
  }

  /// How full the member's own queue is: it keeps every output until its
  /// receipt, so the machine's queue is never fuller.
  queue_fill fill() const noexcept {
    return {kept_.size(), kept_bytes_, max_queue_, max_queue_bytes_};
  }

  /// An output is settled: its room goes to those waiting for it.
  void forget(std::map<uint64_t, kept_output>::iterator i) {
    kept_bytes_ -= i->second.message.bytes().size();
    kept_.erase(i);
    if (!room_waiting_.empty())
      room_waiting_.offer(fill());
  }

  // -- commands ---------------------------------------------------------------

  void on_command(command x) {
    // Remembered so that a machine placed later starts the same way.
    switch (x) {
      case command::use_text:
        text_ = true;
        break;
      case command::use_binary:
        text_ = false;
        break;
      case command::suspend:
        suspended_ = true;
        break;
      case command::resume:
        suspended_ = false;
        break;
      case command::quit:
        ending_ = true;
        if (!machine_) {
          end_unplaced("quit", caf::exit_reason::normal);
          return;
        }
        break;
      default:
        break;
    }
    if (machine_)
      send(machine_, x);
  }

  // -- placement --------------------------------------------------------------

  bool from_machine() {
    return machine_
           && caf::actor_cast<caf::actor_addr>(current_sender())
                == machine_.address();
  }

  bool from_former_machine() {
    auto sender = caf::actor_cast<caf::actor_addr>(current_sender());
    return std::find(former_.begin(), former_.end(), sender) != former_.end();
  }

  /// Only the member and the node's spawner quit a machine; a quit the
  /// member did not ask for is its node shutting down, which the pool
  /// reports as the node lost. The machine's own last word is not passed on.
  bool quit_by_its_node(const status& x) const {
    return x.state == state::disconnected && x.error.empty() && !ending_
           && !suspended_;
  }

  void keep_early(caf::message content) {
    if (!machine_ && early_.size() < early_limit)
      early_.push_back(
        {caf::actor_cast<caf::actor_addr>(current_sender()), std::move(content)});
  }

  void on_placed(machine_actor machine) {
    if (ending_) {
      // Quit while waiting for a node: this machine is not wanted.
      caf::anon_send(machine, command::quit);
      return;
    }
    machine_ = std::move(machine);
    ++placement_;
    monitor(machine_);
    if (text_)
      send(machine_, command::use_text);
    if (suspended_)
      send(machine_, command::suspend);
    // What the machine said before the pool's word came, in its order.
    auto early = std::move(early_);
    early_.clear();
    for (auto& x : early) {
      if (x.from != machine_.address())
        continue;
      if (x.content.match_elements<status>())
        publish(x.content.get_as<status>(0));
      else
        fan_out(x.content);
    }
    for (auto& entry : kept_) {
      // Sent to an earlier machine, and not settled: it may have been
      // written, and goes again (at least once).
      if (entry.second.placement != 0)
        ++resent_;
      send_kept(entry.first, entry.second);
    }
  }

  void on_lost(const std::string& reason) {
    if (machine_) {
      demonitor(machine_.address());
      former_.push_back(machine_.address());
    }
    machine_ = nullptr;
    early_.clear();
    publish_disconnected(reason);
    if (ending_)
      end_unplaced("quit: " + reason, caf::exit_reason::normal);
  }

  /// A DISCONNECTED of the member's own; the epoch stays where the last
  /// machine left it.
  void publish_disconnected(std::string error) {
    status x;
    x.state = state::disconnected;
    x.error = std::move(error);
    x.attempt = last_.attempt;
    epoch_base_ = last_.epoch;
    publish(std::move(x));
  }

  /// No node will run the machine: the subscribers hear why, the senders
  /// of kept outputs get them back, and the member ends with the error.
  void give_up(caf::error err) {
    auto reason = describe(err);
    if (last_.state != state::disconnected || last_.error != reason)
      publish_disconnected(reason);
    give_back_all(reason);
    quit(std::move(err));
  }

  void end_unplaced(const std::string& reason, caf::exit_reason why) {
    if (last_.state != state::disconnected)
      publish_disconnected({});
    give_back_all(reason, errc::machine_quit);
    quit(why);
  }

  void on_down(const caf::down_msg& x) {
    if (!machine_ || x.source != machine_.address()) {
      remove_subscriber(x.source);
      return;
    }
    former_.push_back(machine_.address());
    machine_ = nullptr;
    if (ending_) {
      // Our quit: the machine said its last DISCONNECTED.
      give_back_all("quit", errc::machine_quit);
      quit(caf::exit_reason::normal);
      return;
    }
    // Gone with its node (killed, or shut down and its machines with it):
    // the pool sees the node go and places the machine again.
    if (x.reason == caf::exit_reason::remote_link_unreachable
        || x.reason == caf::exit_reason::normal)
      return;
    // The machine gave up on its own (retries exhausted, handshake
    // rejected): so does the member, for the same reason.
    give_back_all(describe(x.reason));
    quit(x.reason);
  }

  // -- counters ---------------------------------------------------------------

  caf::result<stats> counters() {
    stats own;
    own.disconnects.resize(close_cause_count);
    own.queue_depth = kept_.size();
    own.queue_bytes = kept_bytes_;
    own.undelivered = undelivered_;
    own.resent = resent_;
    if (!machine_)
      return own;
    auto promise = make_response_promise<stats>();
    request(machine_, stats_timeout, get_atom::value, stats_atom::value)
      .then(
        [this, promise](stats& x) mutable {
          x.queue_depth = kept_.size();
          x.queue_bytes = kept_bytes_;
          // The member hands back everything that went undelivered,
          // the machine's refusals included.
          x.undelivered = undelivered_;
          // What went again to a new machine counts as written again.
          x.resent += resent_;
          promise.deliver(std::move(x));
        },
        [promise, own](caf::error&) mutable { promise.deliver(own); });
    return promise;
  }

  // -- state ------------------------------------------------------------------

  size_t max_queue_;
  size_t max_queue_bytes_;
  /// The bytes of the outputs kept.
  uint64_t kept_bytes_ = 0;
  room_waiters room_waiting_;
  subscriber_list subscribers_;
  /// The last status handed on; its state is the member's.
  status last_;
  /// Epochs of the machines before the current one.
  uint64_t epoch_base_ = 0;
  machine_actor machine_;
  /// Machines this member had before; few, as each move needs a lost node.
  std::vector<caf::actor_addr> former_;
  /// Counts placements, so that an answer from an earlier machine is told
  /// apart.
  uint64_t placement_ = 0;
  std::map<uint64_t, kept_output> kept_;
  uint64_t last_seq_ = 0;
  std::vector<early_message> early_;
  uint64_t undelivered_ = 0;
  /// Outputs sent again to a new machine after their first was lost.
  uint64_t resent_ = 0;
  bool text_ = false;
  bool suspended_ = false;
  /// quit came: no new output is taken, the member ends with its machine.
  bool ending_ = false;
};

} // namespace

member_actor spawn_member(caf::actor_system& sys, caf::actor first_subscriber,
                          size_t max_queue, size_t max_queue_bytes) {
  return sys.spawn<pool_member>(std::move(first_subscriber), max_queue,
                                max_queue_bytes);
}

} // namespace wsm::detail
