#include "wsm/backoff.hpp"
#include "wsm/pool.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/node_id.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "observability/machine_registry.hpp"
#include "pool/pool_member.hpp"
#include "runtime/runtime.hpp"
#include "request/url.hpp"
#include "wsm/error.hpp"

namespace wsm {

bool operator==(const placement& x, const placement& y) noexcept {
  return x.id == y.id && x.member == y.member && x.url == y.url
         && x.node == y.node;
}

namespace {

/// Bounds connecting to a node and a node's answer to a spawn request; a
/// node that does not answer in time is treated as lost.
constexpr auto node_timeout = std::chrono::seconds(10);

struct node_entry {
  std::string name;
  spawner_actor spawner;
  /// Members whose machine runs there or is being placed there: kept as
  /// members move (see `move_member`), so that choosing a node does not
  /// count the table.
  size_t machines = 0;
};

/// A node added by address: when its link goes, the pool connects again,
/// after a pause that follows `node_retry`.
struct node_address {
  std::string host;
  uint16_t port = 0;
  /// Failed attempts since the node was last reached.
  uint32_t failures = 0;
  /// Whether a retry is on its way (never two at once).
  bool retrying = false;
};

/// The pauses between attempts to reach a lost node: doubling from half a
/// second up to 30 seconds, without jitter (one pool, few nodes).
const backoff_policy node_retry{std::chrono::milliseconds(500), 2.0,
                                std::chrono::seconds(30), 0.0};

struct member_entry {
  detail::member_actor member;
  std::string url;
  options opts;
  /// The node its machine runs on, or is being placed on; empty while it
  /// waits for a node.
  std::string node;
  /// Counts placement requests, so that a late answer to an abandoned one
  /// is told apart.
  uint64_t ticket = 0;
};

/// `remote_link_unreachable` rather than CAF's `exit_reason(...)` rendering.
std::string reason_text(const caf::error& reason) {
  if (reason.category() == caf::atom("exit"))
    return caf::to_string(static_cast<caf::exit_reason>(reason.code()));
  return describe(reason);
}

/// The URL and options as far as they can be checked here: TLS files are
/// checked on the node that runs the machine, where they must exist.
caf::error check_spawn(const std::string& url, const options& opts) {
  auto request = detail::make_connect_request(url, opts,
                                              detail::tls_files::leave_to_node);
  return request ? caf::error{} : std::move(request.error());
}

class pool_impl : public pool_actor::base {
public:
  pool_impl(caf::actor_config& cfg, bool place_locally)
    : pool_actor::base(cfg), place_locally_(place_locally) {
    set_down_handler([this](caf::down_msg& x) { on_down(x); });
  }

  behavior_type make_behavior() override {
    if (place_locally_) {
      auto local = spawn_spawner(system());
      link_to(local);
      add_node(std::move(local), "local");
    }
    return {
      [this](add_node_atom, std::string& host,
             uint16_t port) -> caf::result<std::string> {
        return connect_node(std::move(host), port);
      },
      [this](add_node_atom, const std::string& name, uint32_t) {
        retry_node(name);
      },
      [this](add_node_atom, spawner_actor& spawner,
             std::string& name) -> caf::result<std::string> {
        if (find_node(name) == nodes_.end())
          add_node(std::move(spawner), name);
        return name;
      },
      [this](spawn_atom, std::string& url, options& opts,
             caf::actor& first_subscriber)
        -> caf::result<machine_actor> {
        if (auto err = check_spawn(url, opts))
          return err;
        auto member = detail::spawn_member(system(),
                                           std::move(first_subscriber),
                                           opts.max_queue,
                                           opts.max_queue_bytes);
        monitor(member);
        auto id = ++last_id_;
        members_.emplace(id,
                         member_entry{member, std::move(url), std::move(opts),
                                      {}, 0});
        place(id);
        return machine_actor{member};
      },
      [this](get_atom, placement_atom) {
        std::vector<placement> table;
        for (auto& [id, entry] : members_)
          table.push_back(
            {id, machine_actor{entry.member}, entry.url, entry.node});
        return table;
      },
    };
  }

