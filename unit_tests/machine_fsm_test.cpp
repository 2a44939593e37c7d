// The machine's state machine on CAF's deterministic scheduler and virtual
// clock, against a fake broker. Each test checks the exact sequence of
// messages a subscriber and the broker see.

#define CAF_SUITE machine_fsm
// dsl.hpp's request() helper reports errors with the short name.
#define FAIL CAF_FAIL

#include <caf/test/dsl.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wsm/config.hpp"
#include "wsm/error.hpp"
#include "wsm/governor.hpp"
#include "machine/machine_impl.hpp"
#include "machine/machine_setup.hpp"
#include "request/url.hpp"
#include "wsm/machine.hpp"

using namespace std::chrono_literals;
using wsm::state;

namespace {

const char* test_url = "ws://feed.example:8080/live?depth=1";

// Test actors are classes: CAF 0.17 dereferences a null argument pack when
// it spawns a function-based actor without arguments.

/// Accepts every broker command and does nothing: the test inspects them.
class fake_broker : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](wsm::open_atom, uint64_t, const wsm::connect_request&) {},
      [](wsm::write_atom, uint64_t, const std::string&, bool) {},
      [](wsm::ping_atom, uint64_t) {},
      [](wsm::ping_atom, uint64_t, const std::string&) {},
      [](wsm::close_atom, uint64_t) {},
      [](wsm::abort_atom, uint64_t) {},
      [](wsm::pause_atom, uint64_t) {},
      [](wsm::resume_atom, uint64_t) {},
    };
  }
};

/// A session gate that logs in with an output of its own, then lets the
/// session open.
class logging_in_gate : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [=](wsm::gate_atom, uint64_t epoch) {
        auto machine = caf::actor_cast<wsm::machine_actor>(current_sender());
        send(machine, wsm::output{"login " + std::to_string(epoch)});
      },
    };
  }
};

/// A session gate that logs in and then takes its time: its answer never
/// comes within the test.
class slow_logging_in_gate : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [=](wsm::gate_atom, uint64_t epoch) -> caf::delegated<void> {
        auto machine = caf::actor_cast<wsm::machine_actor>(current_sender());
        send(machine, wsm::output{"login " + std::to_string(epoch)});
        return {};
      },
    };
  }
};

/// A session gate that refuses.
class refusing_gate : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](wsm::gate_atom, uint64_t) -> caf::result<void> {
        return wsm::make_error(wsm::errc::invalid_option, "bad token");
      },
    };
  }
};

/// A session gate that never answers.
class silent_gate : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      // "Someone else answers", and nobody ever does.
      [](wsm::gate_atom, uint64_t) -> caf::delegated<void> { return {}; },
    };
  }
};

/// Accepts what a machine sends its subscribers.
class fake_subscriber : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](const wsm::status&) {},
      [](const wsm::input&) {},
      [](const wsm::undelivered&) {},
      [](const wsm::stats&) {},
    };
  }
};

/// A request provider. Answering, it sets `Authorization: Bearer tN` for
/// attempt N and another URL from the second attempt on; it may instead
/// fail, never answer, or answer with a header the handshake sets itself.
class token_provider : public caf::event_based_actor {
public:
  enum class mode { answer, fail, silent, bad_header };

  token_provider(caf::actor_config& cfg, mode how)
    : caf::event_based_actor(cfg), how_(how) {
  }

  caf::behavior make_behavior() override {
    return {
      [=](wsm::request_atom, uint32_t attempt)
        -> caf::result<wsm::request_update> {
        switch (how_) {
          case mode::fail:
            return caf::make_error(caf::sec::runtime_error, "token store down");
          case mode::silent:
            // A promise let go unkept: no answer ever comes (CAF 0.17
            // sends none for it), and nothing holds the machine.
            return make_response_promise();
          case mode::bad_header:
            return wsm::request_update{{{"Host", "sneaky"}}, ""};
          case mode::answer:
            break;
        }
        wsm::request_update answer;
        answer.headers = {{"Authorization", "Bearer t" + std::to_string(attempt)}};
        if (attempt >= 2)
          answer.url = "ws://backup.example/live";
        return answer;
      },
    };
  }

private:
  mode how_;
};

/// Reads no file: answers the machine's question for its header file as a
/// header reader would, with a token that changes each time, or with the
/// error the file has.
class fake_header_reader : public caf::event_based_actor {
public:
  fake_header_reader(caf::actor_config& cfg, bool readable)
    : caf::event_based_actor(cfg), readable_(readable) {
  }

  caf::behavior make_behavior() override {
    return {
      [=](wsm::detail::header_file_atom,
          const std::string& path) -> caf::result<wsm::request_update> {
        if (!readable_)
          return wsm::make_error(wsm::errc::invalid_option,
                                 "header file '" + path
                                   + "' line 2: not a header");
        ++reads_;
        return wsm::request_update{
          {{"Authorization", "Bearer file" + std::to_string(reads_)}}, ""};
      },
    };
  }

private:
  bool readable_;
  int reads_ = 0;
};

/// Answers every input with a number, as a handler that returns a value
/// does: not the empty answer the machine expects.
class answering_subscriber : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](const wsm::status&) {},
      [](const wsm::input&) { return 42; },
    };
  }
};

/// A connection handed over with CONNECTED: records what the machine asks
/// of it, in order.
class recording_link : public wsm::link {
public:
  std::vector<std::string> calls;
  /// Writes throw this, as a transport out of memory would.
  bool throw_on_write = false;

  void write(std::shared_ptr<const std::string> payload, bool text) override {
    if (throw_on_write)
      throw std::bad_alloc{};
    calls.push_back("write " + *payload + (text ? " text" : " binary"));
    payloads.push_back(std::move(payload));
  }

  /// The buffers written, as they were handed over.
  std::vector<std::shared_ptr<const std::string>> payloads;

  void ping(const std::string&) override {
    calls.push_back("ping");
  }

  void close() override {
    calls.push_back("close");
  }

  void abort() override {
    calls.push_back("abort");
  }

  void pause_reading() override {
    calls.push_back("pause");
  }

  void consumed(uint64_t count) override {
    consumed_total += count;
  }

  /// Inputs the machine reported as passed on.
  uint64_t consumed_total = 0;

  void resume_reading() override {
    calls.push_back("resume");
  }
};

/// Sends a machine a message as a request and records, under its name,
/// whether the machine dropped it: CAF's `drop`, the machine's default
/// handler, answers a request it drops with `unexpected_message`, where a
/// handler answers with its result (or nothing yet).
class interface_probe : public caf::event_based_actor {
public:
  interface_probe(caf::actor_config& cfg, std::vector<std::string>* dropped)
    : caf::event_based_actor(cfg), dropped_(dropped) {
  }

  caf::behavior make_behavior() override {
    return {
      [=](const caf::actor& machine, const std::string& name,
          caf::message& content) {
        auto id = new_request_id(caf::message_priority::normal);
        auto dropped = dropped_;
        add_multiplexed_response_handler(
          id.response_id(),
          caf::behavior{
            [] {},
            [](const wsm::status&) {},
            [](const wsm::stats&) {},
            [=](caf::error& err) {
              if (err == caf::sec::unexpected_message)
                dropped->push_back(name);
            },
          });
        caf::actor_cast<caf::abstract_actor*>(machine)->enqueue(
          caf::make_mailbox_element(ctrl(), id, {}, std::move(content)),
          context());
      },
    };
  }

private:
  std::vector<std::string>* dropped_;
};

struct fixture : test_coordinator_fixture<wsm::config> {
  caf::actor broker;
  caf::actor relay;
  caf::actor sub;
  /// The machine under test, as the whole of what it handles: the tests
  /// play its broker and its timers too.
  wsm::detail::machine_impl_actor machine;
  wsm::options opts;

  fixture() {
    // No randomness: each pause is exactly what the backoff says.
    opts.retry_delay = 2s;
    opts.backoff_jitter = 0;
    opts.reconnect_jitter = 0s;
    opts.ping_interval = 10s;
    opts.pong_timeout = 3s;
    opts.close_timeout = 3s;
    opts.max_queue = 2;
    // Every link counts as a success, however short (the tests of flap
    // protection set their own).
    opts.min_uptime = 0s;
    broker = sys.spawn<fake_broker>();
    relay = wsm::spawn_timer_relay(sys);
    sub = sys.spawn<fake_subscriber>();
    run();
  }

  ~fixture() override {
    // A live machine re-arms its keepalive forever; end it before the
    // fixture drains the clock.
    if (machine)
      caf::anon_send_exit(machine, caf::exit_reason::kill);
    machine = nullptr;
  }

  /// Spawns the machine and runs its start: CONNECTING and an open request.
  /// Returns the id of the connection it asked for.
  uint64_t start(caf::actor first_subscriber) {
    machine = caf::actor_cast<wsm::detail::machine_impl_actor>(
      unbox(wsm::spawn_machine_with(sys, test_url, opts, first_subscriber,
                                    caf::actor_cast<wsm::broker_actor>(broker),
                                    relay)));
    sched.run_once();
    return expect_open();
  }

  uint64_t start() {
    return start(sub);
  }

  /// Spawns the machine with a request provider answering as `how`, and
  /// runs its start up to CONNECTING. Returns the provider.
  caf::actor start_with_provider(token_provider::mode how) {
    auto provider = sys.spawn<token_provider>(how);
    sched.run(); // the provider starts
    opts.request_provider = provider;
    machine = caf::actor_cast<wsm::detail::machine_impl_actor>(
      unbox(wsm::spawn_machine_with(sys, test_url, opts, sub,
                                    caf::actor_cast<wsm::broker_actor>(broker),
                                    relay)));
    sched.run_once();
    expect_status(state::connecting, "", 1, 0);
    return provider;
  }

  /// Spawns the machine with a header reader that answers (or fails), as
  /// the runtime hands one to a machine with a header file, and runs its
  /// start up to CONNECTING. Returns the reader.
  caf::actor start_with_header_reader(bool readable) {
    auto reader = sys.spawn<fake_header_reader>(readable);
    sched.run(); // the reader starts
    auto request = wsm::detail::make_connect_request(test_url, opts);
    CAF_REQUIRE(request);
    wsm::detail::machine_services services;
    services.broker = caf::actor_cast<wsm::broker_actor>(broker);
    services.timer_relay = relay;
    services.header_reader = reader;
    machine = caf::actor_cast<wsm::detail::machine_impl_actor>(
      wsm::detail::spawn_checked_machine(sys, std::move(*request), opts, sub,
                                         std::move(services)));
    sched.run_once();
    expect_status(state::connecting, "", 1, 0);
    return reader;
  }

  /// The open request the machine sends the broker: the id and request.
  std::pair<uint64_t, wsm::connect_request> expect_open_request() {
    auto [atom, id, request]
      = extract<wsm::open_atom, uint64_t, wsm::connect_request>(broker);
    static_cast<void>(atom);
    expect((wsm::open_atom, uint64_t, wsm::connect_request),
           from(machine).to(broker));
    return {id, request};
  }

  static std::vector<std::string> header_lines(const wsm::connect_request& x) {
    std::vector<std::string> result;
    for (auto& h : x.headers)
      result.push_back(h.name + ": " + h.value);
    return result;
  }

