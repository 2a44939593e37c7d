// The broker: one actor per actor system that owns every Beast connection
// (session.hpp); the Asio context they run on belongs to the runtime
// (io/io_runtime.hpp). The actor only makes sessions and routes a
// machine's commands to them; once a link is up its machine writes
// through the session directly.

#include "session/broker.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "io/io_runtime.hpp"
#include "request/tls_context.hpp"
#include "session/session.hpp"
#include "wsm/error.hpp"
#include "wsm/machine.hpp"

namespace wsm::detail {

namespace {

struct broker_state {
  std::shared_ptr<io_runtime> io;
  /// Weak: a session lives as long as its pending operations; the map only
  /// routes commands to it.
  std::unordered_map<uint64_t, std::weak_ptr<session_base>> sessions;
  /// Size at which the map is next swept of ended sessions.
  size_t sweep_at = 64;
  /// One TLS context per set of TLS options: machines that share options
  /// share certificates, store and session cache.
  std::map<std::string, std::shared_ptr<net::ssl::context>> tls_contexts;

  static inline const char* name = "wsm.broker";

  std::shared_ptr<session_base> find(uint64_t id) {
    auto i = sessions.find(id);
    return i == sessions.end() ? nullptr : i->second.lock();
  }

  void sweep() {
    for (auto i = sessions.begin(); i != sessions.end();)
      i = i->second.expired() ? sessions.erase(i) : std::next(i);
    sweep_at = std::max<size_t>(64, sessions.size() * 2);
  }

  /// The context for `opts`, made on first use.
  caf::expected<std::shared_ptr<net::ssl::context>>
  tls_context_for(const tls_options& opts) {
    auto key = opts.ca_file + '\0' + opts.ca_path + '\0' + opts.cert_file
               + '\0' + opts.key_file + '\0'
               + (opts.insecure_skip_verify ? "insecure" : "verify");
    if (auto i = tls_contexts.find(key); i != tls_contexts.end())
      return i->second;
    auto native = make_tls_context(opts);
    if (!native)
      return std::move(native.error());
    // Asio's context takes over one reference to OpenSSL's.
    SSL_CTX_up_ref(native->get());
    auto result = std::make_shared<net::ssl::context>(native->get());
    tls_contexts.emplace(std::move(key), result);
    return result;
  }

  /// A session of the right kind for `request`, or why there can be none.
  caf::expected<std::shared_ptr<session_base>>
  make_session(uint64_t id, caf::actor_addr machine, connect_request request) {
    // Not make_shared: the map's weak reference would keep the whole
    // session's memory until the next sweep, not just a control block.
    // Connections take the threads' contexts in turn.
    auto executor = io->next().get_executor();
    // TLS to an https:// proxy needs a TLS stream for a ws:// URL too.
    if (!request.secure && request.proxy.kind != proxy_kind::https)
      return std::shared_ptr<session_base>{new session<plain_stream>(
        executor, id, std::move(machine), std::move(request), nullptr)};
    auto context = tls_context_for(request.tls);
    if (!context)
      return std::move(context.error());
    return std::shared_ptr<session_base>{new session<tls_stream>(
      executor, id, std::move(machine), std::move(request), *context,
      **context)};
  }
};

using broker_self = broker_actor::stateful_pointer<broker_state>;

broker_actor::behavior_type broker(broker_self self,
                                   std::shared_ptr<io_runtime> io) {
  self->state.io = std::move(io);
  return {
    [=](open_atom, uint64_t id, connect_request& request) {
      auto& st = self->state;
      auto machine = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto made = st.make_session(id, machine, std::move(request));
      if (!made) {
        // Checked at spawn; a file may have gone since.
        caf::anon_send(caf::actor_cast<machine_transport_actor>(machine),
                       closed_atom::value, id,
                       disconnect_info{close_cause::tls,
                                       describe(made.error())});
        return;
      }
      auto& s = *made;
      st.sessions.emplace(id, s);
      if (st.sessions.size() >= st.sweep_at)
        st.sweep();
      s->start();
    },
    [=](write_atom, uint64_t id, std::string& payload, bool text) {
      if (auto s = self->state.find(id))
        s->write(std::make_shared<const std::string>(std::move(payload)),
                 text);
    },
    [=](ping_atom, uint64_t id) {
      if (auto s = self->state.find(id))
        s->ping({});
    },
    [=](ping_atom, uint64_t id, const std::string& payload) {
      if (auto s = self->state.find(id))
        s->ping(payload);
    },
    [=](close_atom, uint64_t id) {
      auto& st = self->state;
      if (auto s = st.find(id))
        s->close();
      st.sessions.erase(id);
    },
    [=](abort_atom, uint64_t id) {
      auto& st = self->state;
      if (auto s = st.find(id))
        s->abort();
      st.sessions.erase(id);
    },
    [=](pause_atom, uint64_t id) {
      if (auto s = self->state.find(id))
        s->pause_reading();
    },
    [=](resume_atom, uint64_t id) {
      if (auto s = self->state.find(id))
        s->resume_reading();
    },
  };
}

} // namespace

broker_actor spawn_broker(caf::actor_system& sys,
                          std::shared_ptr<io_runtime> io) {
  return sys.spawn<caf::hidden>(broker, std::move(io));
}

} // namespace wsm::detail