  void on_exit() override {
    for (auto& entry : members_) {
      caf::anon_send(entry.second.member, command::quit);
      forget_member(entry.second);
    }
    members_.clear();
    nodes_.clear();
  }

private:
  // -- nodes ------------------------------------------------------------------

  std::vector<node_entry>::iterator find_node(const std::string& name) {
    return std::find_if(nodes_.begin(), nodes_.end(),
                        [&](const node_entry& x) { return x.name == name; });
  }

  /// Asks the middleman (CAF's TLS one when the system has it) for the
  /// actor published at host:port: a request, so the pool keeps serving
  /// while the connection is made.
  caf::result<std::string> connect_node(std::string host, uint16_t port) {
    auto name = host + ":" + std::to_string(port);
    if (find_node(name) != nodes_.end())
      return name;
    auto promise = make_response_promise<std::string>();
    reach(host, port,
          [this, promise, name, host, port](caf::error err) mutable {
            if (err) {
              promise.deliver(std::move(err));
              return;
            }
            // Known by address from now on: reached again when lost.
            addresses_[name] = node_address{host, port, 0, false};
            promise.deliver(name);
          });
    return promise;
  }

  /// Connects to the spawner published on host:port and adds it, then
  /// calls `done` with no error, or with the error that kept it out.
  template <class Done>
  void reach(const std::string& host, uint16_t port, Done done) {
    auto name = host + ":" + std::to_string(port);
    auto& sys = system();
    auto connector = sys.has_openssl_manager()
                       ? sys.openssl_manager().actor_handle()
                       : sys.middleman().actor_handle();
    request(connector, node_timeout, caf::connect_atom::value, host, port)
      .then(
        [this, done, name](const caf::node_id&, caf::strong_actor_ptr& ptr,
                           const std::set<std::string>& interface) mutable {
          if (!ptr
              || interface != system().message_types<spawner_actor>()) {
            done(make_error(errc::node_unavailable,
                            "node " + name
                              + ": no wsm spawner is published there"));
            return;
          }
          if (find_node(name) == nodes_.end())
            add_node(caf::actor_cast<spawner_actor>(std::move(ptr)), name);
          done(caf::error{});
        },
        [done, name](caf::error& err) mutable {
          done(make_error(errc::node_unavailable,
                          "node " + name + ": " + reason_text(err)));
        });
  }

  /// Never gives up on a node added by address: the pause after each
  /// failure follows `node_retry`.
  void schedule_retry(const std::string& name) {
    auto i = addresses_.find(name);
    if (i == addresses_.end() || i->second.retrying)
      return;
    i->second.retrying = true;
    // The first retry follows a link that went (no failure yet): the pause
    // is the initial one.
    auto pause = backoff_delay(node_retry, i->second.failures + 1, 0.0);
    delayed_send(this, pause, add_node_atom::value, name, i->second.failures);
  }

  void retry_node(const std::string& name) {
    auto i = addresses_.find(name);
    if (i == addresses_.end())
      return;
    i->second.retrying = false;
    if (find_node(name) != nodes_.end())
      return;
    reach(i->second.host, i->second.port, [this, name](caf::error err) {
      auto j = addresses_.find(name);
      if (j == addresses_.end())
        return;
      if (!err) {
        j->second.failures = 0;
        return;
      }
      ++j->second.failures;
      schedule_retry(name);
    });
  }

  void add_node(spawner_actor spawner, const std::string& name) {
    monitor(spawner);
    nodes_.push_back({name, std::move(spawner)});
    // Members waiting for a node get one now.
    for (auto& [id, entry] : members_)
      if (entry.node.empty())
        place(id);
  }