  uint64_t expect_open() {
    auto id = std::get<1>(
      extract<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
    expect((wsm::open_atom, uint64_t, wsm::connect_request),
           from(machine).to(broker));
    return id;
  }

  void expect_status(state s, std::string error, uint32_t attempt,
                     uint64_t epoch) {
    expect_status(wsm::status{s, std::move(error), attempt, epoch});
  }

  /// The status `x`, which in CONNECTED shows the URL of the link (the
  /// test URL, unless `x` says another).
  void expect_status(wsm::status x) {
    if (x.state == state::connected && x.url.empty())
      x.url = test_url;
    expect((wsm::status), from(machine).to(sub).with(x));
  }

  /// DISCONNECTED after a failed attempt, then WAITING with the pause.
  void expect_failed(const std::string& error, uint32_t attempt,
                     uint64_t epoch, caf::timespan pause) {
    expect_status(state::disconnected, error, attempt, epoch);
    expect_status(wsm::status{state::waiting, error, attempt, epoch, pause});
  }

  void expect_write(uint64_t id, std::string payload, bool text) {
    expect((wsm::write_atom, uint64_t, std::string, bool),
           from(machine).to(broker).with(_, id, std::move(payload), text));
  }

  void connected(uint64_t id, wsm::link_info link = {}) {
    inject((wsm::connected_atom, uint64_t, wsm::link_info),
           from(broker).to(machine).with(wsm::connected_atom::value, id,
                                         std::move(link)));
  }

  void closed(uint64_t id, wsm::disconnect_info info) {
    inject((wsm::closed_atom, uint64_t, wsm::disconnect_info),
           from(broker).to(machine).with(wsm::closed_atom::value, id,
                                         std::move(info)));
  }

  void closed(uint64_t id, std::string reason) {
    closed(id, wsm::disconnect_info{wsm::close_cause::network,
                                    std::move(reason)});
  }

  /// The broker delivers one message read from the link.
  void receive_input(uint64_t id, std::string payload) {
    inject((wsm::received_atom, uint64_t, wsm::input),
           from(broker).to(machine).with(wsm::received_atom::value, id,
                                         wsm::input{std::move(payload),
                                                    false}));
  }

  /// The machine takes the next message in its mailbox: a subscriber's
  /// answer to an input (an empty message, which `expect` cannot name).
  void answer_reaches_machine() {
    CAF_REQUIRE(sched.prioritize(machine));
    sched.run_once();
  }

  /// The subscriber handles its next input, `payload`.
  void handled_by(const caf::actor& who, std::string payload) {
    expect((wsm::input), from(machine).to(who).with(
                           wsm::input{std::move(payload), false}));
  }

  /// The machine's stats now. Asked by an actor of its own and answered
  /// without running anything else: the fixture's request() would run
  /// every actor and fire every timer first.
  wsm::stats stats_now() {
    auto observer = sys.spawn<fake_subscriber>();
    caf::send_as(observer, machine, wsm::get_atom::value,
                 wsm::stats_atom::value);
    // The machine takes what is ahead of the request in its mailbox too.
    auto inbox = caf::actor_cast<caf::abstract_actor*>(observer);
    for (int i = 0; i < 64 && inbox->peek_at_next_mailbox_element() == nullptr;
         ++i)
      answer_reaches_machine();
    auto result = std::get<0>(extract<wsm::stats>(observer));
    caf::anon_send_exit(observer, caf::exit_reason::kill);
    return result;
  }

  /// Subscribes a second subscriber and lets the machine answer.
  caf::actor second_subscriber() {
    auto second = sys.spawn<fake_subscriber>();
    consume_messages();
    caf::send_as(sub, machine, wsm::subscribe_atom::value, second);
    expect((wsm::subscribe_atom, caf::actor), from(sub).to(machine));
    expect((wsm::status), from(machine).to(sub));
    return second;
  }

  /// With max_inbox 2 and a second subscriber that is slow: inputs 1 and 2
  /// pause the link, and the first subscriber handles both (every input is
  /// a request at this bound: two answers). Returns the connection id and
  /// the slow subscriber, which has handled nothing.
  std::pair<uint64_t, caf::actor> paused_by_slow_subscriber() {
    opts.max_inbox = 2;
    auto id = start_connected();
    auto slow = second_subscriber();
    receive_input(id, "1");
    receive_input(id, "2");
    expect((wsm::pause_atom, uint64_t), from(machine).to(broker).with(_, id));
    handled_by(sub, "1");
    handled_by(sub, "2");
    answer_reaches_machine();
    answer_reaches_machine();
    return {id, slow};
  }

  void written(uint64_t id, uint64_t count) {
    inject((wsm::written_atom, uint64_t, uint64_t),
           from(broker).to(machine).with(wsm::written_atom::value, id, count));
  }

  /// Spawns a new machine and brings it to the phase `name`: one of each
  /// public state, and the internal ones (gated, closing, suspended).
  void bring_to(const std::string& name) {
    auto saved = opts;
    if (name == "gated")
      opts.gate = sys.spawn<silent_gate>();
    if (name == "disconnected")
      opts.reconnect_jitter = 1h; // the retry waits
    sched.run(); // start() runs the machine's first job
    auto id = start();
    opts = saved;
    if (name == "waiting")
      closed(id, "connect: Connection refused");
    else if (name == "suspended")
      send_command(wsm::command::suspend);
    else if (name != "connecting")
      connected(id);
    if (name == "closing")
      send_command(wsm::command::quit);
    else if (name == "disconnected")
      closed(id, "read: End of file");
    sched.run();
  }

  /// Every message of `wsm::machine_actor`'s vocabulary, each command value
  /// on its own, by name.
  std::vector<std::pair<std::string, caf::message>> user_vocabulary() {
    std::vector<std::pair<std::string, caf::message>> result{
      {"output", caf::make_message(wsm::output{"x"})},
      {"subscribe", caf::make_message(wsm::subscribe_atom::value,
                                      caf::actor{sys.spawn<fake_subscriber>()})},
      {"unsubscribe", caf::make_message(wsm::unsubscribe_atom::value, sub)},
      {"get status",
       caf::make_message(wsm::get_atom::value, wsm::status_atom::value)},
      {"get stats",
       caf::make_message(wsm::get_atom::value, wsm::stats_atom::value)},
      {"ping with a payload",
       caf::make_message(wsm::command::ping, std::string{"hi"})},
      {"room", caf::make_message(wsm::room_atom::value, uint64_t{1})},
      {"confirm", caf::make_message(wsm::confirm_atom::value, std::string{"7"})},
    };
    for (uint8_t i = 0; i <= static_cast<uint8_t>(wsm::command::resume); ++i) {
      auto x = static_cast<wsm::command>(i);
      result.emplace_back(wsm::to_string(x), caf::make_message(x));
    }
    return result;
  }

  /// Sends message `name` of the user vocabulary to a new machine in
  /// phase `phase` and returns whether the machine dropped it.
  bool dropped_in(const std::string& phase, const std::string& name,
                  caf::message content) {
    bring_to(phase);
    std::vector<std::string> dropped;
    auto probe = sys.spawn<interface_probe>(&dropped);
    caf::anon_send(probe, caf::actor_cast<caf::actor>(machine), name,
                   std::move(content));
    sched.run();
    caf::anon_send_exit(probe, caf::exit_reason::kill);
    caf::anon_send_exit(machine, caf::exit_reason::kill);
    sched.run();
    return !dropped.empty();
  }

  /// Sends `payload` as a request the machine must refuse, and returns the
  /// refusal: its text and its code.
  std::pair<std::string, uint8_t> refusal_of(std::string payload) {
    auto answer = self->request(machine, caf::infinite,
                                wsm::output{std::move(payload)});
    expect((wsm::output), from(_).to(machine));
    std::pair<std::string, uint8_t> result;
    answer.receive([] { CAF_FAIL("a refused output answered success"); },
                   [&](caf::error& err) {
                     result = {wsm::describe(err), err.code()};
                   });
    return result;
  }

  void send_command(wsm::command x) {
    inject((wsm::command), from(sub).to(machine).with(x));
  }

  void send_output(std::string payload,
                   wsm::frame_format format = wsm::frame_format::machine_default) {
    inject((wsm::output), from(sub).to(machine).with(
                            wsm::output{std::move(payload), format}));
  }

  /// The machine asks `gate` about link `id` of `epoch`, and the gate's
  /// login goes out at once.
  void expect_gate_login(const caf::actor& gate, uint64_t id, uint64_t epoch) {
    expect((wsm::gate_atom, uint64_t), from(machine).to(gate).with(_, epoch));
    expect((wsm::output), from(gate).to(machine));
    expect_write(id, "login " + std::to_string(epoch), false);
  }

  /// An output that asks for confirmation under `id`.
  void send_confirmed(std::string payload, std::string id) {
    inject((wsm::output),
           from(sub).to(machine).with(
             wsm::confirmed_output(std::move(payload), std::move(id))));
  }

  /// The application confirms `id`, as a subscriber that read the server's
  /// acknowledgement does.
  void confirm(std::string id) {
    inject((wsm::confirm_atom, std::string),
           from(sub).to(machine).with(wsm::confirm_atom::value,
                                      std::move(id)));
  }

  /// After a link that was up dropped (no jitter): the retry the machine
  /// sends itself, CONNECTING as the first attempt of `epoch`, and the open.
  /// Returns the new connection's id.
  uint64_t expect_immediate_retry(uint64_t epoch) {
    expect((wsm::detail::retry_atom, uint64_t), from(_).to(machine));
    expect_status(state::connecting, "", 1, epoch);
    return expect_open();
  }

  /// Lets the next timer fire and carries it through the relay.
  template <class Atom>
  void expect_timer(Atom) {
    CAF_REQUIRE(sched.trigger_timeout());
    expect((caf::atom_value, caf::actor_addr, caf::message),
           from(_).to(relay));
    expect((Atom, uint64_t), from(_).to(machine));
  }

  /// Connects the machine: CONNECTING, CONNECTED. Returns the connection id.
  uint64_t start_connected() {
    auto id = start();
    expect_status(state::connecting, "", 1, 0);
    connected(id);
    expect_status(state::connected, "", 1, 1);
    return id;
  }

  /// Connects the machine with a broker that hands over the connection:
  /// CONNECTING, CONNECTED. Returns the id and the connection.
  std::pair<uint64_t, std::shared_ptr<recording_link>> start_with_link() {
    auto id = start();
    expect_status(state::connecting, "", 1, 0);
    auto direct = std::make_shared<recording_link>();
    wsm::link_info link;
    link.direct = direct;
    connected(id, std::move(link));
    expect_status(state::connected, "", 1, 1);
    return {id, direct};
  }

  bool machine_is_alive() {
    return sched.has_job() || caf::actor_cast<caf::abstract_actor*>(machine)
                                  ->getf(caf::abstract_actor::is_terminated_flag)
                                == 0;
  }

  bool is_terminated(const wsm::machine_actor& x) {
    return caf::actor_cast<caf::abstract_actor*>(x)->getf(
             caf::abstract_actor::is_terminated_flag)
           != 0;
  }
};

} // namespace

/// A governor that books every attempt `wait` ahead.
caf::behavior fixed_governor(caf::event_based_actor*, caf::timespan wait) {
  return {[=](wsm::slot_atom, const std::string&) { return wait; }};
}

CAF_TEST_FIXTURE_SCOPE(machine_fsm_tests, fixture)

CAF_TEST(the first subscriber sees the very first CONNECTING) {
  auto id = start();
  CAF_CHECK_NOT_EQUAL(id, 0u);
  expect_status(state::connecting, "", 1, 0);
}

CAF_TEST(the broker is asked to open the parsed URL) {
  opts.headers.push_back({"Authorization", "Bearer x"});
  machine = caf::actor_cast<wsm::detail::machine_impl_actor>(
    unbox(wsm::spawn_machine_with(
    sys, test_url, opts, sub, caf::actor_cast<wsm::broker_actor>(broker),
    relay)));
  sched.run_once();
  auto request = std::get<2>(
    extract<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
  CAF_CHECK_EQUAL(request.host, "feed.example");
  CAF_CHECK_EQUAL(request.port, "8080");
  CAF_CHECK_EQUAL(request.host_header, "feed.example:8080");
  CAF_CHECK_EQUAL(request.target, "/live?depth=1");
  CAF_REQUIRE_EQUAL(request.headers.size(), 1u);
  CAF_CHECK_EQUAL(request.headers[0].name, "Authorization");
  CAF_CHECK(request.close_timeout == opts.close_timeout);
}

CAF_TEST(a bad URL is refused at spawn and no actor runs) {
  auto result = wsm::spawn_machine_with(
    sys, "http://feed.example/", opts, sub,
    caf::actor_cast<wsm::broker_actor>(broker), relay);
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(wsm::describe(result.error()),
                  "invalid URL 'http://feed.example/': scheme must be ws:// or "
                  "wss://, not http://");
  CAF_CHECK(!sched.has_job());
}

CAF_TEST(a successful attempt gives CONNECTING then CONNECTED) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  connected(id);
  expect_status(state::connected, "", 1, 1);
  CAF_CHECK(!sched.has_job());
}

CAF_TEST(with a governor each attempt waits for its slot in CONNECTING) {
  auto governor = sys.spawn(fixed_governor, caf::timespan{300ms});
  consume_messages(); // its start
  machine = caf::actor_cast<wsm::detail::machine_impl_actor>(
    unbox(wsm::spawn_machine_with(
    sys, test_url, opts, sub, caf::actor_cast<wsm::broker_actor>(broker),
    relay, governor)));
  sched.run_once();
  expect_status(state::connecting, "", 1, 0);
  expect((wsm::slot_atom, std::string),
         from(machine).to(governor).with(_, "feed.example:8080"));
  expect((caf::timespan), from(governor).to(machine));
  // Nothing goes to the broker before the slot.
  CAF_CHECK_EQUAL(sched.clock().advance_time(299ms), 0u);
  CAF_CHECK(!sched.has_job());
  expect_timer(wsm::detail::slot_timer_atom{});
  auto id = expect_open();
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  // The retry asks again: every attempt has its slot.
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  expect((wsm::slot_atom, std::string), from(machine).to(governor));
  expect((caf::timespan), from(governor).to(machine));
  expect_timer(wsm::detail::slot_timer_atom{});
  connected(expect_open());
  expect_status(state::connected, "", 2, 1);
}

