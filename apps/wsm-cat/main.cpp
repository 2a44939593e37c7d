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
// With --json each status is one JSON object per line on stderr instead
// (every field of wsm::status); with --base64 each line of stdin is the
// base64 of one message and each message received is printed in base64, so
// binary payloads with newlines survive a line-oriented pipe; with
// --one-message (-1) wsm-cat quits after the first message it receives.
//
// A thread of its own reads stdin (a blocking read has no place in an
// actor) and hands each line to the cat actor, which alone talks to the
// machine, so the machine sees every line before the quit that follows
// them. The reader passes a line on only while the machine's queue has room
// for it: when the room the machine last reported is used up, it asks for
// more (`room_atom`, through the cat) and waits, so a file of any size is
// read no faster than it is written and memory stays bounded by
// max_queue_bytes. A line longer than max_message_size (or max_queue_bytes)
// is not kept: it is skipped to its end and refused by number and size, and
// the rest goes on.
//
// With --json every line on stderr is one JSON object: the statuses, and
// wsm-cat's own lines as `{"event":NAME,"message":TEXT,...}`.
//
// The cat writes stdout on a thread of its own (a detached actor): a slow
// reader of stdout blocks that thread only. Its mailbox then fills, the
// machine stops reading at max_inbox (TCP pushes back on the server), and
// the I/O threads go on pinging and answering: nothing is lost, the link
// stays up.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include "config_args.hpp"
#include "metrics_args.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/wsm.hpp"

namespace {

using line_atom = caf::atom_constant<caf::atom("cat_line")>;
using eof_atom = caf::atom_constant<caf::atom("cat_eof")>;
using linger_atom = caf::atom_constant<caf::atom("cat_linger")>;
using give_up_atom = caf::atom_constant<caf::atom("cat_giveup")>;
using drain_atom = caf::atom_constant<caf::atom("cat_drain")>;
using need_atom = caf::atom_constant<caf::atom("cat_need")>;

using clock_type = std::chrono::steady_clock;

using wsm_apps::exit_usage;

/// Between the thread that reads stdin and the cat: once the cat has
/// closed it, no line is sent any more. A line is sent with the lock held,
/// so every line sent before the close is in the cat's mailbox ahead of
/// what the cat sends itself after closing: none can arrive unseen after
/// the cat ended.
struct input_gate {
  std::mutex mutex;
  std::condition_variable room_changed;
  bool closed = false;
  /// The room the machine last reported, less the lines passed since.
  uint64_t lines_left = 0;
  uint64_t bytes_left = 0;
  /// More room was asked for and not yet granted.
  bool asking = false;
  /// A line read when the gate closed (it waited for room, or the machine
  /// had just ended): it never reached the machine, and is reported once
  /// the cat has ended.
  std::optional<std::string> unsent;

  /// Waits until `line` fits the room left; when it does not, asks for
  /// more with `ask` (once, under the lock: behind the lines sent before
  /// it). Then takes the room and calls `send` with the lock held, and
  /// returns true; or keeps the line in `unsent` and returns false once
  /// the gate is closed.
  template <class Ask, class Send>
  bool pass_line(std::string& line, Ask ask, Send send) {
    auto size = static_cast<uint64_t>(line.size());
    std::unique_lock<std::mutex> guard{mutex};
    while (!closed && (lines_left == 0 || bytes_left < size)) {
      if (!asking) {
        asking = true;
        ask();
      }
      room_changed.wait(guard);
    }
    if (closed) {
      unsent = std::move(line);
      return false;
    }
    --lines_left;
    bytes_left -= size;
    send();
    return true;
  }

  /// The machine's answer: this much room, all lines before the question
  /// counted.
  void grant(const wsm::room& x) {
    {
      std::lock_guard<std::mutex> guard{mutex};
      lines_left = x.outputs;
      bytes_left = x.bytes;
      asking = false;
    }
    room_changed.notify_all();
  }

  /// Calls `send` unless the gate is closed; returns whether it did.
  template <class Send>
  bool pass(Send send) {
    std::lock_guard<std::mutex> guard{mutex};
    if (closed)
      return false;
    send();
    return true;
  }

