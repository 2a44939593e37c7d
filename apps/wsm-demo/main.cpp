// wsm-demo: the machine at work, with no network and no second terminal.
//
// Starts an echo server inside the process, spawns a few machines, shows
// their states and echoes as they happen, restarts the server once so that
// every machine reconnects, then quits them all and says what it showed.
//
//   all CONNECTED ─▶ send hello ─▶ all echoed ─▶ restart server
//        ─▶ all CONNECTED again ─▶ send hello again ─▶ all echoed ─▶ quit all
//
// The conductor actor drives the script; the main thread owns the server,
// because stopping a server joins its thread and an actor never blocks.

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "config_args.hpp"
#include "metrics_args.hpp"
#include "echo_server.hpp"
#include "wsm/wsm.hpp"

namespace {

using restart_atom = caf::atom_constant<caf::atom("restart")>;
using restarted_atom = caf::atom_constant<caf::atom("restarted")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

using clock_type = std::chrono::steady_clock;

/// Where the script stands.
enum class act { first_round, restarting, second_round, quitting };

struct conductor_state {
  std::vector<wsm::machine_actor> machines;
  caf::actor stage_manager; // the main thread, which owns the server
  act current = act::first_round;
  size_t connected = 0;
  size_t echoes = 0;
  size_t echoes_this_round = 0;
  size_t reconnects = 0;
  size_t ended = 0;
  clock_type::time_point started = clock_type::now();
  static inline const char* name = "conductor";
};

using conductor_actor = caf::stateful_actor<conductor_state>;

/// The index of the machine that sent the current message, 1-based.
size_t sender_index(conductor_actor* self) {
  auto& machines = self->state.machines;
  auto sender = self->current_sender();
  for (size_t i = 0; i < machines.size(); ++i)
    if (caf::actor_cast<caf::strong_actor_ptr>(machines[i]) == sender)
      return i + 1;
  return 0;
}

void send_round(conductor_actor* self, const std::string& text) {
  auto& st = self->state;
  st.echoes_this_round = 0;
  for (size_t i = 0; i < st.machines.size(); ++i)
    self->send(st.machines[i],
               wsm::output{text + " from m" + std::to_string(i + 1)});
}

void say(conductor_actor* self, const std::string& line) {
  std::cout << line << std::endl;
}

caf::behavior conductor(conductor_actor* self, caf::actor stage_manager,
                        std::string url, size_t count) {
  auto& st = self->state;
  st.stage_manager = std::move(stage_manager);
  wsm::options opts;
  opts.retry_delay = std::chrono::milliseconds(300);
  for (size_t i = 0; i < count; ++i) {
    auto machine = wsm::spawn_machine(self->system(), url, opts,
                                      caf::actor_cast<caf::actor>(self));
    if (!machine) {
      say(self, "demo: " + wsm::describe(machine.error()));
      self->quit();
      return {};
    }
    self->monitor(*machine);
    st.machines.push_back(std::move(*machine));
  }
  self->set_down_handler([=](const caf::down_msg&) {
    auto& st = self->state;
    if (++st.ended < st.machines.size())
      return;
    auto seconds = std::chrono::duration<double>(clock_type::now() - st.started)
                     .count();
    char summary[200];
    std::snprintf(summary, sizeof(summary),
                  "demo: showed %zu machines, %zu echoes, %zu reconnects "
                  "after one server restart, all quit cleanly in %.1f s",
                  st.machines.size(), st.echoes, st.reconnects, seconds);
    say(self, summary);
    self->send(st.stage_manager, done_atom::value, true);
    self->quit();
  });
  self->delayed_send(self, std::chrono::seconds(12), deadline_atom::value);
  return {
    [=](const wsm::status& x) {
      auto& st = self->state;
      say(self, "[m" + std::to_string(sender_index(self)) + "] STATE "
                  + wsm::to_string(x.state)
                  + (x.error.empty() ? "" : ": " + x.error));
      if (x.state != wsm::state::connected)
        return;
      if (x.epoch > 1)
        ++st.reconnects;
      if (++st.connected < st.machines.size())
        return;
      st.connected = 0;
      if (st.current == act::first_round) {
        send_round(self, "hello");
      } else if (st.current == act::restarting) {
        say(self, "--- every machine is back: sending again ---");
        st.current = act::second_round;
        send_round(self, "hello again");
      }
    },
    [=](const wsm::input& x) {
      auto& st = self->state;
      ++st.echoes;
      say(self, "[m" + std::to_string(sender_index(self)) + "] ECHO "
                  + x.payload);
      if (++st.echoes_this_round < st.machines.size())
        return;
      if (st.current == act::first_round) {
        say(self, "--- restarting the server ---");
        st.current = act::restarting;
        self->send(st.stage_manager, restart_atom::value);
      } else if (st.current == act::second_round) {
        say(self, "--- quitting every machine ---");
        st.current = act::quitting;
        for (auto& machine : st.machines)
          self->send(machine, wsm::command::quit);
      }
    },
    [=](restarted_atom) { say(self, "--- the server is back ---"); },
    [=](deadline_atom) {
      auto& st = self->state;
      say(self, "demo: did not finish in time");
      for (auto& machine : st.machines)
        self->send(machine, wsm::command::quit);
      self->send(st.stage_manager, done_atom::value, false);
      self->quit();
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  size_t count = 3;
  std::string downtime_text = "500ms";
  CLI::App app{"Shows wsm machines connecting, echoing, reconnecting after a "
               "server restart, and quitting, against an echo server inside "
               "the process.",
               "wsm-demo"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--machines", count, "how many machines")
    ->check(CLI::Range(1, 50))
    ->capture_default_str();
  app.add_option("--downtime", downtime_text,
                 "how long the server stays down")
    ->capture_default_str();
  std::string config_file;
  app.add_option("--config", config_file,
                 "a CAF INI file whose [wsm-demo] group sets these options");
  wsm_apps::metrics_flags metrics;
  wsm_apps::add_metrics_options(app, metrics);
  if (auto status = wsm_apps::parse_command_line(app, argc, argv, "wsm-demo");
      status >= 0)
    return status;
  auto downtime = wsm::parse_duration(downtime_text);
  if (!downtime) {
    std::cerr << "wsm-demo: --downtime: " << wsm::describe(downtime.error())
              << '\n';
    return 2;
  }
  auto server = std::make_unique<wsm_echo::echo_server>();
  auto port = server->port();
  auto url = "ws://127.0.0.1:" + std::to_string(port) + "/demo";
  std::cout << "echo server on " << url << ", " << count << " machines"
            << std::endl;
  bool finished = false;
  {
    wsm::config cfg;
    if (auto problem = wsm_apps::apply_metrics_options(metrics, cfg);
        !problem.empty()) {
      std::cerr << "wsm-demo: " << problem << '\n';
      return 2;
    }
    caf::actor_system sys{cfg};
    if (!wsm_apps::announce_metrics(sys, "wsm-demo"))
      return 2;
    caf::scoped_actor stage_manager{sys};
    // Held until the end: an actor nobody references may vanish before it
    // has seen its last machine go.
    auto director = sys.spawn(
      conductor, caf::actor_cast<caf::actor>(stage_manager), url, count);
    // The main thread does what would block an actor: stopping and
    // restarting the server.
    for (bool running = true; running;) {
      stage_manager->receive(
        [&](restart_atom) {
          server->stop();
          std::this_thread::sleep_for(*downtime);
          wsm_echo::server_options opts;
          opts.port = port;
          server = std::make_unique<wsm_echo::echo_server>(opts);
          stage_manager->send(caf::actor_cast<caf::actor>(
                                stage_manager->current_sender()),
                              restarted_atom::value);
        },
        [&](done_atom, bool success) {
          finished = success;
          running = false;
        });
    }
  }
  return finished ? 0 : 1;
}