CAF_TEST(CONNECTED carries what the handshake agreed and later states do not) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  connected(id, wsm::link_info{"chat.v2", true});
  wsm::status up{state::connected, "", 1, 1};
  up.subprotocol = "chat.v2";
  up.compressed = true;
  expect_status(up);
  closed(id, "closed by peer: 1000");
  // The agreement belonged to the link that is gone.
  expect_status(state::disconnected, "closed by peer: 1000", 1, 1);
  connected(expect_immediate_retry(1));
  expect_status(state::connected, "", 1, 2);
}

CAF_TEST(a failed attempt gives DISCONNECTED then WAITING then a retry) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  // Nothing happens before retry_delay has passed.
  CAF_CHECK_EQUAL(sched.clock().advance_time(opts.retry_delay - 1ms), 0u);
  CAF_CHECK(!sched.has_job());
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  auto second = expect_open();
  CAF_CHECK_NOT_EQUAL(second, id);
  connected(second);
  expect_status(state::connected, "", 2, 1);
}

CAF_TEST(a dropped link reconnects at once) {
  auto id = start_connected();
  closed(id, "closed by peer: 1000");
  expect_status(state::disconnected, "closed by peer: 1000", 1, 1);
  auto second = expect_immediate_retry(1);
  connected(second);
  expect_status(state::connected, "", 1, 2);
}

CAF_TEST(quit while connecting abandons the attempt and ends) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_command(wsm::command::quit);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected, "", 1, 0);
  CAF_CHECK(is_terminated(machine));
}

CAF_TEST(quit while waiting ends at once) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  closed(id, "resolve: Host not found");
  expect_failed("resolve: Host not found", 1, 0, 2s);
  send_command(wsm::command::quit);
  expect_status(state::disconnected, "", 1, 0);
  CAF_CHECK(is_terminated(machine));
  // The retry timer fires into nothing.
  sched.trigger_timeouts();
  run();
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
}

CAF_TEST(quit while disconnected ends before the reconnect) {
  auto id = start_connected();
  // Both are in the mailbox before the machine runs: the retry it sends
  // itself on the drop comes after the quit.
  caf::send_as(broker, machine, wsm::closed_atom::value, id,
               wsm::disconnect_info{wsm::close_cause::network,
                                    "read: End of file"});
  caf::send_as(sub, machine, wsm::command::quit);
  expect((wsm::closed_atom, uint64_t, wsm::disconnect_info),
         from(broker).to(machine));
  expect_status(state::disconnected, "read: End of file", 1, 1);
  expect((wsm::command), from(sub).to(machine));
  expect_status(state::disconnected, "", 0, 1);
  CAF_CHECK(is_terminated(machine));
  run();
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
}

CAF_TEST(quit while disconnected with a queue writes it on the next link) {
  auto id = start_connected();
  // The drop, an output and the quit are in the mailbox before the machine
  // runs: the retry it sends itself on the drop comes after the quit, which
  // has started the next attempt already.
  caf::send_as(broker, machine, wsm::closed_atom::value, id,
               wsm::disconnect_info{wsm::close_cause::network,
                                    "read: End of file"});
  caf::send_as(sub, machine, wsm::output{"one"});
  caf::send_as(sub, machine, wsm::command::quit);
  expect((wsm::closed_atom, uint64_t, wsm::disconnect_info),
         from(broker).to(machine));
  expect_status(state::disconnected, "read: End of file", 1, 1);
  expect((wsm::output), from(sub).to(machine));
  expect((wsm::command), from(sub).to(machine));
  expect_status(state::connecting, "", 1, 1);
  auto second = expect_open();
  // The stale retry is dropped: the machine lives on, and nothing opens.
  expect((wsm::detail::retry_atom, uint64_t), from(_).to(machine));
  CAF_CHECK(!is_terminated(machine));
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
  connected(second);
  expect_status(state::connected, "", 1, 2);
  expect_write(second, "one", false);
  expect((wsm::close_atom, uint64_t),
         from(machine).to(broker).with(_, second));
  written(second, 1);
  closed(second, wsm::disconnect_info{wsm::close_cause::closed_by_machine,
                                      "closed", 0, 1000});
  expect_status(wsm::status{state::disconnected, "", 1, 2, {}, 0, 1000});
  CAF_CHECK(is_terminated(machine));
  CAF_CHECK(!received<wsm::undelivered>(sub));
}

CAF_TEST(a stray error message does not end the machine) {
  auto id = start_connected();
  caf::anon_send(caf::actor_cast<caf::actor>(machine),
                 caf::make_error(caf::sec::unexpected_message));
  expect((caf::error), from(_).to(machine));
  CAF_CHECK(!is_terminated(machine));
  send_output("still here");
  expect_write(id, "still here", false);
}

CAF_TEST(quit while connected closes gracefully then ends) {
  auto id = start_connected();
  send_command(wsm::command::quit);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  // Still CONNECTED until the close handshake is over.
  CAF_CHECK(!received<wsm::status>(sub));
  CAF_CHECK(!is_terminated(machine));
  closed(id, wsm::disconnect_info{wsm::close_cause::closed_by_machine,
                                  "closed", 0, 1000});
  // The close code the machine sent is in the last status.
  expect_status(wsm::status{state::disconnected, "", 1, 1, {}, 0, 1000});
  CAF_CHECK(is_terminated(machine));
  CAF_CHECK(!received<wsm::close_atom, uint64_t>(broker));
}

CAF_TEST(quit while connected ends after the close timeout without an answer) {
  auto id = start_connected();
  send_command(wsm::command::quit);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  // The keepalive timer comes first and is stale by now.
  sched.clock().advance_time(opts.close_timeout - 1ms);
  CAF_CHECK(!sched.has_job());
  expect_timer(wsm::detail::close_timeout_atom{});
  // The last status says why it ended without the peer's answer.
  expect_status(state::disconnected, "close timed out after 3000ms", 1, 1);
  CAF_CHECK(is_terminated(machine));
}

CAF_TEST(a close the broker gave up on says so in the last status) {
  auto id = start_connected();
  send_command(wsm::command::quit);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  closed(id, wsm::disconnect_info{wsm::close_cause::timeout,
                                  "close timed out after 3000ms"});
  expect_status(state::disconnected, "close timed out after 3000ms", 1, 1);
  CAF_CHECK(is_terminated(machine));
}

CAF_TEST(outputs while not connected are queued and written in order) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_output("one");
  send_output("two");
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  connected(id);
  expect_status(state::connected, "", 1, 1);
  expect_write(id, "one", false);
  expect_write(id, "two", false);
}

CAF_TEST(a full queue hands the newest output back to its sender) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_output("one");
  send_output("two");
  send_output("three");
  expect((wsm::undelivered), from(machine).to(sub).with(
                               wsm::undelivered{"three", "queue full"}));
  connected(id);
  expect_status(state::connected, "", 1, 1);
  expect_write(id, "one", false);
  expect_write(id, "two", false);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
}

CAF_TEST(the queue survives failed attempts) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_output("kept");
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  send_output("also kept");
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  auto second = expect_open();
  connected(second);
  expect_status(state::connected, "", 2, 1);
  expect_write(second, "kept", false);
  expect_write(second, "also kept", false);
}

CAF_TEST(quit with a queue first tries to write it) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_output("one");
  send_command(wsm::command::quit);
  CAF_CHECK(!received<wsm::close_atom, uint64_t>(broker));
  CAF_CHECK(!received<wsm::status>(sub));
  connected(id);
  expect_status(state::connected, "", 1, 1);
  expect_write(id, "one", false);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  written(id, 1);
  closed(id, wsm::disconnect_info{wsm::close_cause::closed_by_machine,
                                  "closed", 0, 1000});
  expect_status(wsm::status{state::disconnected, "", 1, 1, {}, 0, 1000});
  CAF_CHECK(is_terminated(machine));
  CAF_CHECK(!received<wsm::undelivered>(sub));
}

CAF_TEST(quit with a queue and no link hands it back after close_timeout) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_output("one");
  send_command(wsm::command::quit);
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  // The wait is 2s, the quit's deadline 3s: one more attempt fits.
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  auto second = expect_open();
  expect_timer(wsm::detail::quit_deadline_atom{});  // the deadline of the quit
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, second));
  expect((wsm::undelivered), from(machine).to(sub).with(wsm::undelivered{
                               "one", "quit: no link to write it within "
                                      "close_timeout"}));
  expect_status(state::disconnected, "", 2, 0);
  CAF_CHECK(is_terminated(machine));
}

CAF_TEST(outputs are binary by default and follow use_text and use_binary) {
  auto id = start_connected();
  // Each is acknowledged before the next: max_queue (2) bounds what is
  // in flight too.
  auto output_written = [&](std::string payload, wsm::frame_format format,
                            bool text) {
    send_output(payload, format);
    expect_write(id, payload, text);
    written(id, 1);
  };
  output_written("a", wsm::frame_format::machine_default, false);
  send_command(wsm::command::use_text);
  output_written("b", wsm::frame_format::machine_default, true);
  output_written("c", wsm::frame_format::binary, false);
  send_command(wsm::command::use_binary);
  output_written("d", wsm::frame_format::machine_default, false);
  output_written("e", wsm::frame_format::text, true);
}

CAF_TEST(the text option starts the machine in text mode) {
  opts.text = true;
  auto id = start_connected();
  send_output("a");
  expect_write(id, "a", true);
}

CAF_TEST(ping sends a ping on a live link only) {
  start();
  expect_status(state::connecting, "", 1, 0);
  send_command(wsm::command::ping);
  CAF_CHECK(!received<wsm::ping_atom, uint64_t>(broker));
}

CAF_TEST(ping while connected goes to the broker at once) {
  auto id = start_connected();
  send_command(wsm::command::ping);
  expect((wsm::ping_atom, uint64_t), from(machine).to(broker).with(_, id));
}

CAF_TEST(a connection handed over with CONNECTED gets the commands) {
  auto [id, direct] = start_with_link();
  inject((wsm::output), from(sub).to(machine).with(wsm::output{"one"}));
  // Acknowledgements still come as messages.
  written(id, 1);
  send_command(wsm::command::ping);
  send_command(wsm::command::quit);
  // Nothing went through the broker, everything to the connection.
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  CAF_CHECK(!received<wsm::ping_atom, uint64_t>(broker));
  CAF_CHECK(!received<wsm::close_atom, uint64_t>(broker));
  CAF_CHECK_EQUAL(direct->calls,
                  (std::vector<std::string>{"write one binary", "ping",
                                            "close"}));
  closed(id, wsm::disconnect_info{wsm::close_cause::closed_by_machine,
                                  "closed", 0, 1000});
  expect_status(wsm::status{state::disconnected, "", 1, 1, {}, 0, 1000});
  CAF_CHECK(is_terminated(machine));
  // The machine let go of the connection.
  CAF_CHECK_EQUAL(direct.use_count(), 1);
}

CAF_TEST(a dead peer aborts a connection that was handed over) {
  auto [id, direct] = start_with_link();
  sched.clock().advance_time(opts.ping_interval);
  expect((caf::atom_value, caf::actor_addr, caf::message), from(_).to(relay));
  expect((wsm::detail::keepalive_atom, uint64_t), from(_).to(machine));
  CAF_CHECK(!received<wsm::ping_atom, uint64_t>(broker));
  expect_timer(wsm::detail::pong_timeout_atom{});
  CAF_CHECK(!received<wsm::abort_atom, uint64_t>(broker));
  expect_status(state::disconnected,
                "no pong within 3000ms: the peer is gone", 1, 1);
  CAF_CHECK_EQUAL(direct->calls,
                  (std::vector<std::string>{"ping", "abort"}));
  CAF_CHECK_EQUAL(direct.use_count(), 1);
  // The next attempt goes to the broker again.
  expect_immediate_retry(1);
}

CAF_TEST(a keepalive ping goes out after ping_interval of silence) {
  auto id = start_connected();
  sched.clock().advance_time(opts.ping_interval - 1ms);
  CAF_CHECK(!sched.has_job());
  expect_timer(wsm::detail::keepalive_atom{});
  expect((wsm::ping_atom, uint64_t), from(machine).to(broker).with(_, id));
  inject((wsm::pong_atom, uint64_t),
         from(broker).to(machine).with(wsm::pong_atom::value, id));
  // The pong came in time: its deadline passes without effect.
  expect_timer(wsm::detail::pong_timeout_atom{});
  CAF_CHECK(!sched.has_job());
  // And again after another silent interval.
  expect_timer(wsm::detail::keepalive_atom{});
  expect((wsm::ping_atom, uint64_t), from(machine).to(broker).with(_, id));
}

