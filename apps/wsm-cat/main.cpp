// wsm-cat: a reconnecting websocat.
//
// Each line of stdin is one message; each message received is one line of
// stdout; each change of state is one line of stderr, `STATE NAME[: reason]`.
// At the end of stdin every message is written, the link is closed with
// 1000, and wsm-cat exits 0 after its last line, `STATE DISCONNECTED`.
//
// A WebSocket close discards data frames that arrive after our close frame
// (Beast drains them), so at the end of stdin wsm-cat lingers until the peer
// has been silent for `--linger` before it closes: replies in flight, such
// as the echoes of the last lines, are still printed.
//
// The main thread reads stdin (a blocking read has no place in an actor) and
// hands each line to the cat actor, which alone talks to the machine, so the
// machine sees every line before the quit that follows them.

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config_args.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/wsm.hpp"

namespace {

using line_atom = caf::atom_constant<caf::atom("cat_line")>;
using eof_atom = caf::atom_constant<caf::atom("cat_eof")>;
using linger_atom = caf::atom_constant<caf::atom("cat_linger")>;

using clock_type = std::chrono::steady_clock;

using wsm_apps::exit_usage;

struct cat_state {
  wsm::machine_actor machine;
  bool connected = false;
  bool end_of_input = false;
  bool lingering = false;
  bool quitting = false;
  caf::timespan linger{};
  clock_type::time_point last_heard;
  size_t undelivered = 0;
  std::atomic<int>* exit_code = nullptr;
  static inline const char* name = "wsm-cat";
};

using cat_actor = caf::stateful_actor<cat_state>;

void quit(cat_actor* self) {
  self->state.quitting = true;
  self->send(self->state.machine, wsm::command::quit);
}

/// Quits once the input has ended, the link is up (so that what was queued
/// while connecting is written first) and the peer has been silent for the
/// linger time.
void quit_when_done(cat_actor* self) {
  auto& st = self->state;
  if (!st.end_of_input || !st.connected || st.quitting || st.lingering)
    return;
  if (st.linger == caf::timespan{0})
    return quit(self);
  st.lingering = true;
  st.last_heard = clock_type::now();
  self->delayed_send(self, st.linger, linger_atom::value);
}

caf::behavior cat(cat_actor* self, std::atomic<int>* exit_code,
                  caf::timespan linger) {
  self->state.exit_code = exit_code;
  self->state.linger = linger;
  self->set_down_handler([=](const caf::down_msg&) {
    *self->state.exit_code = self->state.undelivered == 0 ? 0 : 1;
    self->quit();
  });
  return {
    [=](wsm::machine_actor& machine) {
      self->state.machine = std::move(machine);
      self->monitor(self->state.machine);
    },
    [=](line_atom, std::string& line) {
      self->send(self->state.machine, wsm::output{std::move(line)});
    },
    [=](eof_atom) {
      self->state.end_of_input = true;
      quit_when_done(self);
    },
    [=](linger_atom) {
      auto& st = self->state;
      auto silent_for = clock_type::now() - st.last_heard;
      if (!st.connected) {
        st.lingering = false; // the link dropped: start over once it is back
      } else if (silent_for >= st.linger) {
        quit(self);
      } else {
        self->delayed_send(self, st.linger - silent_for, linger_atom::value);
      }
    },
    [=](const wsm::status& x) {
      std::cerr << "STATE " << wsm::to_string(x.state)
                << (x.error.empty() ? "" : ": " + x.error) << std::endl;
      self->state.connected = x.state == wsm::state::connected;
      quit_when_done(self);
    },
    [=](const wsm::input& x) {
      self->state.last_heard = clock_type::now();
      std::cout << x.payload << '\n' << std::flush;
    },
    [=](const wsm::undelivered& x) {
      ++self->state.undelivered;
      std::cerr << "wsm-cat: not delivered (" << x.reason << "): " << x.payload
                << std::endl;
    },
  };
}

/// The command line, before it is checked and applied.
struct command_line {
  std::string url;
  std::string config_file;
  bool text = false;
  std::vector<std::string> headers;
  std::string ping_interval;
  std::string retry_delay;
  size_t max_queue = 0;
  std::string linger = "250ms";
};

/// Applies the command line over the settings of the config file, which
/// apply over the defaults. Returns the problem, if any.
std::string make_settings(const CLI::App& app, const command_line& cl,
                          wsm::settings& result) {
  if (!cl.config_file.empty()) {
    auto content = wsm::read_ini_file(cl.config_file);
    if (!content)
      return wsm::describe(content.error());
    if (auto err = wsm::apply_settings(*content, result))
      return cl.config_file + ": " + wsm::describe(err);
  }
  auto& opts = result.machine;
  if (cl.text)
    opts.text = true;
  for (auto& text : cl.headers) {
    auto parsed = wsm::parse_header(text);
    if (!parsed)
      return "--header: " + wsm::describe(parsed.error());
    opts.headers.push_back(std::move(*parsed));
  }
  auto duration = [](const std::string& flag, const std::string& text,
                     caf::timespan& field) -> std::string {
    if (text.empty())
      return {};
    auto parsed = wsm::parse_duration(text);
    if (!parsed)
      return flag + ": " + wsm::describe(parsed.error());
    field = *parsed;
    return {};
  };
  if (auto problem = duration("--ping-interval", cl.ping_interval,
                              opts.ping_interval);
      !problem.empty())
    return problem;
  if (auto problem = duration("--retry-delay", cl.retry_delay,
                              opts.retry_delay);
      !problem.empty())
    return problem;
  if (app.count("--max-queue") > 0)
    opts.max_queue = cl.max_queue;
  return {};
}

} // namespace