  /// The node is gone: its machines move to the nodes left, or wait.
  void drop_node(const std::string& name, const std::string& reason) {
    auto i = find_node(name);
    if (i == nodes_.end())
      return;
    demonitor(i->spawner.address());
    nodes_.erase(i);
    auto text = "node '" + name + "' lost: " + reason;
    std::vector<uint64_t> moving;
    for (auto& [id, entry] : members_)
      if (entry.node == name) {
        send(entry.member, detail::node_lost_atom::value, text);
        move_member(entry, {});
        moving.push_back(id);
      }
    for (auto id : moving)
      place(id);
    schedule_retry(name);
  }

  /// Records that `entry`'s machine now belongs on node `to` (none when
  /// empty): the one place where a member's node changes.
  void move_member(member_entry& entry, const std::string& to) {
    if (auto from = find_node(entry.node); from != nodes_.end())
      --from->machines;
    entry.node = to;
    if (auto node = find_node(to); node != nodes_.end())
      ++node->machines;
    // The status page of the pool's process shows which node holds it.
    if (auto registry = detail::registry_of(system()))
      registry->place(entry.member.id(), detail::redact_url(entry.url), {},
                      to.empty() ? "(waiting for a node)" : to);
  }

  /// A member is gone: so is its row on the status page.
  void forget_member(const member_entry& entry) {
    if (auto registry = detail::registry_of(system()))
      registry->forget(entry.member.id());
  }

  const node_entry* least_loaded() const {
    auto best = std::min_element(nodes_.begin(), nodes_.end(),
                                 [](const node_entry& x, const node_entry& y) {
                                   return x.machines < y.machines;
                                 });
    return best == nodes_.end() ? nullptr : &*best;
  }

  // -- members ----------------------------------------------------------------

  /// Asks the least loaded node for the member's machine; the machine's
  /// first subscriber is the member, so it sees the first CONNECTING.
  void place(uint64_t id) {
    auto& entry = members_.at(id);
    auto node = least_loaded();
    if (!node) {
      move_member(entry, {});
      return;
    }
    move_member(entry, node->name);
    auto ticket = ++entry.ticket;
    request(node->spawner, node_timeout, spawn_atom::value, entry.url,
            entry.opts, caf::actor_cast<caf::actor>(entry.member))
      .then(
        [this, id, ticket, name = node->name](machine_actor& machine) {
          auto i = members_.find(id);
          if (i == members_.end() || i->second.ticket != ticket
              || i->second.node != name) {
            // Its member quit, or moved on meanwhile.
            caf::anon_send(machine, command::quit);
            return;
          }
          send(i->second.member, detail::placed_atom::value,
               std::move(machine));
        },
        [this, id, ticket, name = node->name](caf::error& err) {
          auto i = members_.find(id);
          if (i == members_.end() || i->second.ticket != ticket)
            return;
          if (err.category() == caf::atom("wsm")) {
            // The node refused the options (a TLS file missing there):
            // no node will take them.
            send(i->second.member, detail::placed_atom::value, err);
            return;
          }
          drop_node(name, reason_text(err));
        });
  }

  void on_down(const caf::down_msg& x) {
    for (auto& node : nodes_)
      if (node.spawner.address() == x.source) {
        drop_node(node.name, reason_text(x.reason));
        return;
      }
    for (auto i = members_.begin(); i != members_.end(); ++i)
      if (i->second.member.address() == x.source) {
        move_member(i->second, {});
        forget_member(i->second);
        members_.erase(i);
        return;
      }
  }

  bool place_locally_;
  std::vector<node_entry> nodes_;
  /// Nodes added by address, by name, kept when they are lost.
  std::map<std::string, node_address> addresses_;
  std::map<uint64_t, member_entry> members_;
  uint64_t last_id_ = 0;
};

} // namespace

pool_actor spawn_pool(caf::actor_system& sys, bool place_locally) {
  return sys.spawn<pool_impl>(place_locally);
}

} // namespace wsm