CAF_TEST(a pong timeout longer than the ping interval still finds a dead peer) {
  opts.pong_timeout = 25s; // two and a half ping intervals
  auto id = start_connected();
  sched.clock().advance_time(opts.ping_interval);
  expect((caf::atom_value, caf::actor_addr, caf::message), from(_).to(relay));
  expect((wsm::detail::keepalive_atom, uint64_t), from(_).to(machine));
  expect((wsm::ping_atom, uint64_t), from(machine).to(broker).with(_, id));
  // The keepalives at 20s and 30s send no second ping...
  expect_timer(wsm::detail::keepalive_atom{});
  expect_timer(wsm::detail::keepalive_atom{});
  CAF_CHECK(!received<wsm::ping_atom, uint64_t>(broker));
  // ...so the first ping's deadline at 35s still counts.
  expect_timer(wsm::detail::pong_timeout_atom{});
  expect((wsm::abort_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected,
                "no pong within 25000ms: the peer is gone", 1, 1);
}

CAF_TEST(no pong within pong_timeout drops the link and reconnects) {
  auto id = start_connected();
  sched.clock().advance_time(opts.ping_interval);
  expect((caf::atom_value, caf::actor_addr, caf::message), from(_).to(relay));
  expect((wsm::detail::keepalive_atom, uint64_t), from(_).to(machine));
  expect((wsm::ping_atom, uint64_t), from(machine).to(broker).with(_, id));
  CAF_CHECK_EQUAL(sched.clock().advance_time(opts.pong_timeout - 1ms), 0u);
  expect_timer(wsm::detail::pong_timeout_atom{});
  expect((wsm::abort_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected,
                "no pong within 3000ms: the peer is gone", 1, 1);
  expect_immediate_retry(1);
}

CAF_TEST(hearing from the peer postpones the keepalive ping) {
  auto id = start_connected();
  sched.clock().advance_time(opts.ping_interval / 2);
  inject((wsm::received_atom, uint64_t, wsm::input),
         from(broker).to(machine).with(wsm::received_atom::value, id,
                                       wsm::input{"tick", true}));
  expect((wsm::input), from(machine).to(sub).with(wsm::input{"tick", true}));
  // The first timer finds the link was not silent for a whole interval.
  expect_timer(wsm::detail::keepalive_atom{});
  CAF_CHECK(!received<wsm::ping_atom, uint64_t>(broker));
  CAF_CHECK_EQUAL(sched.clock().advance_time(opts.ping_interval / 2 - 1ms), 0u);
  expect_timer(wsm::detail::keepalive_atom{});
  expect((wsm::ping_atom, uint64_t), from(machine).to(broker).with(_, id));
}

CAF_TEST(a pong counts as hearing from the peer) {
  auto id = start_connected();
  sched.clock().advance_time(opts.ping_interval / 2);
  inject((wsm::pong_atom, uint64_t),
         from(broker).to(machine).with(wsm::pong_atom::value, id));
  expect_timer(wsm::detail::keepalive_atom{});
  CAF_CHECK(!received<wsm::ping_atom, uint64_t>(broker));
}

CAF_TEST(every subscriber gets the same input message without a copy) {
  auto id = start_connected();
  auto second = sys.spawn<fake_subscriber>();
  consume_messages();
  caf::send_as(sub, machine, wsm::subscribe_atom::value, second);
  expect((wsm::subscribe_atom, caf::actor), from(sub).to(machine));
  // The reply is the current status.
  expect_status(wsm::status{state::connected, "", 1, 1});
  caf::send_as(broker, machine, wsm::received_atom::value, id,
               wsm::input{std::string(1000, 'x'), false});
  sched.prioritize(machine);
  sched.run_once();
  auto first_message = caf::actor_cast<caf::abstract_actor*>(sub)
                         ->peek_at_next_mailbox_element();
  auto second_message = caf::actor_cast<caf::abstract_actor*>(second)
                          ->peek_at_next_mailbox_element();
  CAF_REQUIRE(first_message != nullptr && second_message != nullptr);
  CAF_CHECK(first_message->copy_content_to_message().cvals().get()
            == second_message->copy_content_to_message().cvals().get());
  expect((wsm::input), from(machine).to(sub).with(
                         wsm::input{std::string(1000, 'x'), false}));
  expect((wsm::input), from(machine).to(second).with(
                         wsm::input{std::string(1000, 'x'), false}));
}

CAF_TEST(subscribe replies with the current status and get returns it) {
  start();
  expect_status(state::connecting, "", 1, 0);
  auto status = request<wsm::status>(machine, wsm::get_atom::value,
                                     wsm::status_atom::value);
  CAF_CHECK_EQUAL(status, (wsm::status{state::connecting, "", 1, 0}));
}

CAF_TEST(an unsubscribed actor sees nothing more) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  caf::send_as(sub, machine, wsm::unsubscribe_atom::value, sub);
  expect((wsm::unsubscribe_atom, caf::actor), from(sub).to(machine));
  connected(id);
  CAF_CHECK(!received<wsm::status>(sub));
}

CAF_TEST(events of an abandoned connection are ignored) {
  auto old_id = start_connected();
  closed(old_id, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 1, 1);
  auto id = expect_immediate_retry(1);
  // Late events of the old connection change nothing.
  connected(old_id);
  closed(old_id, "late");
  inject((wsm::received_atom, uint64_t, wsm::input),
         from(broker).to(machine).with(wsm::received_atom::value, old_id,
                                       wsm::input{"late", false}));
  CAF_CHECK(!received<wsm::status>(sub));
  CAF_CHECK(!received<wsm::input>(sub));
  connected(id);
  expect_status(state::connected, "", 1, 2);
}

CAF_TEST(a timer armed in an earlier state is ignored) {
  auto id = start_connected();
  // The keepalive of the first link is pending when the link drops.
  closed(id, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 1, 1);
  auto second = expect_immediate_retry(1);
  sched.clock().advance_time(opts.ping_interval / 2);
  connected(second);
  expect_status(state::connected, "", 1, 2);
  // The old keepalive fires now; the new link is not due a ping yet.
  expect_timer(wsm::detail::keepalive_atom{});
  CAF_CHECK(!received<wsm::ping_atom, uint64_t>(broker));
}

CAF_TEST(a timer of another phase changes nothing whatever its stamp) {
  auto id = start_connected();
  // The live link's timers share one handler with the rest of the phase's
  // timers: a retry, a slot or a close timeout is none of them.
  for (uint64_t stamp = 0; stamp < 4; ++stamp) {
    inject((wsm::detail::retry_atom, uint64_t),
           from(relay).to(machine).with(wsm::detail::retry_atom::value, stamp));
    inject((wsm::detail::slot_timer_atom, uint64_t),
           from(relay).to(machine).with(wsm::detail::slot_timer_atom::value, stamp));
    inject((wsm::detail::close_timeout_atom, uint64_t),
           from(relay).to(machine).with(wsm::detail::close_timeout_atom::value, stamp));
  }
  CAF_CHECK(!received<wsm::status>(sub));
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
  CAF_CHECK(!received<wsm::close_atom, uint64_t>(broker));
  // The link is still up and writes.
  send_output("still connected");
  expect_write(id, "still connected", false);
}

CAF_TEST(a retry timer left behind by reconnect does not start a second attempt) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  // One second into the wait, reconnect skips it; its timer stays armed.
  sched.clock().advance_time(1s);
  send_command(wsm::command::reconnect);
  expect_status(state::connecting, "", 1, 0);
  closed(expect_open(), "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  // The old timer fires in the new wait and changes nothing...
  expect_timer(wsm::detail::retry_atom{});
  CAF_CHECK(!received<wsm::status>(sub));
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
  // ...the new one, a second later, starts the next attempt.
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  expect_open();
}

CAF_TEST(a machine without references or subscribers closes and ends) {
  auto id = start(caf::actor{});
  auto weak = caf::actor_cast<caf::actor_addr>(machine);
  connected(id);
  // Pending timers hold only a weak reference: dropping the handle ends it.
  machine = nullptr;
  CAF_CHECK(caf::actor_cast<caf::actor>(weak) == nullptr);
  expect((wsm::close_atom, uint64_t), from(_).to(broker).with(_, id));
  CAF_CHECK(caf::actor_cast<caf::actor>(weak) == nullptr);
}

CAF_TEST(a machine whose last subscriber dies ends once unreferenced) {
  auto watcher = sys.spawn<fake_subscriber>();
  run();
  auto id = start(watcher);
  auto weak = caf::actor_cast<caf::actor_addr>(machine);
  connected(id);
  expect((wsm::status), from(machine).to(watcher));
  expect((wsm::status), from(machine).to(watcher));
  machine = nullptr;
  // The subscriber keeps it alive.
  CAF_CHECK(caf::actor_cast<caf::actor>(weak) != nullptr);
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  watcher = nullptr;
  CAF_REQUIRE(consume_message()); // the subscriber ends
  CAF_REQUIRE(consume_message()); // the machine sees it go
  expect((wsm::close_atom, uint64_t), from(_).to(broker).with(_, id));
  CAF_CHECK(caf::actor_cast<caf::actor>(weak) == nullptr);
}

CAF_TEST(a dead subscriber is dropped) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  auto doomed = sys.spawn<fake_subscriber>();
  run();
  request<wsm::status>(machine, wsm::subscribe_atom::value, doomed);
  caf::anon_send_exit(doomed, caf::exit_reason::user_shutdown);
  run();
  connected(id);
  expect_status(state::connected, "", 1, 1);
  // Had the machine kept the dead one, it would hold a strong reference and
  // the weak handle below would still resolve.
  auto weak = caf::actor_cast<caf::actor_addr>(doomed);
  doomed = nullptr;
  CAF_CHECK(caf::actor_cast<caf::actor>(weak) == nullptr);
}

CAF_TEST(every message survives serialization for remoting) {
  CAF_CHECK_EQUAL(roundtrip(wsm::output{"a", wsm::frame_format::text}),
                  (wsm::output{"a", wsm::frame_format::text}));
  CAF_CHECK_EQUAL(roundtrip(wsm::input{std::string("\0b", 2), true}),
                  (wsm::input{std::string("\0b", 2), true}));
  wsm::status failed{state::waiting, "connect: Connection refused", 3, 7};
  CAF_CHECK_EQUAL(roundtrip(failed), failed);
  CAF_CHECK_EQUAL(roundtrip(wsm::undelivered{"x", "quit"}),
                  (wsm::undelivered{"x", "quit"}));
  CAF_CHECK(roundtrip(wsm::command::use_text) == wsm::command::use_text);
  CAF_CHECK_EQUAL(roundtrip(wsm::room{3, 4096}), (wsm::room{3, 4096}));
  CAF_CHECK_EQUAL(sys.types().portable_name(0, &typeid(wsm::room)),
                  "wsm::room");
  wsm::connect_request request;
  request.host = "::1";
  request.port = "8080";
  request.host_header = "[::1]:8080";
  request.target = "/a?b";
  request.headers = {{"X-Id", "7"}};
  request.handshake_timeout = 3s;
  request.close_timeout = 1s;
  CAF_CHECK(roundtrip(request) == request);
  // Announced under their names, so another node can decode them.
  CAF_CHECK_EQUAL(sys.types().portable_name(0, &typeid(wsm::output)),
                  "wsm::output");
  CAF_CHECK_EQUAL(sys.types().portable_name(0, &typeid(wsm::status)),
                  "wsm::status");
}

// -- resilience -----------------------------------------------------------------

CAF_TEST(failed attempts in a row wait as the backoff says) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  closed(expect_open(), "connect: Connection refused");
  expect_failed("connect: Connection refused", 2, 0, 4s);
  CAF_CHECK_EQUAL(sched.clock().advance_time(4s - 1ms), 0u);
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 3, 0);
  closed(expect_open(), "connect: Connection refused");
  expect_failed("connect: Connection refused", 3, 0, 8s);
}

CAF_TEST(a link that was up starts over from the initial pause) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  auto second = expect_open();
  connected(second);
  expect_status(state::connected, "", 2, 1);
  closed(second, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 2, 1);
  closed(expect_immediate_retry(1), "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 1, 2s);
}

CAF_TEST(the first reconnect after a drop waits a random pause below the jitter) {
  opts.reconnect_jitter = 100ms;
  auto id = start_connected();
  closed(id, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 1, 1);
  // Not at once...
  CAF_CHECK(!received<wsm::detail::retry_atom, uint64_t>(machine));
  // ...but within the jitter.
  sched.clock().advance_time(100ms);
  expect((caf::atom_value, caf::actor_addr, caf::message), from(_).to(relay));
  expect((wsm::detail::retry_atom, uint64_t), from(_).to(machine));
  expect_status(state::connecting, "", 1, 1);
}