int main(int argc, char** argv) {
  command_line cl;
  CLI::App app{"A reconnecting websocat: each line of stdin is one message, "
               "each message received one line of stdout, each change of "
               "state one line of stderr.",
               "wsm-cat"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("URL", cl.url, "ws://host[:port][/path][?query]")->required();
  app.add_flag("--text", cl.text, "send text frames instead of binary ones");
  app.add_option("--header", cl.headers,
                 "an extra upgrade header, NAME: VALUE (repeatable)")
    ->type_size(1)
    ->expected(1)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--ping-interval", cl.ping_interval,
                 "keepalive ping after this long without a frame (30s)");
  app.add_option("--retry-delay", cl.retry_delay,
                 "pause after a failed attempt (1s)");
  app.add_option("--max-queue", cl.max_queue,
                 "messages held while not connected (1024)")
    ->check(CLI::PositiveNumber);
  app.add_option("--linger", cl.linger,
                 "at the end of stdin, wait until the peer has been silent "
                 "this long before closing, so replies in flight are printed")
    ->capture_default_str();
  app.add_option("--config", cl.config_file,
                 "a CAF INI file: its [wsm] group sets the library's "
                 "options, its [wsm-cat] group any option above "
                 "(see configs/wsm-cat.ini)");
  if (auto status = wsm_apps::parse_command_line(app, argc, argv, "wsm-cat");
      status >= 0)
    return status;
  wsm::settings settings;
  if (auto problem = make_settings(app, cl, settings); !problem.empty()) {
    std::cerr << "wsm-cat: " << problem << '\n';
    return exit_usage;
  }
  auto linger = wsm::parse_duration(cl.linger);
  if (!linger) {
    std::cerr << "wsm-cat: --linger: " << wsm::describe(linger.error()) << '\n';
    return exit_usage;
  }
  std::atomic<int> exit_code{0};
  {
    wsm::config cfg;
    cfg.set("wsm.io-threads", settings.io_threads);
    caf::actor_system sys{cfg};
    auto subscriber = sys.spawn(cat, &exit_code, *linger);
    auto machine = wsm::spawn_machine(sys, cl.url, settings.machine,
                                      subscriber);
    if (!machine) {
      std::cerr << "wsm-cat: " << wsm::describe(machine.error()) << '\n';
      caf::anon_send_exit(subscriber, caf::exit_reason::user_shutdown);
      return exit_usage;
    }
    caf::anon_send(subscriber, *machine);
    for (std::string line; std::getline(std::cin, line);)
      caf::anon_send(subscriber, line_atom::value, std::move(line));
    caf::anon_send(subscriber, eof_atom::value);
    // Holding the handle keeps the cat alive until it ends by itself (after
    // the machine): an actor nobody references may vanish before its last
    // message.
    caf::scoped_actor{sys}->wait_for(subscriber);
  }
  return exit_code;
}