  void close() {
    {
      std::lock_guard<std::mutex> guard{mutex};
      closed = true;
    }
    room_changed.notify_all();
  }

  bool is_closed() {
    std::lock_guard<std::mutex> guard{mutex};
    return closed;
  }
};

/// How the cat prints and reads, from the command line.
struct cat_modes {
  /// Statuses as JSON objects instead of `STATE` lines.
  bool json = false;
  /// Messages as base64 lines, both ways.
  bool base64 = false;
  /// Quit after the first message received.
  bool one_message = false;
};

/// One line of wsm-cat's own on stderr: `wsm-cat: TEXT`, or with --json
/// `{"event":EVENT,"message":TEXT,...}`, `more` adding the fields after
/// the message.
void report(bool json, const char* event, const std::string& text,
            const std::function<void(wsm::json_object&)>& more = nullptr) {
  if (!json) {
    std::cerr << "wsm-cat: " << text << std::endl;
    return;
  }
  wsm::json_object line;
  line.text("event", event).text("message", text);
  if (more)
    more(line);
  std::cerr << line.str() << std::endl;
}

struct cat_state {
  wsm::machine_actor machine;
  cat_modes modes;
  /// Lines of stdin seen, for naming a bad one.
  uint64_t lines = 0;
  /// A message arrived (with --one-message, the only one printed).
  bool got_message = false;
  bool connected = false;
  bool end_of_input = false;
  bool lingering = false;
  bool quitting = false;
  caf::timespan linger{};
  caf::timespan close_timeout{};
  clock_type::time_point last_heard;
  size_t undelivered = 0;
  /// Lines sent to the machine as requests and not yet answered: each is
  /// answered once written, or with why it never will be.
  size_t unanswered = 0;
  /// The machine has ended; the cat ends once every line is answered.
  bool machine_ended = false;
  bool machine_failed = false;
  /// Lines of stdin refused (too long, or not base64 with --base64).
  size_t refused = 0;
  input_gate* input = nullptr;
  /// The gate is closed: what is still in the mailbox is the last input.
  bool input_closed = false;
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

/// Ends the cat once the machine has ended and every line is answered,
/// the lines still on their way included: the gate closes first, and the
/// cat ends after the lines ahead of its `drain_atom`.
void end_when_answered(cat_actor* self) {
  auto& st = self->state;
  if (!st.machine_ended || st.unanswered > 0)
    return;
  if (!st.input_closed) {
    st.input->close();
    st.input_closed = true;
    self->send(self, drain_atom::value);
    return;
  }
  auto failed = st.undelivered > 0 || st.refused > 0 || st.machine_failed;
  *st.exit_code = failed ? 1 : 0;
  self->quit();
}

void answered(cat_actor* self) {
  --self->state.unanswered;
  end_when_answered(self);
}

/// Sends one line of stdin to the machine: as it is, or decoded from
/// base64 (a line that is not base64 is refused by number, not sent).
void send_line(cat_actor* self, std::string line) {
  auto& st = self->state;
  auto number = ++st.lines;
  if (st.modes.base64) {
    auto decoded = wsm::base64_decode(line);
    if (!decoded) {
      ++st.refused;
      auto why = wsm::describe(decoded.error());
      report(st.modes.json, "line_refused",
             "line " + std::to_string(number) + ": " + why + ": not sent",
             [&](wsm::json_object& x) {
               x.number("line", number).text("error", why);
             });
      return;
    }
    line = std::move(*decoded);
  }
  // As a request: a line that reaches a machine that has just ended is
  // answered too (receiver down), so that no line is lost unsaid.
  ++st.unanswered;
  auto payload = std::make_shared<const std::string>(std::move(line));
  self->request(st.machine, caf::infinite, wsm::shared_output(payload))
    .then([=] { answered(self); },
          [=](caf::error& err) {
            ++self->state.undelivered;
            auto why = err == caf::sec::request_receiver_down
                         ? std::string{"the machine had ended"}
                         : wsm::describe(err);
            auto& modes = self->state.modes;
            auto shown = modes.base64 ? wsm::base64_encode(*payload)
                                      : *payload;
            report(modes.json, "not_delivered",
                   "not delivered (" + why + "): " + shown,
                   [&](wsm::json_object& x) {
                     x.text("reason", why).text("payload", shown);
                   });
            answered(self);
          });
}

void print_status(const cat_modes& modes, const wsm::status& x) {
  if (modes.json) {
    std::cerr << wsm::to_json(x) << std::endl;
    return;
  }
  // The hops of the attempt this status ends, credentials hidden.
  if (x.state != wsm::state::waiting) // told in DISCONNECTED already
    for (auto& hop : x.redirects)
      std::cerr << "wsm-cat: redirected to " << hop << '\n';
  std::cerr << "STATE " << wsm::to_string(x.state)
            << (x.error.empty() ? "" : ": " + x.error) << std::endl;
}

caf::behavior cat(cat_actor* self, std::atomic<int>* exit_code,
                  caf::timespan linger, caf::timespan close_timeout,
                  cat_modes modes, input_gate* input) {
  self->state.exit_code = exit_code;
  self->state.input = input;
  self->state.modes = modes;
  self->state.linger = linger;
  self->state.close_timeout = close_timeout;
  self->set_down_handler([=](const caf::down_msg& x) {
    // A machine that gave up says why in its exit reason.
    auto& st = self->state;
    st.machine_failed = x.reason && x.reason != caf::exit_reason::normal;
    if (st.machine_failed) {
      auto why = wsm::describe(x.reason);
      report(st.modes.json, "gave_up", "gave up: " + why,
             [&](wsm::json_object& x) { x.text("error", why); });
    }
    st.machine_ended = true;
    end_when_answered(self);
  });
  return {
    [=](wsm::machine_actor& machine) {
      self->state.machine = std::move(machine);
      self->monitor(self->state.machine);
    },
    [=](line_atom, std::string& line) { send_line(self, std::move(line)); },
    [=](line_atom, uint64_t number, uint64_t size, uint64_t limit,
        const std::string& limit_name) {
      ++self->state.lines;
      ++self->state.refused;
      report(self->state.modes.json, "line_refused",
             "line " + std::to_string(number) + " is " + std::to_string(size)
               + " bytes, longer than " + limit_name + " ("
               + std::to_string(limit) + " bytes): not sent",
             [&](wsm::json_object& x) {
               x.number("line", number).number("bytes", size);
             });
    },
    [=](need_atom, uint64_t bytes) {
      // Behind the lines the reader sent before: the answer counts them.
      auto& st = self->state;
      self->request(st.machine, caf::infinite, wsm::room_atom::value, bytes)
        .then([=](const wsm::room& x) { self->state.input->grant(x); },
              [](caf::error&) {
                // The machine ended: the gate closes once its lines are
                // answered, which ends the reader.
              });
    },
    [=](eof_atom) {
      auto& st = self->state;
      st.end_of_input = true;
      // Without a link, wait for one no longer than the close timeout: then
      // quit, and the machine hands back what it could not write.
      if (!st.connected)
        self->delayed_send(self, st.close_timeout, give_up_atom::value);
      quit_when_done(self);
    },
    [=](drain_atom) { end_when_answered(self); },
    [=](give_up_atom) {
      if (!self->state.connected && !self->state.quitting)
        quit(self);
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
      print_status(self->state.modes, x);
      self->state.connected = x.state == wsm::state::connected;
      quit_when_done(self);
    },
    [=](const wsm::input& x) {
      auto& st = self->state;
      st.last_heard = clock_type::now();
      if (st.modes.one_message && st.got_message)
        return; // one was asked for, and printed
      st.got_message = true;
      if (st.modes.base64)
        std::cout << wsm::base64_encode(x.payload) << '\n' << std::flush;
      else
        std::cout << x.payload << '\n' << std::flush;
      if (st.modes.one_message && !st.quitting)
        quit(self);
    },
  };
}

/// The library's options on the command line: one flag per key of group
/// [wsm], with the same name and the same checks as in a config file, but
/// for the lists (`--header`, `--subprotocol`, repeatable) and the loudly
/// short `--insecure`.
struct library_options {
  std::vector<std::string> headers;
  std::vector<std::string> subprotocols;
  /// Switches by key; a std::map so CLI11 can keep references.
  std::map<std::string, bool> flags;
  /// Values as typed, by key.
  std::map<std::string, std::string> values;
};

/// Keys whose values are text (file names, a heartbeat's payload, an
/// address): never read as numbers or durations.
bool is_text_key(const std::string& key) {
  return key == "ca-file" || key == "ca-path" || key == "cert" || key == "key"
         || key == "heartbeat" || key == "local-address"
         || key == "header-file" || key == "proxy"
         || key == "metrics-address";
}

/// Makes repeatable `flag` collect `values`.
void add_repeatable(CLI::App& app, const std::string& flag,
                    std::vector<std::string>& values, const std::string& help) {
  app.add_option(flag, values, help + " (repeatable)")
    ->type_size(1)
    ->expected(1)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

/// One flag per key of [wsm], made from the library's own description of
/// its keys, defaults included.
void add_library_options(CLI::App& app, library_options& lib) {
  for (auto& x : wsm::describe_settings()) {
    auto flag = "--" + x.key;
    switch (x.form) {
      case wsm::setting_form::flag:
        if (x.key == "insecure-skip-verify")
          app.add_flag("--insecure", lib.flags[x.key],
                       x.help + "; prints a warning");
        else
          app.add_flag(flag, lib.flags[x.key],
                       x.default_value == "true" ? x.help + " (on)" : x.help);
        break;
      case wsm::setting_form::list:
        // One value per flag, named in the singular; retryable-statuses
        // is for config files.
        if (x.key == "headers")
          add_repeatable(app, "-H,--header", lib.headers, x.help);
        else if (x.key == "subprotocols")
          add_repeatable(app, "--subprotocol", lib.subprotocols, x.help);
        break;
      case wsm::setting_form::value: {
        auto help = x.default_value.empty()
                      ? x.help
                      : x.help + " (" + x.default_value + ")";
        app.add_option(flag, lib.values[x.key], help);
        if (x.key == "retry-delay")
          app.add_option("--backoff-initial", lib.values["backoff-initial"],
                         "the same as --retry-delay");
        break;
      }
    }
  }
}

/// Turns a repeatable flag's values into a config list.
caf::config_value as_list(const std::vector<std::string>& xs) {
  caf::config_value::list result;
  for (auto& x : xs)
    result.emplace_back(x);
  return caf::config_value{std::move(result)};
}

/// Turns what was given on the command line into a [wsm] group.
caf::settings as_settings(const CLI::App& app, const library_options& lib) {
  caf::settings group;
  if (!lib.headers.empty())
    group["headers"] = as_list(lib.headers);
  if (!lib.subprotocols.empty())
    group["subprotocols"] = as_list(lib.subprotocols);
  for (auto& [key, on] : lib.flags)
    if (on)
      group[key] = true;
  for (auto& [name, text] : lib.values) {
    if (app.count("--" + name) == 0)
      continue;
    auto key = name == "backoff-initial" ? std::string{"retry-delay"} : name;
    if (is_text_key(key)) {
      group[key] = text;
      continue;
    }
    // Typed the way a config file would type it: 5s, 1.5, 3, or a word.
    auto value = caf::config_value::parse(text);
    group[key] = value ? std::move(*value) : caf::config_value{text};
  }
  caf::settings result;
  result["wsm"] = std::move(group);
  return result;
}

/// Names a problem of the command line by its flag, not its config key.
std::string as_flag_problem(std::string text) {
  for (auto [key, flag] : {std::pair{"wsm.headers", "--header"},
                           std::pair{"wsm.subprotocols", "--subprotocol"},
                           std::pair{"wsm.insecure-skip-verify", "--insecure"},
                           std::pair{"wsm.", "--"}})
    if (text.rfind(key, 0) == 0)
      return flag + text.substr(std::strlen(key));
  return text;
}

/// Applies the command line over the config file's [wsm] group, which
/// applies over the defaults. Returns the problem, if any.
std::string make_settings(const CLI::App& app, const std::string& config_file,
                          const library_options& lib, wsm::settings& result) {
  if (!config_file.empty()) {
    auto content = wsm::read_ini_file(config_file);
    if (!content)
      return wsm::describe(content.error());
    if (auto err = wsm::apply_settings(*content, result))
      return config_file + ": " + wsm::describe(err);
  }
  if (auto err = wsm::apply_settings(as_settings(app, lib), result))
    return as_flag_problem(wsm::describe(err));
  return {};
}

/// Reads stdin line by line, keeping no more of a line than `limit` bytes:
/// a longer one is read to its end without being kept, and reported by
/// number and size instead.
class line_reader {
public:
  explicit line_reader(size_t limit) : limit_(limit) {
  }

  /// Calls `line(text)` for each line that fits and `too_long(number, size)`
  /// for each that does not, until the end of stdin or until one of them
  /// returns false or `stop()` returns true (asked every 100 ms while
  /// stdin is quiet). Returns whether stdin ended.
  template <class Line, class TooLong, class Stop>
  bool run(Line line, TooLong too_long, Stop stop) {
    char chunk[64 * 1024];
    for (;;) {
      pollfd input{STDIN_FILENO, POLLIN, 0};
      auto ready = ::poll(&input, 1, 100);
      if (stop())
        return false;
      if (ready == 0 || (ready < 0 && errno == EINTR))
        continue;
      // What is there now, not a full chunk: a line typed goes at once.
      auto got = ::read(STDIN_FILENO, chunk, sizeof(chunk));
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;
      auto n = static_cast<size_t>(got);
      for (size_t begin = 0; begin < n;) {
        auto end = static_cast<const char*>(
          std::memchr(chunk + begin, '\n', n - begin));
        auto stop = end ? static_cast<size_t>(end - chunk) : n;
        take(chunk + begin, stop - begin);
        begin = stop;
        if (end) {
          if (!finish(line, too_long))
            return false;
          ++begin; // the newline
        }
      }
    }
    // A last line without a newline is a line too.
    if (size_ > 0)
      return finish(line, too_long);
    return true;
  }

private:
  void take(const char* data, size_t n) {
    size_ += n;
    if (size_ <= limit_)
      current_.append(data, n);
    else
      current_.clear(); // skipped to its end: only its size is kept
  }

  template <class Line, class TooLong>
  bool finish(Line& line, TooLong& too_long) {
    ++number_;
    auto taken = size_ <= limit_ ? line(std::move(current_))
                                 : too_long(number_, size_);
    current_.clear();
    size_ = 0;
    return taken;
  }

  size_t limit_;
  std::string current_;
  uint64_t size_ = 0;
  uint64_t number_ = 0;
};

} // namespace

int main(int argc, char** argv) {
  std::string url;
  std::string config_file;
  std::string linger_text = "250ms";
  library_options lib;
  CLI::App app{"A reconnecting websocat: each line of stdin is one message, "
               "each message received one line of stdout, each change of "
               "state one line of stderr.",
               "wsm-cat"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("URL", url,
                 "ws[s]://[user:password@]host[:port][/path][?query]")
    ->required();
  add_library_options(app, lib);
  cat_modes modes;
  app.add_flag("--json", modes.json,
               "print each status as one JSON object per line on stderr "
               "(every field of wsm::status) instead of STATE lines");
  app.add_flag("--base64", modes.base64,
               "each line of stdin is the base64 of one message; each "
               "message received is printed as one base64 line");
  app.add_flag("-1,--one-message", modes.one_message,
               "exit after the first message received");
  std::string origin;
  app.add_option("--origin", origin,
                 "send this Origin header with the upgrade request");
  app.add_option("--linger", linger_text,
                 "at the end of stdin, wait until the peer has been silent "
                 "this long before closing, so replies in flight are printed")
    ->capture_default_str();
  app.add_option("--config", config_file,
                 "a CAF INI file: its [wsm] group sets the library's "
                 "options, its [wsm-cat] group any option above "
                 "(see configs/wsm-cat.ini)");
  if (auto status = wsm_apps::parse_command_line(app, argc, argv, "wsm-cat");
      status >= 0)
    return status;
  if (!origin.empty())
    lib.headers.insert(lib.headers.begin(), "Origin: " + origin);
  wsm::settings settings;
  if (auto problem = make_settings(app, config_file, lib, settings);
      !problem.empty()) {
    report(modes.json, "error", problem);
    return exit_usage;
  }
  if (settings.machine.tls.insecure_skip_verify)
    report(modes.json, "warning",
           "warning: --insecure: server certificates are not verified; "
           "anyone on the path can read and change this connection");
  auto linger = wsm::parse_duration(linger_text);
  if (!linger) {
    report(modes.json, "error",
           "--linger: " + wsm::describe(linger.error()));
    return exit_usage;
  }
  std::atomic<int> exit_code{0};
  {
    wsm::config cfg;
    settings.apply_to(cfg);
    caf::actor_system sys{cfg};
    if (!wsm_apps::announce_metrics(sys, "wsm-cat", modes.json))
      return exit_usage;
    // Detached: printing may block, and only this actor's own thread.
    input_gate input;
    // The machine's queue starts empty, and the cat is its only producer.
    input.grant(wsm::room{settings.machine.max_queue,
                          settings.machine.max_queue_bytes});
    auto subscriber = sys.spawn<caf::detached>(cat, &exit_code, *linger,
                                               settings.machine.close_timeout,
                                               modes, &input);
    auto machine = wsm::spawn_machine(sys, url, settings.machine,
                                      subscriber);
    if (!machine) {
      report(modes.json, "error", wsm::describe(machine.error()));
      caf::anon_send_exit(subscriber, caf::exit_reason::user_shutdown);
      return exit_usage;
    }
    caf::anon_send(subscriber, *machine);
    // A line the queue could never hold is refused like one too long.
    auto& machine_opts = settings.machine;
    auto queue_bounds = machine_opts.max_queue_bytes
                        < machine_opts.max_message_size;
    auto limit = queue_bounds ? machine_opts.max_queue_bytes
                              : machine_opts.max_message_size;
    std::string limit_name = queue_bounds ? "max_queue_bytes"
                                          : "max_message_size";
    // The reader stops when the cat closes the gate (--one-message, a
    // machine that gave up): wsm-cat does not wait for stdin to close then.
    std::thread reader{[&, subscriber] {
      auto ended = line_reader{limit}.run(
        [&](std::string line) {
          // Read no faster than the machine writes.
          return input.pass_line(
            line,
            [&] {
              caf::anon_send(subscriber, need_atom::value,
                             static_cast<uint64_t>(line.size()));
            },
            [&] {
              caf::anon_send(subscriber, line_atom::value, std::move(line));
            });
        },
        [&](uint64_t number, uint64_t size) {
          return input.pass([&] {
            caf::anon_send(subscriber, line_atom::value, number, size,
                           static_cast<uint64_t>(limit), limit_name);
          });
        },
        [&] { return input.is_closed(); });
      if (ended)
        input.pass([&] { caf::anon_send(subscriber, eof_atom::value); });
    }};
    // Holding the handle keeps the cat alive until it ends by itself (after
    // the machine): an actor nobody references may vanish before its last
    // message.
    caf::scoped_actor{sys}->wait_for(subscriber);
    input.close();
    reader.join();
    if (input.unsent) {
      // Read, but the machine ended while it waited for room (as read:
      // base64 with --base64, as a not-delivered line shows it).
      const auto& shown = *input.unsent;
      report(modes.json, "not_delivered",
             "not delivered (the machine had ended): " + shown,
             [&](wsm::json_object& x) {
               x.text("reason", "the machine had ended").text("payload", shown);
             });
      exit_code = 1;
    }
  }
  return exit_code;
}