CAF_TEST(retries exhausted end the machine with a typed reason and its queue) {
  opts.max_retries = 1;
  auto id = start();
  self->monitor(machine);
  expect_status(state::connecting, "", 1, 0);
  send_output("kept");
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  closed(expect_open(), "connect: Connection refused");
  expect((wsm::undelivered), from(machine).to(sub).with(wsm::undelivered{
                               "kept", "gave up: retries exhausted"}));
  expect_status(state::disconnected,
                "2 attempts failed, the last: connect: Connection refused", 2,
                0);
  CAF_CHECK(is_terminated(machine));
  caf::error reason;
  self->receive([&](caf::down_msg& x) { reason = x.reason; });
  CAF_CHECK(reason.category() == caf::atom("wsm"));
  CAF_CHECK_EQUAL(reason.code(),
                  static_cast<uint8_t>(wsm::errc::retries_exhausted));
  CAF_CHECK_EQUAL(wsm::unsent_payloads(reason),
                  std::vector<std::string>{"kept"});
}

CAF_TEST(an exception in a handler ends the machine with a typed reason) {
  opts.max_queue = 4;
  auto [id, direct] = start_with_link();
  static_cast<void>(id);
  self->monitor(machine);
  send_output("first");
  direct->throw_on_write = true;
  send_output("second");
  // Subscribers hear why; the outputs not known to be written go back;
  // the process goes on.
  for (auto payload : {"first", "second"})
    expect((wsm::undelivered),
           from(machine).to(sub).with(wsm::undelivered{
             payload, "gave up: internal error: std::bad_alloc"}));
  expect_status(state::disconnected, "internal error: std::bad_alloc", 1, 1);
  CAF_CHECK(is_terminated(machine));
  caf::error reason;
  self->receive([&](caf::down_msg& x) { reason = x.reason; });
  CAF_CHECK_EQUAL(reason.code(),
                  static_cast<uint8_t>(wsm::errc::internal_error));
  CAF_CHECK_EQUAL(wsm::unsent_payloads(reason),
                  (std::vector<std::string>{"first", "second"}));
}

CAF_TEST(a handshake refused with 401 ends the machine) {
  auto id = start();
  self->monitor(machine);
  expect_status(state::connecting, "", 1, 0);
  closed(id, wsm::disconnect_info{wsm::close_cause::handshake_rejected,
                                  "handshake rejected: HTTP 401 Unauthorized",
                                  401});
  expect_status(wsm::status{state::disconnected,
                            "handshake rejected: HTTP 401 Unauthorized", 1, 0,
                            {}, 401});
  CAF_CHECK(is_terminated(machine));
  caf::error reason;
  self->receive([&](caf::down_msg& x) { reason = x.reason; });
  CAF_CHECK_EQUAL(reason.code(),
                  static_cast<uint8_t>(wsm::errc::handshake_rejected));
  CAF_CHECK_EQUAL(wsm::describe(reason),
                  "handshake rejected: HTTP 401 Unauthorized");
}

CAF_TEST(refusals with 5xx and 429 and listed statuses are retried) {
  opts.retryable_statuses = {403};
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  uint32_t attempt = 1;
  for (uint16_t code : {503, 429, 403}) {
    auto text = "handshake rejected: HTTP " + std::to_string(code);
    closed(id, wsm::disconnect_info{wsm::close_cause::handshake_rejected, text,
                                    code});
    auto pause = std::chrono::duration_cast<caf::timespan>(
      opts.retry_delay * (1 << (attempt - 1)));
    expect_status(
      wsm::status{state::disconnected, text, attempt, 0, {}, code});
    expect_status(wsm::status{state::waiting, text, attempt, 0, pause, code});
    expect_timer(wsm::detail::retry_atom{});
    expect_status(state::connecting, "", ++attempt, 0);
    id = expect_open();
  }
  CAF_CHECK(!is_terminated(machine));
}

CAF_TEST(the close code the peer sent is in the status) {
  auto id = start_connected();
  closed(id, wsm::disconnect_info{wsm::close_cause::closed_by_peer,
                                  "closed by peer: 4000 maintenance", 0, 4000});
  expect_status(wsm::status{state::disconnected,
                            "closed by peer: 4000 maintenance", 1, 1, {}, 0,
                            4000});
}

CAF_TEST(an output sent as a request is answered once written) {
  auto id = start_connected();
  auto answer = self->request(machine, caf::infinite, wsm::output{"receipt"});
  expect((wsm::output), from(_).to(machine));
  expect_write(id, "receipt", false);
  // In flight is not written: no answer yet.
  CAF_CHECK(self->mailbox().empty());
  written(id, 1);
  auto answered = false;
  answer.receive([&] { answered = true; },
                 [&](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  CAF_CHECK(answered);
}

CAF_TEST(an output sent as a request that will never be written gets an error) {
  start();
  expect_status(state::connecting, "", 1, 0);
  send_output("1");
  send_output("2");
  auto [why, code] = refusal_of("3");
  CAF_CHECK_EQUAL(why, "queue full");
  CAF_CHECK_EQUAL(code, static_cast<uint8_t>(wsm::errc::undelivered));
  // An error reply replaces the undelivered message.
  CAF_CHECK(!received<wsm::undelivered>(sub));
}

CAF_TEST(an output sent as a request to a machine that quit gets machine_quit) {
  auto id = start_connected();
  send_command(wsm::command::quit);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  auto [why, code] = refusal_of("late");
  CAF_CHECK_EQUAL(why, "quit");
  CAF_CHECK_EQUAL(code, static_cast<uint8_t>(wsm::errc::machine_quit));
}

CAF_TEST(a dropped link puts what was in flight back in the queue in order) {
  opts.max_queue = 3; // all three in flight at once
  auto id = start_connected();
  send_output("a");
  send_output("b");
  send_output("c");
  expect_write(id, "a", false);
  expect_write(id, "b", false);
  expect_write(id, "c", false);
  written(id, 1); // only a made it
  closed(id, "write: Broken pipe");
  expect_status(state::disconnected, "write: Broken pipe", 1, 1);
  auto second = expect_immediate_retry(1);
  connected(second);
  expect_status(state::connected, "", 1, 2);
  expect_write(second, "b", false);
  expect_write(second, "c", false);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
}

CAF_TEST(a full queue drops the oldest or replaces the newest when told to) {
  // Outputs 1, 2, 3 into a queue of two: which one goes, and why.
  auto check = [&](wsm::overflow_policy policy, const char* dropped,
                   const char* reason, const char* kept) {
    opts.overflow = policy;
    auto id = start();
    expect_status(state::connecting, "", 1, 0);
    for (auto payload : {"1", "2", "3"})
      send_output(payload);
    expect((wsm::undelivered), from(machine).to(sub).with(
                                 wsm::undelivered{dropped, reason}));
    connected(id);
    expect_status(state::connected, "", 1, 1);
    expect_write(id, kept, false);
    expect_write(id, "3", false);
    caf::anon_send_exit(machine, caf::exit_reason::kill);
    consume_messages(); // the machine ends and its broker closes the link
  };
  check(wsm::overflow_policy::drop_oldest, "1",
        "queue full: dropped the oldest", "2");
  check(wsm::overflow_policy::drop_newest, "2",
        "queue full: replaced by a newer one", "1");
}

CAF_TEST(suspend closes and stays DISCONNECTED until resume) {
  auto id = start_connected();
  send_command(wsm::command::suspend);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected, "suspended", 0, 1);
  send_output("later");
  // Time passes, stale timers fire, nothing connects.
  sched.clock().advance_time(1min);
  consume_messages();
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
  send_command(wsm::command::resume);
  expect_status(state::connecting, "", 1, 1);
  auto second = expect_open();
  connected(second);
  expect_status(state::connected, "", 1, 2);
  expect_write(second, "later", false);
}

CAF_TEST(reconnect skips the wait) {
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  send_command(wsm::command::reconnect);
  expect_status(state::connecting, "", 1, 0);
  expect_open();
}

CAF_TEST(reconnect drops a live link and connects at once) {
  auto id = start_connected();
  send_command(wsm::command::reconnect);
  expect((wsm::abort_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected, "reconnect requested", 1, 1);
  expect_status(state::connecting, "", 1, 1);
  expect_open();
}

CAF_TEST(stats count what went through) {
  auto id = start_connected();
  send_output("four");
  expect_write(id, "four", false);
  written(id, 1);
  send_output("in flight");
  expect_write(id, "in flight", false);
  inject((wsm::received_atom, uint64_t, wsm::input),
         from(broker).to(machine).with(wsm::received_atom::value, id,
                                       wsm::input{"twelve bytes", false}));
  expect((wsm::input), from(machine).to(sub));
  sched.clock().advance_time(opts.ping_interval);
  expect((caf::atom_value, caf::actor_addr, caf::message), from(_).to(relay));
  expect((wsm::detail::keepalive_atom, uint64_t), from(_).to(machine));
  expect((wsm::ping_atom, uint64_t), from(machine).to(broker));
  sched.clock().advance_time(7ms);
  inject((wsm::pong_atom, uint64_t),
         from(broker).to(machine).with(wsm::pong_atom::value, id));
  closed(id, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 1, 1);
  auto result = request<wsm::stats>(machine, wsm::get_atom::value,
                                    wsm::stats_atom::value);
  CAF_CHECK_EQUAL(result.connects, 1u);
  CAF_CHECK_EQUAL(result.messages_out, 1u);
  CAF_CHECK_EQUAL(result.bytes_out, 4u);
  CAF_CHECK_EQUAL(result.messages_in, 1u);
  CAF_CHECK_EQUAL(result.bytes_in, 12u);
  CAF_CHECK_EQUAL(result.queue_depth, 1u); // "in flight" went back
  CAF_CHECK(result.last_rtt == 7ms);
  CAF_REQUIRE_EQUAL(result.disconnects.size(), wsm::close_cause_count);
  CAF_CHECK_EQUAL(
    result.disconnects[static_cast<size_t>(wsm::close_cause::network)], 1u);
}

CAF_TEST(the session gate logs in before anything queued goes out) {
  auto gate = sys.spawn<logging_in_gate>();
  consume_messages(); // its start
  opts.gate = gate;
  opts.max_queue = 4; // none is written back before the last goes out
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_output("queued");
  connected(id);
  expect_status(state::connected, "", 1, 1);
  // Arriving while the gate has not answered: waits too.
  send_output("meanwhile");
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  expect((wsm::gate_atom, uint64_t), from(machine).to(gate).with(_, 1u));
  // The gate's own output, then its answer.
  expect((wsm::output), from(gate).to(machine));
  expect_write(id, "login 1", false);
  CAF_REQUIRE(consume_message()); // the answer
  expect_write(id, "queued", false);
  expect_write(id, "meanwhile", false);
  send_output("after");
  expect_write(id, "after", false);
}

CAF_TEST(a session gate that refuses drops the link and reconnects) {
  auto gate = sys.spawn<refusing_gate>();
  consume_messages(); // its start
  opts.gate = gate;
  auto id = start_connected();
  expect((wsm::gate_atom, uint64_t), from(machine).to(gate).with(_, 1u));
  CAF_REQUIRE(consume_message()); // the error
  expect((wsm::abort_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected, "session gate failed: bad token", 1, 1);
  expect((wsm::detail::retry_atom, uint64_t), from(_).to(machine));
  expect_status(state::connecting, "", 1, 1);
}

CAF_TEST(a session gate that does not answer in time drops the link) {
  auto silent = sys.spawn<silent_gate>();
  consume_messages(); // its start
  opts.gate = silent;
  opts.gate_timeout = 2s;
  auto id = start_connected();
  expect((wsm::gate_atom, uint64_t), from(machine).to(silent));
  CAF_CHECK_EQUAL(sched.clock().advance_time(2s - 1ms), 0u);
  CAF_REQUIRE(sched.trigger_timeout()); // the request's own timeout
  CAF_REQUIRE(consume_message());
  expect((wsm::abort_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected,
                "session gate failed: no answer within 2000ms", 1, 1);
}

// -- inbound flow control -------------------------------------------------------

CAF_TEST(a subscriber max_inbox inputs behind stops reading until it catches up) {
  opts.max_inbox = 4;
  auto id = start_connected();
  for (auto payload : {"1", "2", "3"})
    receive_input(id, payload);
  CAF_CHECK(!received<wsm::pause_atom, uint64_t>(broker));
  // The fourth puts the subscriber at the bound: the link stops reading.
  receive_input(id, "4");
  expect((wsm::pause_atom, uint64_t), from(machine).to(broker).with(_, id));
  // Handling the second answers it (every second input is a request): the
  // machine learns that two are done, and the link reads again.
  handled_by(sub, "1");
  handled_by(sub, "2");
  answer_reaches_machine(); // the answer
  expect((wsm::resume_atom, uint64_t), from(machine).to(broker).with(_, id));
  handled_by(sub, "3");
  handled_by(sub, "4");
  auto counters = stats_now();
  CAF_CHECK(!counters.reading_paused);
  CAF_CHECK_EQUAL(counters.read_pauses, 1u);
}

CAF_TEST(reading paused for a while counts its time in stats) {
  opts.max_inbox = 2;
  auto id = start_connected();
  receive_input(id, "1");
  receive_input(id, "2");
  expect((wsm::pause_atom, uint64_t), from(machine).to(broker).with(_, id));
  sched.clock().advance_time(1500ms);
  auto during = stats_now();
  CAF_CHECK(during.reading_paused);
  CAF_CHECK(during.read_paused == 1500ms); // the pause under way
  CAF_CHECK_EQUAL(during.read_pauses, 1u);
  handled_by(sub, "1");
  handled_by(sub, "2");
  answer_reaches_machine();
  expect((wsm::resume_atom, uint64_t), from(machine).to(broker).with(_, id));
  sched.clock().advance_time(1s);
  auto after = stats_now();
  CAF_CHECK(!after.reading_paused);
  CAF_CHECK(after.read_paused == 1500ms);
}

CAF_TEST(with several subscribers the slowest bounds the read) {
  opts.max_inbox = 4;
  auto id = start_connected();
  auto slow = second_subscriber();
  for (auto payload : {"1", "2", "3", "4"})
    receive_input(id, payload);
  expect((wsm::pause_atom, uint64_t), from(machine).to(broker).with(_, id));
  // The fast one is done with all four; the slow one with none.
  for (auto payload : {"1", "2", "3", "4"})
    handled_by(sub, payload);
  answer_reaches_machine();
  answer_reaches_machine();
  CAF_CHECK(!received<wsm::resume_atom, uint64_t>(broker));
  handled_by(slow, "1");
  handled_by(slow, "2");
  answer_reaches_machine();
  expect((wsm::resume_atom, uint64_t), from(machine).to(broker).with(_, id));
}

CAF_TEST(a subscriber that dies while the machine is paused lets reading go on) {
  auto [id, slow] = paused_by_slow_subscriber();
  CAF_CHECK(!received<wsm::resume_atom, uint64_t>(broker));
  caf::anon_send_exit(slow, caf::exit_reason::kill);
  consume_messages(); // its end, its down message, the bounced request
  auto counters = stats_now();
  CAF_CHECK(!counters.reading_paused);
  CAF_CHECK_EQUAL(counters.read_pauses, 1u);
  // And the link reads on: more inputs come through to the one left.
  receive_input(id, "3");
  handled_by(sub, "3");
}

CAF_TEST(a subscriber that answers inputs with a value still catches up) {
  opts.max_inbox = 2;
  auto answering = sys.spawn<answering_subscriber>();
  consume_messages();
  auto id = start(answering);
  expect((wsm::status), from(machine).to(answering));
  connected(id);
  expect((wsm::status), from(machine).to(answering));
  receive_input(id, "1");
  receive_input(id, "2");
  expect((wsm::pause_atom, uint64_t), from(machine).to(broker).with(_, id));
  consume_messages();
  auto counters = stats_now();
  CAF_CHECK(!counters.reading_paused);
  CAF_CHECK_EQUAL(counters.read_pauses, 1u);
  CAF_CHECK(machine_is_alive());
}

CAF_TEST(pings go out while paused and the pong deadline waits for reading) {
  opts.max_inbox = 2;
  auto id = start_connected();
  receive_input(id, "1");
  receive_input(id, "2");
  expect((wsm::pause_atom, uint64_t), from(machine).to(broker).with(_, id));
  // The silence is ours: the keepalive still pings...
  sched.clock().advance_time(opts.ping_interval);
  expect((caf::atom_value, caf::actor_addr, caf::message), from(_).to(relay));
  expect((wsm::detail::keepalive_atom, uint64_t), from(_).to(machine));
  expect((wsm::ping_atom, uint64_t), from(machine).to(broker).with(_, id));
  // ...but no pong can be read while paused: its deadline passes unheeded.
  expect_timer(wsm::detail::pong_timeout_atom{});
  CAF_CHECK(!received<wsm::abort_atom, uint64_t>(broker));
  CAF_CHECK(!received<wsm::status>(sub));
  // Once reading resumes, the pong gets a full pong_timeout. (With a bound
  // of 2 every input is a request: two answers.)
  handled_by(sub, "1");
  handled_by(sub, "2");
  answer_reaches_machine();
  expect((wsm::resume_atom, uint64_t), from(machine).to(broker).with(_, id));
  answer_reaches_machine();
  CAF_CHECK_EQUAL(sched.clock().advance_time(opts.pong_timeout - 1ms), 0u);
  expect_timer(wsm::detail::pong_timeout_atom{});
  expect((wsm::abort_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected,
                "no pong within 3000ms: the peer is gone", 1, 1);
}

CAF_TEST(a new link starts paused while a subscriber is still behind) {
  auto [id, slow] = paused_by_slow_subscriber();
  closed(id, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 1, 1);
  auto second = expect_immediate_retry(1);
  auto direct = std::make_shared<recording_link>();
  wsm::link_info link;
  link.direct = direct;
  connected(second, std::move(link));
  expect_status(state::connected, "", 1, 2);
  CAF_REQUIRE_EQUAL(direct->calls.size(), 1u);
  CAF_CHECK_EQUAL(direct->calls[0], "pause");
}

CAF_TEST(inputs read after the pause wait in the machine for the subscriber) {
  opts.max_inbox = 2;
  auto id = start_connected();
  receive_input(id, "1");
  receive_input(id, "2");
  expect((wsm::pause_atom, uint64_t), from(machine).to(broker).with(_, id));
  // Read by the link before the pause reached it: held, not sent on.
  receive_input(id, "3");
  handled_by(sub, "1");
  handled_by(sub, "2");
  CAF_CHECK(!received<wsm::input>(sub)); // 3 waits in the machine
  // The answer to 1 makes room for one: 3 goes out, and the bound holds
  // again (2 unanswered), so the link stays paused.
  answer_reaches_machine();
  CAF_CHECK(!received<wsm::resume_atom, uint64_t>(broker));
  handled_by(sub, "3");
  // The answer to 2: one behind, nothing held: the link reads again.
  answer_reaches_machine();
  expect((wsm::resume_atom, uint64_t), from(machine).to(broker).with(_, id));
  answer_reaches_machine();
}

CAF_TEST(a link that drops delivers what was held before DISCONNECTED) {
  opts.max_inbox = 2;
  auto id = start_connected();
  receive_input(id, "1");
  receive_input(id, "2");
  expect((wsm::pause_atom, uint64_t), from(machine).to(broker).with(_, id));
  receive_input(id, "3");
  closed(id, "read: End of file");
  handled_by(sub, "1");
  handled_by(sub, "2");
  handled_by(sub, "3");
  expect_status(state::disconnected, "read: End of file", 1, 1);
}

CAF_TEST(the machine tells the link how many inputs it passed on) {
  auto [id, direct] = start_with_link();
  receive_input(id, "1");
  inject((wsm::received_atom, uint64_t, std::vector<wsm::input>),
         from(broker).to(machine).with(
           wsm::received_atom::value, id,
           std::vector<wsm::input>{{"2", false}, {"3", false}}));
  for (auto payload : {"1", "2", "3"})
    handled_by(sub, payload);
  CAF_CHECK_EQUAL(direct->consumed_total, 3u);
}

CAF_TEST(max_inbox 0 never stops reading) {
  opts.max_inbox = 0;
  auto id = start_connected();
  for (int i = 0; i < 100; ++i)
    receive_input(id, "x");
  CAF_CHECK(!received<wsm::pause_atom, uint64_t>(broker));
  CAF_CHECK_EQUAL(stats_now().read_pauses, 0u);
}

// -- outputs while connected ----------------------------------------------------

CAF_TEST(outputs not yet written count against max_queue while connected) {
  auto id = start_connected(); // max_queue is 2
  send_output("a");
  expect_write(id, "a", false);
  send_output("b");
  expect_write(id, "b", false);
  send_output("c");
  expect((wsm::undelivered), from(machine).to(sub).with(
                               wsm::undelivered{"c", "queue full"}));
  CAF_CHECK_EQUAL(stats_now().queue_depth, 2u);
  written(id, 2);
  send_output("d");
  expect_write(id, "d", false);
}

CAF_TEST(send_rate paces outputs and the rest wait in the queue) {
  opts.send_rate = 2; // one every 500ms
  opts.send_burst = 1;
  opts.max_queue = 4;
  auto id = start_connected();
  for (auto payload : {"a", "b", "c"})
    send_output(payload);
  expect_write(id, "a", false);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  CAF_CHECK_EQUAL(stats_now().queue_depth, 3u);
  CAF_CHECK_EQUAL(sched.clock().advance_time(499ms), 0u);
  expect_timer(wsm::detail::pace_atom{});
  expect_write(id, "b", false);
  CAF_CHECK_EQUAL(sched.clock().advance_time(499ms), 0u);
  expect_timer(wsm::detail::pace_atom{});
  expect_write(id, "c", false);
}

CAF_TEST(quit while paced writes what waits within close_timeout) {
  opts.send_rate = 1;
  opts.max_queue = 4;
  auto id = start_connected();
  send_output("a");
  expect_write(id, "a", false);
  send_output("b");
  send_command(wsm::command::quit);
  CAF_CHECK(!received<wsm::close_atom, uint64_t>(broker));
  // The pace lets b go after a second; then the link closes.
  expect_timer(wsm::detail::pace_atom{});
  expect_write(id, "b", false);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
}

CAF_TEST(an output with a shared buffer reaches the link without a copy) {
  auto [id, direct] = start_with_link();
  auto buffer = std::make_shared<const std::string>("for many machines");
  inject((wsm::output),
         from(sub).to(machine).with(wsm::shared_output(buffer)));
  CAF_REQUIRE_EQUAL(direct->payloads.size(), 1u);
  CAF_CHECK_EQUAL(direct->payloads[0].get(), buffer.get());
  CAF_CHECK_EQUAL(direct->calls[0], "write for many machines binary");
  written(id, 1);
  CAF_CHECK_EQUAL(stats_now().bytes_out, buffer->size());
}

CAF_TEST(every message users may send is handled in every phase) {
  // The user vocabulary has nine signatures; a tenth needs a line in
  // user_vocabulary() first.
  static_assert(caf::detail::tl_size<wsm::machine_actor::signatures>::value
                == 9);
  auto commands = static_cast<size_t>(wsm::command::resume) + 1;
  CAF_CHECK_EQUAL(user_vocabulary().size(), 8 + commands);
  std::vector<std::string> fell_through;
  for (auto phase : {"connecting", "gated", "connected", "closing",
                     "disconnected", "waiting", "suspended"})
    for (auto& [name, content] : user_vocabulary())
      if (dropped_in(phase, name, content))
        fell_through.push_back(name + " in " + phase);
  CAF_CHECK_EQUAL(fell_through, std::vector<std::string>{});
  // The probe does see a drop: news of a link coming up, for a machine
  // whose link is up already, is one.
  CAF_CHECK(dropped_in("connected", "a stale connected",
                       caf::make_message(wsm::connected_atom::value,
                                         uint64_t{0}, wsm::link_info{})));
}

// -- bytes: max_queue_bytes, the write window, waiting for room ---------------

CAF_TEST(outputs not yet written count their bytes against max_queue_bytes) {
  opts.max_queue = 10;
  opts.max_queue_bytes = 10;
  auto id = start_connected();
  send_output("aaaa");
  expect_write(id, "aaaa", false);
  send_output("bbbb");
  expect_write(id, "bbbb", false);
  // In flight, not written: 8 of 10 bytes are taken.
  send_output("ccc");
  expect((wsm::undelivered), from(machine).to(sub).with(
                               wsm::undelivered{"ccc", "queue full"}));
  send_output("cc");
  expect_write(id, "cc", false);
  CAF_CHECK_EQUAL(stats_now().queue_bytes, 10u);
  written(id, 3);
  CAF_CHECK_EQUAL(stats_now().queue_bytes, 0u);
  send_output("ddddddd");
  expect_write(id, "ddddddd", false);
}

CAF_TEST(an output larger than max_queue_bytes is refused by any policy) {
  opts.max_queue_bytes = 10;
  opts.overflow = wsm::overflow_policy::drop_oldest;
  start();
  expect_status(state::connecting, "", 1, 0);
  send_output("kept");
  send_output("eleven byte");
  expect((wsm::undelivered),
         from(machine).to(sub).with(wsm::undelivered{
           "eleven byte",
           "queue full: 11 bytes, more than max_queue_bytes (10)"}));
  CAF_CHECK_EQUAL(stats_now().queue_bytes, 4u);
}

CAF_TEST(drop_oldest drops as many as the new output needs) {
  opts.max_queue = 10;
  opts.max_queue_bytes = 10;
  opts.overflow = wsm::overflow_policy::drop_oldest;
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  for (auto payload : {"aaa", "bbb", "ccc"})
    send_output(payload);
  send_output("dddddd");
  for (auto dropped : {"aaa", "bbb"})
    expect((wsm::undelivered),
           from(machine).to(sub).with(
             wsm::undelivered{dropped, "queue full: dropped the oldest"}));
  connected(id);
  expect_status(state::connected, "", 1, 1);
  expect_write(id, "ccc", false);
  expect_write(id, "dddddd", false);
}

CAF_TEST(the write window holds back frames beyond 256 KiB in flight) {
  opts.max_queue = 10;
  auto id = start_connected();
  auto big = std::string(200 * 1024, 'x');
  for (auto tag : {'1', '2', '3'})
    send_output(tag + big);
  // The first two are in flight (200 KiB is below the window's bytes);
  // the third waits until one is written.
  expect_write(id, '1' + big, false);
  expect_write(id, '2' + big, false);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  written(id, 1);
  expect_write(id, '3' + big, false);
}

CAF_TEST(room is answered at once while there is and once written otherwise) {
  opts.max_queue = 2;
  opts.max_queue_bytes = 10;
  auto id = start_connected();
  auto asked = [&](uint64_t bytes) {
    return self->request(machine, caf::infinite, wsm::room_atom::value, bytes);
  };
  auto now = asked(4);
  expect((wsm::room_atom, uint64_t), from(_).to(machine));
  now.receive([](wsm::room& x) { CAF_CHECK_EQUAL(x, (wsm::room{2, 10})); },
              [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  send_output("aaaaaa");
  expect_write(id, "aaaaaa", false);
  // Six of ten bytes are taken: five more must wait for a write.
  auto later = asked(5);
  expect((wsm::room_atom, uint64_t), from(_).to(machine));
  CAF_CHECK(self->mailbox().empty());
  written(id, 1);
  later.receive([](wsm::room& x) { CAF_CHECK_EQUAL(x, (wsm::room{2, 10})); },
                [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  // More than max_queue_bytes never fits.
  auto never = asked(11);
  expect((wsm::room_atom, uint64_t), from(_).to(machine));
  never.receive([](wsm::room&) { CAF_FAIL("11 bytes cannot fit"); },
                [](caf::error& err) {
                  CAF_CHECK_EQUAL(wsm::describe(err),
                                  "an output of 11 bytes never fits "
                                  "max_queue_bytes (10)");
                });
}

CAF_TEST(a producer waiting for room hears when the machine quits) {
  opts.max_queue = 1;
  auto id = start_connected();
  send_output("a");
  expect_write(id, "a", false);
  auto waiting = self->request(machine, caf::infinite, wsm::room_atom::value,
                               uint64_t{1});
  expect((wsm::room_atom, uint64_t), from(_).to(machine));
  send_command(wsm::command::quit);
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  closed(id, wsm::disconnect_info{wsm::close_cause::closed_by_machine,
                                  "closed", 0, 1000});
  waiting.receive([](wsm::room&) { CAF_FAIL("no room after the end"); },
                  [](caf::error& err) {
                    CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(
                                                  wsm::errc::machine_quit));
                  });
}

// -- confirmed delivery: held until confirmed, written again on the next link --

CAF_TEST(a confirmed output is held once written and done when confirmed) {
  opts.max_queue = 4;
  auto id = start_connected();
  auto receipt = self->request(machine, caf::infinite,
                               wsm::confirmed_output("order 1", "o1"));
  expect((wsm::output), from(_).to(machine));
  expect_write(id, "order 1", false);
  written(id, 1);
  // Written is not received: no answer yet, and it still takes room.
  CAF_CHECK(self->mailbox().empty());
  auto held = stats_now();
  CAF_CHECK_EQUAL(held.queue_depth, 1u);
  CAF_CHECK_EQUAL(held.queue_bytes, 7u);
  CAF_CHECK_EQUAL(held.unconfirmed, 1u);
  CAF_CHECK_EQUAL(held.messages_out, 1u);
  // A confirmation of an id nobody waits under changes nothing.
  confirm("o2");
  CAF_CHECK_EQUAL(stats_now().unconfirmed, 1u);
  confirm("o1");
  receipt.receive([] {}, [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  auto done = stats_now();
  CAF_CHECK_EQUAL(done.queue_depth, 0u);
  CAF_CHECK_EQUAL(done.queue_bytes, 0u);
  CAF_CHECK_EQUAL(done.unconfirmed, 0u);
  CAF_CHECK_EQUAL(done.confirmed, 1u);
  CAF_CHECK_EQUAL(done.undelivered, 0u);
}

CAF_TEST(held outputs go again first on the next link after the gate) {
  auto gate = sys.spawn<logging_in_gate>();
  consume_messages(); // its start
  opts.gate = gate;
  opts.max_queue = 8;
  auto id = start_connected();
  expect_gate_login(gate, id, 1);
  CAF_REQUIRE(consume_message()); // the gate's answer
  send_confirmed("a", "1");
  expect_write(id, "a", false);
  send_output("plain");
  expect_write(id, "plain", false);
  send_confirmed("b", "2");
  expect_write(id, "b", false);
  send_confirmed("c", "3");
  expect_write(id, "c", false);
  // login, a, plain and b are written; c is still in flight.
  written(id, 4);
  send_command(wsm::command::suspend);
  expect((wsm::abort_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected, "suspended", 0, 1);
  send_output("queued");
  // a and b were written, c handed to the link: any may have arrived.
  CAF_CHECK_EQUAL(stats_now().unconfirmed, 3u);
  send_command(wsm::command::resume);
  expect_status(state::connecting, "", 1, 1);
  id = expect_open();
  connected(id);
  expect_status(state::connected, "", 1, 2);
  // The gate first, then a and b (held), then c (in flight), then the
  // queue: never the plain output again, which was written.
  expect_gate_login(gate, id, 2);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  CAF_REQUIRE(consume_message()); // the gate's answer
  for (auto payload : {"a", "b", "c", "queued"})
    expect_write(id, payload, false);
  written(id, 5);
  auto resent = stats_now();
  CAF_CHECK_EQUAL(resent.resent, 3u);
  CAF_CHECK_EQUAL(resent.unconfirmed, 3u);
  for (auto confirmed : {"2", "1", "3"})
    confirm(confirmed);
  auto done = stats_now();
  CAF_CHECK_EQUAL(done.unconfirmed, 0u);
  CAF_CHECK_EQUAL(done.queue_depth, 0u);
  CAF_CHECK_EQUAL(done.confirmed, 3u);
}

CAF_TEST(an output confirmed while in flight goes no more) {
  auto id = start_connected();
  send_confirmed("a", "1");
  expect_write(id, "a", false);
  // The server answered before the link acknowledged the write.
  confirm("1");
  closed(id, "read: Connection reset by peer");
  expect_status(state::disconnected, "read: Connection reset by peer", 1, 1);
  auto retry = expect_immediate_retry(1);
  connected(retry);
  expect_status(state::connected, "", 1, 2);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  CAF_CHECK_EQUAL(stats_now().confirmed, 1u);
}

CAF_TEST(a confirmation that does not come in time ends as undelivered) {
  opts.confirm_timeout = 5s;
  auto id = start_connected();
  send_confirmed("a", "1");
  expect_write(id, "a", false);
  written(id, 1);
  sched.clock().advance_time(2s);
  send_confirmed("b", "2");
  expect_write(id, "b", false);
  written(id, 1);
  // a's five seconds run out first; b has two more.
  CAF_CHECK_EQUAL(sched.clock().advance_time(3s - 1ms), 0u);
  expect_timer(wsm::detail::confirm_timeout_atom{});
  expect((wsm::undelivered),
         from(machine).to(sub).with(wsm::undelivered{
           "a", "not confirmed within 5000ms (confirm_timeout)"}));
  CAF_CHECK_EQUAL(stats_now().unconfirmed, 1u);
  CAF_CHECK_EQUAL(sched.clock().advance_time(2s - 1ms), 0u);
  expect_timer(wsm::detail::confirm_timeout_atom{});
  expect((wsm::undelivered),
         from(machine).to(sub).with(wsm::undelivered{
           "b", "not confirmed within 5000ms (confirm_timeout)"}));
  auto after = stats_now();
  CAF_CHECK_EQUAL(after.queue_depth, 0u);
  CAF_REQUIRE_EQUAL(after.undelivered_by.size(), wsm::undelivered_cause_count);
  CAF_CHECK_EQUAL(after.undelivered_by[static_cast<size_t>(
                    wsm::undelivered_cause::not_confirmed)],
                  2u);
}

CAF_TEST(an output written max_resends plus one times goes back) {
  opts.max_resends = 1;
  auto id = start_connected();
  auto receipt = self->request(machine, caf::infinite,
                               wsm::confirmed_output("poison", "p"));
  expect((wsm::output), from(_).to(machine));
  expect_write(id, "poison", false);
  written(id, 1);
  // The server dies on it, every time.
  closed(id, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 1, 1);
  id = expect_immediate_retry(1);
  connected(id);
  expect_status(state::connected, "", 1, 2);
  expect_write(id, "poison", false);
  written(id, 1);
  closed(id, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 1, 2);
  expect((wsm::detail::retry_atom, uint64_t), from(_).to(machine));
  receipt.receive([] { CAF_FAIL("never confirmed, yet answered"); },
                  [](caf::error& err) {
                    CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(
                                                  wsm::errc::undelivered));
                    CAF_CHECK_EQUAL(wsm::describe(err),
                                    "not confirmed after 2 writes "
                                    "(max_resends 1)");
                  });
  expect_status(state::connecting, "", 1, 2);
  id = expect_open();
  connected(id);
  expect_status(state::connected, "", 1, 3);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
}

CAF_TEST(quit waits for held outputs to be confirmed and then closes) {
  auto id = start_connected();
  auto receipt = self->request(machine, caf::infinite,
                               wsm::confirmed_output("a", "1"));
  expect((wsm::output), from(_).to(machine));
  expect_write(id, "a", false);
  written(id, 1);
  send_command(wsm::command::quit);
  CAF_CHECK(!received<wsm::close_atom, uint64_t>(broker));
  confirm("1");
  receipt.receive([] {}, [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  closed(id, wsm::disconnect_info{wsm::close_cause::closed_by_machine,
                                  "closed", 0, 1000});
  expect((wsm::status), from(machine).to(sub));
  CAF_CHECK(!machine_is_alive());
}

CAF_TEST(quit gives held outputs back when no confirmation comes) {
  auto id = start_connected();
  auto receipt = self->request(machine, caf::infinite,
                               wsm::confirmed_output("a", "1"));
  expect((wsm::output), from(_).to(machine));
  expect_write(id, "a", false);
  written(id, 1);
  send_command(wsm::command::quit);
  CAF_CHECK_EQUAL(sched.clock().advance_time(3s - 1ms), 0u);
  expect_timer(wsm::detail::quit_deadline_atom{});
  receipt.receive([] { CAF_FAIL("never confirmed, yet answered"); },
                  [](caf::error& err) {
                    CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(
                                                  wsm::errc::machine_quit));
                    CAF_CHECK_EQUAL(wsm::describe(err),
                                    "quit: written, not confirmed");
                  });
  expect((wsm::close_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected, "", 1, 1);
}

CAF_TEST(held outputs take room until confirmed) {
  opts.max_queue = 2;
  auto id = start_connected();
  send_confirmed("a", "1");
  expect_write(id, "a", false);
  send_confirmed("b", "2");
  expect_write(id, "b", false);
  written(id, 2);
  auto waiting = self->request(machine, caf::infinite, wsm::room_atom::value,
                               uint64_t{1});
  expect((wsm::room_atom, uint64_t), from(_).to(machine));
  CAF_CHECK(self->mailbox().empty());
  confirm("1");
  waiting.receive([](wsm::room& x) { CAF_CHECK_EQUAL(x.outputs, 1u); },
                  [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
}

CAF_TEST(the outputs of the gate take no room a waiting producer was told of) {
  auto gate = sys.spawn<slow_logging_in_gate>();
  consume_messages(); // its start
  opts.gate = gate;
  opts.max_queue = 2;
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_output("queued");
  // The producer is told one more fits.
  auto told = self->request(machine, caf::infinite, wsm::room_atom::value,
                            uint64_t{8});
  expect((wsm::room_atom, uint64_t), from(_).to(machine));
  told.receive([](wsm::room& x) { CAF_CHECK_EQUAL(x.outputs, 1u); },
               [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  // The link comes up and the gate logs in before the producer's output
  // arrives.
  connected(id);
  expect_status(state::connected, "", 1, 1);
  expect_gate_login(gate, id, 1);
  // Before the gate answers, the producer's output arrives: it fits, as
  // it was told, beside the gate's login.
  send_output("produced");
  CAF_CHECK(!received<wsm::undelivered>(sub));
  written(id, 1);
  auto now = stats_now();
  CAF_CHECK_EQUAL(now.queue_depth, 2u);
  CAF_CHECK_EQUAL(now.queue_bytes, 14u);
  CAF_CHECK_EQUAL(now.undelivered, 0u);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
}

CAF_TEST(an output of the gate whose link drops is not written again) {
  auto gate = sys.spawn<slow_logging_in_gate>();
  consume_messages(); // its start
  opts.gate = gate;
  opts.max_queue = 4;
  auto id = start();
  expect_status(state::connecting, "", 1, 0);
  send_output("queued");
  connected(id);
  expect_status(state::connected, "", 1, 1);
  expect_gate_login(gate, id, 1);
  closed(id, "read: End of file");
  // Not written again on the next link, where the gate logs in anew: that
  // question is the gate's notice (a request would have its error).
  expect_status(state::disconnected, "read: End of file", 1, 1);
  CAF_CHECK(!received<wsm::undelivered>(gate));
  id = expect_immediate_retry(1);
  connected(id);
  expect_status(state::connected, "", 1, 2);
  expect_gate_login(gate, id, 2);
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  auto counted = stats_now().undelivered_by;
  CAF_REQUIRE_EQUAL(counted.size(), wsm::undelivered_cause_count);
  CAF_CHECK_EQUAL(
    counted[static_cast<size_t>(wsm::undelivered_cause::link_lost)], 1u);
}

// -- real networks: flap protection, heartbeats, liveness, ping payloads ------

CAF_TEST(a link that drops before min_uptime waits as after a failed attempt) {
  opts.min_uptime = 5s;
  auto id = start_connected();
  sched.clock().advance_time(4s);
  closed(id, "closed by peer: 1000");
  // Not a success: the backoff of attempt 1, and the count goes on.
  expect_failed("closed by peer: 1000", 1, 1, 2s);
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 1);
  id = expect_open();
  connected(id);
  expect_status(state::connected, "", 2, 2);
  closed(id, "closed by peer: 1000");
  // The second flap waits longer, as a second failure would.
  expect_failed("closed by peer: 1000", 2, 2, 4s);
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
}

CAF_TEST(a link up min_uptime or longer reconnects at once when it drops) {
  opts.min_uptime = 5s;
  auto id = start_connected();
  sched.clock().advance_time(5s);
  closed(id, "closed by peer: 1000");
  expect_status(state::disconnected, "closed by peer: 1000", 1, 1);
  expect_immediate_retry(1);
}

CAF_TEST(flapping links count against max_retries) {
  opts.min_uptime = 5s;
  opts.max_retries = 1;
  auto id = start_connected();
  closed(id, "closed by peer: 1000");
  expect_failed("closed by peer: 1000", 1, 1, 2s);
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 1);
  id = expect_open();
  connected(id);
  expect_status(state::connected, "", 2, 2);
  closed(id, "closed by peer: 1000");
  expect_status(state::disconnected,
                "2 attempts failed, the last: closed by peer: 1000",
                2, 2);
}

CAF_TEST(a heartbeat goes as a data message after heartbeat_interval without sending) {
  opts.ping_interval = 1h; // keepalive pings out of the way
  opts.heartbeat = R"({"op":"ping"})";
  opts.heartbeat_interval = 5s;
  auto id = start_connected();
  sched.clock().advance_time(2s);
  send_output("x");
  expect_write(id, "x", false);
  written(id, 1);
  // At 5 s the last output is 3 s old: no heartbeat yet.
  expect_timer(wsm::detail::heartbeat_atom{});
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  // At 7 s it is due, in the machine's frame type (binary by default)...
  expect_timer(wsm::detail::heartbeat_atom{});
  expect_write(id, R"({"op":"ping"})", false);
  written(id, 1);
  // ...and as text after use_text.
  send_command(wsm::command::use_text);
  expect_timer(wsm::detail::heartbeat_atom{});
  expect_write(id, R"({"op":"ping"})", true);
  auto counted = stats_now();
  CAF_CHECK_EQUAL(counted.messages_out, 2u);
}

CAF_TEST(a heartbeat in flight when the link drops is not written again) {
  opts.ping_interval = 1h;
  opts.heartbeat = "hb";
  opts.heartbeat_interval = 5s;
  auto id = start_connected();
  expect_timer(wsm::detail::heartbeat_atom{});
  expect_write(id, "hb", false);
  closed(id, "read: End of file");
  expect_status(state::disconnected, "read: End of file", 1, 1);
  id = expect_immediate_retry(1);
  connected(id);
  expect_status(state::connected, "", 1, 2);
  // Nothing was queued: the old heartbeat stayed with the old link.
  CAF_CHECK(!received<wsm::write_atom, uint64_t, std::string, bool>(broker));
  auto counted = stats_now();
  CAF_CHECK_EQUAL(counted.queue_depth, 0u);
}

CAF_TEST(no data message within liveness_timeout drops the link as a dead peer) {
  opts.ping_interval = 1h;
  opts.liveness_timeout = 8s;
  auto id = start_connected();
  sched.clock().advance_time(5s);
  receive_input(id, "tick");
  handled_by(sub, "tick");
  // A pong is no message: the feed may answer pings and send nothing.
  inject((wsm::pong_atom, uint64_t),
         from(broker).to(machine).with(wsm::pong_atom::value, id));
  // At 8 s the last message is 3 s old.
  expect_timer(wsm::detail::liveness_atom{});
  CAF_CHECK(!received<wsm::abort_atom, uint64_t>(broker));
  // At 13 s it is 8 s old.
  expect_timer(wsm::detail::liveness_atom{});
  expect((wsm::abort_atom, uint64_t), from(machine).to(broker).with(_, id));
  expect_status(state::disconnected,
                "no message within 8000ms (liveness_timeout): the feed is "
                "dead",
                1, 1);
  expect_immediate_retry(1);
  auto counted = stats_now();
  CAF_CHECK_EQUAL(
    counted.disconnects[static_cast<size_t>(wsm::close_cause::dead_peer)], 1u);
}

CAF_TEST(a ping can carry a payload of at most 125 bytes) {
  auto id = start_connected();
  inject((wsm::command, std::string),
         from(sub).to(machine).with(wsm::command::ping, std::string{"probe-1"}));
  expect((wsm::ping_atom, uint64_t, std::string),
         from(machine).to(broker).with(_, id, std::string{"probe-1"}));
  auto answer = self->request(machine, caf::infinite, wsm::command::ping,
                              std::string(126, 'x'));
  expect((wsm::command, std::string), from(_).to(machine));
  std::string why;
  answer.receive([] { CAF_FAIL("a ping of 126 bytes was accepted"); },
                 [&](caf::error& err) { why = wsm::describe(err); });
  CAF_CHECK_EQUAL(why, "a ping carries at most 125 bytes, not 126");
  CAF_CHECK(!received<wsm::ping_atom, uint64_t, std::string>(broker));
}

CAF_TEST(the request provider is asked before every attempt and its answer used) {
  opts.headers = {{"Authorization", "Bearer stale"}, {"X-Keep", "1"}};
  auto provider = start_with_provider(token_provider::mode::answer);
  // Attempt 1: its token replaces the stale one, the URL stays.
  expect((wsm::request_atom, uint32_t),
         from(machine).to(provider).with(_, 1u));
  expect((wsm::request_update), from(provider).to(machine));
  auto [id, request] = expect_open_request();
  CAF_CHECK_EQUAL(request.url, test_url);
  CAF_CHECK_EQUAL(header_lines(request),
                  (std::vector<std::string>{"X-Keep: 1",
                                            "Authorization: Bearer t1"}));
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  // Attempt 2: a fresh token and another URL, shown once connected.
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  expect((wsm::request_atom, uint32_t),
         from(machine).to(provider).with(_, 2u));
  expect((wsm::request_update), from(provider).to(machine));
  std::tie(id, request) = expect_open_request();
  CAF_CHECK_EQUAL(request.host, "backup.example");
  CAF_CHECK_EQUAL(header_lines(request),
                  (std::vector<std::string>{"X-Keep: 1",
                                            "Authorization: Bearer t2"}));
  connected(id);
  wsm::status up{state::connected, "", 2, 1};
  up.url = "ws://backup.example/live";
  expect_status(up);
}

CAF_TEST(the header file is read by its reader before every attempt) {
  opts.header_file = "/run/tokens";
  auto reader = start_with_header_reader(true);
  expect((wsm::detail::header_file_atom, std::string),
         from(machine).to(reader).with(_, "/run/tokens"));
  expect((wsm::request_update), from(reader).to(machine));
  auto [id, request] = expect_open_request();
  CAF_CHECK_EQUAL(header_lines(request),
                  std::vector<std::string>{"Authorization: Bearer file1"});
  closed(id, "connect: Connection refused");
  expect_failed("connect: Connection refused", 1, 0, 2s);
  // Read again for the next attempt: a token rotated on disk is used.
  expect_timer(wsm::detail::retry_atom{});
  expect_status(state::connecting, "", 2, 0);
  expect((wsm::detail::header_file_atom, std::string),
         from(machine).to(reader).with(_, "/run/tokens"));
  expect((wsm::request_update), from(reader).to(machine));
  std::tie(id, request) = expect_open_request();
  CAF_CHECK_EQUAL(header_lines(request),
                  std::vector<std::string>{"Authorization: Bearer file2"});
}

CAF_TEST(a header file that cannot be read fails the attempt by name) {
  opts.header_file = "/run/tokens";
  auto reader = start_with_header_reader(false);
  expect((wsm::detail::header_file_atom, std::string),
         from(machine).to(reader).with(_, "/run/tokens"));
  expect((caf::error), from(reader).to(machine));
  expect_failed("header file '/run/tokens' line 2: not a header", 1, 0, 2s);
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
}

CAF_TEST(a request provider that fails fails the attempt and nothing is opened) {
  auto provider = start_with_provider(token_provider::mode::fail);
  expect((wsm::request_atom, uint32_t), from(machine).to(provider));
  expect((caf::error), from(provider).to(machine));
  expect_failed("request provider: "
                  + wsm::describe(caf::make_error(caf::sec::runtime_error,
                                                  "token store down")),
                1, 0, 2s);
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
}

CAF_TEST(a request provider that does not answer in time fails the attempt) {
  auto provider = start_with_provider(token_provider::mode::silent);
  expect((wsm::request_atom, uint32_t), from(machine).to(provider));
  CAF_REQUIRE(sched.trigger_timeout());
  expect((caf::error), from(_).to(machine));
  expect_failed("request provider: no answer within 10000ms", 1, 0, 2s);
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
}

CAF_TEST(a bad header from the request provider fails the attempt by name) {
  auto provider = start_with_provider(token_provider::mode::bad_header);
  expect((wsm::request_atom, uint32_t), from(machine).to(provider));
  expect((wsm::request_update), from(provider).to(machine));
  auto failed = std::get<0>(extract<wsm::status>(sub));
  CAF_CHECK_EQUAL(failed.error.rfind("request provider: ", 0), 0u);
  CAF_CHECK_NOT_EQUAL(failed.error.find("'Host'"), std::string::npos);
  CAF_CHECK(!received<wsm::open_atom, uint64_t, wsm::connect_request>(broker));
}

CAF_TEST(machines spawned alike share one setup and it goes with the last) {
  auto setup_of = [&](const wsm::options& x) {
    auto request = wsm::detail::make_connect_request(test_url, x);
    CAF_REQUIRE(request);
    return wsm::detail::share_setup(sys, std::move(*request), x);
  };
  auto first = setup_of(opts);
  auto second = setup_of(opts);
  CAF_CHECK_EQUAL(first.get(), second.get());
  auto other = opts;
  other.max_queue = opts.max_queue + 1;
  auto third = setup_of(other);
  CAF_CHECK_NOT_EQUAL(first.get(), third.get());
  CAF_CHECK_EQUAL(third->opts.max_queue, opts.max_queue + 1);
  // The cache holds setups weakly: none outlives its last machine.
  std::weak_ptr<const wsm::detail::machine_setup> held = first;
  first.reset();
  second.reset();
  CAF_CHECK(held.expired());
}

CAF_TEST_FIXTURE_SCOPE_END()
