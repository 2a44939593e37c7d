// Failover across processes: two `wsm-node` processes and this one, the
// client, which runs a pool over both and a local echo server. Machines
// spread over the nodes; one node is killed (SIGKILL, no goodbye); its
// machines come back on the other, their subscribers see the lost node
// named, then CONNECTING, CONNECTED; echoes resume; every output the pool
// accepted reached the server or came back as undelivered. Plain links,
// then TLS links between the nodes.

#define CAF_SUITE failover

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/io/middleman.hpp>

#include "echo_server.hpp"
#include "support/live_fixture.hpp"
#include "support/node_fixture.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using wsm::state;
using wsm_test::event_timeout;
using wsm_test::node_tls;
using wsm_test::recording;

namespace {

/// A `wsm-node` process with its port, read from its `listening on` line.
class node_process {
public:
  explicit node_process(const std::vector<std::string>& extra_args) {
    int out[2];
    CAF_REQUIRE_EQUAL(pipe2(out, O_CLOEXEC), 0);
    std::vector<std::string> args{WSM_NODE_PATH, "--port=0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    CAF_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // A node must not outlive a test that failed half-way.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(out[1], STDOUT_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    port_ = read_port(out[0]);
    close(out[0]);
  }

  ~node_process() {
    if (!killed_)
      kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }

  uint16_t port() const {
    return port_;
  }

  std::string name() const {
    return "127.0.0.1:" + std::to_string(port_);
  }

  /// No goodbye: the process ends at once, its links with it; the client
  /// goes on sending meanwhile.
  void kill_hard() {
    kill(pid_, SIGKILL);
    killed_ = true;
  }

private:
  /// Reads `listening on 127.0.0.1:PORT` within the bound.
  static uint16_t read_port(int fd) {
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + event_timeout;
    while (text.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      pollfd waiting{fd, POLLIN, 0};
      CAF_REQUIRE(left.count() > 0 && poll(&waiting, 1, left.count()) == 1);
      char chunk[256];
      auto n = read(fd, chunk, sizeof(chunk));
      CAF_REQUIRE(n > 0);
      text.append(chunk, static_cast<size_t>(n));
    }
    auto colon = text.rfind(':', text.find('\n'));
    CAF_REQUIRE(text.rfind("listening on 127.0.0.1:", 0) == 0);
    return static_cast<uint16_t>(std::stoul(text.substr(colon + 1)));
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool killed_ = false;
};

/// Spreads `count` machines over two node processes, kills one, and checks
/// what the client sees. `tls` are the client's node TLS options and
/// `node_args` the nodes' extra arguments; `bystanders_undisturbed` says
/// that the machines of the node left see nothing of it.
void fail_over(size_t count, const std::optional<wsm::tls_options>& tls,
               const std::vector<std::string>& node_args,
               bool bystanders_undisturbed) {
  wsm_echo::echo_server server{recording()};
  auto url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/echo";
  node_process first{node_args};
  node_process second{node_args};
  wsm_test::node_config cfg{tls};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto pool = wsm::spawn_pool(sys, false);
  for (auto* node : {&first, &second})
    self->request(pool, 2 * event_timeout, wsm::add_node_atom::value,
                  std::string{"127.0.0.1"}, node->port())
      .receive(
        [&](const std::string& name) { CAF_CHECK_EQUAL(name, node->name()); },
        [](caf::error& err) {
          CAF_FAIL("node not added: " << wsm::describe(err));
        });
  wsm::options opts;
  opts.retry_delay = 10s;
  opts.backoff_jitter = 0;
  std::vector<wsm::machine_actor> members;
  for (size_t i = 0; i < count; ++i)
    self->request(pool, event_timeout, wsm::spawn_atom::value, url, opts,
                  caf::actor_cast<caf::actor>(self))
      .receive([&](wsm::machine_actor& x) { members.push_back(x); },
               [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  // Statuses by member, and the payloads that came back as undelivered.
  std::map<caf::actor_addr, std::vector<wsm::status>> seen;
  std::set<std::string> echoed;
  std::set<std::string> returned;
  auto receive_one = [&] {
    self->receive(
      [&](wsm::status& x) {
        seen[caf::actor_cast<caf::actor_addr>(self->current_sender())]
          .push_back(std::move(x));
      },
      [&](const wsm::input& x) { echoed.insert(x.payload); },
      [&](const wsm::undelivered& x) { returned.insert(x.payload); },
      caf::after(2 * event_timeout) >> [] {
        CAF_FAIL("the client heard nothing within the bound");
      });
  };
  auto all_connected = [&] {
    for (auto& member : members) {
      auto& statuses = seen[member.address()];
      if (statuses.empty() || statuses.back().state != state::connected)
        return false;
    }
    return true;
  };
  while (!all_connected())
    receive_one();
  // Spread evenly over the two nodes.
  std::vector<wsm::placement> table;
  auto read_table = [&] {
    self->request(pool, event_timeout, wsm::get_atom::value,
                  wsm::placement_atom::value)
      .receive([&](std::vector<wsm::placement>& x) { table = std::move(x); },
               [](caf::error& err) { CAF_FAIL(wsm::describe(err)); });
  };
  read_table();
  std::set<caf::actor_addr> on_second;
  for (auto& row : table)
    if (row.node == second.name())
      on_second.insert(row.member.address());
  CAF_CHECK_EQUAL(on_second.size(), count / 2);
  // Outputs flow to every member while the second node dies.
  std::set<std::string> payloads;
  auto send_round = [&](const std::string& tag) {
    for (size_t i = 0; i < members.size(); ++i) {
      auto payload = tag + " to member " + std::to_string(i + 1);
      payloads.insert(payload);
      self->send(members[i], wsm::output{payload});
    }
  };
  seen.clear();
  for (int round = 0; round < 20; ++round)
    send_round("before " + std::to_string(round));
  second.kill_hard();
  for (int round = 0; round < 20; ++round)
    send_round("during " + std::to_string(round));
  // The second node's members: the node named, then a new machine.
  auto moved = [&] {
    for (auto& member : members) {
      auto& statuses = seen[member.address()];
      if (on_second.count(member.address()) > 0 && statuses.empty())
        return false;
      if (!statuses.empty() && statuses.back().state != state::connected)
        return false;
    }
    return true;
  };
  while (!moved())
    receive_one();
  for (auto& member : members) {
    auto& statuses = seen[member.address()];
    if (on_second.count(member.address()) == 0) {
      if (bystanders_undisturbed) {
        CAF_CHECK_EQUAL(statuses.size(), 0u);
      } else if (!statuses.empty()) {
        // CAF 0.17's TLS links fail together (see docs/distribution.md):
        // the first node was lost too, then reached again.
        CAF_CHECK_EQUAL(statuses[0].error,
                        "node '" + first.name()
                          + "' lost: remote_link_unreachable");
      }
      continue;
    }
    if (!bystanders_undisturbed && statuses.size() != 3u) {
      // Both links went (see above): lost, then at home on the first node.
      CAF_CHECK_EQUAL(statuses[0].state, state::disconnected);
      CAF_CHECK_EQUAL(statuses.back().state, state::connected);
      continue;
    }
    CAF_REQUIRE_EQUAL(statuses.size(), 3u);
    CAF_CHECK_EQUAL(statuses[0].state, state::disconnected);
    CAF_CHECK_EQUAL(statuses[0].error,
                    "node '" + second.name()
                      + "' lost: remote_link_unreachable");
    CAF_CHECK_EQUAL(statuses[0].epoch, 1u);
    CAF_CHECK_EQUAL(statuses[1], (wsm::status{state::connecting, "", 1, 1}));
    CAF_CHECK_EQUAL(statuses[2].state, state::connected);
    CAF_CHECK_EQUAL(statuses[2].epoch, 2u);
  }
  read_table();
  for (auto& row : table)
    CAF_CHECK_EQUAL(row.node, first.name());
  // Echoes resume on every member.
  send_round("after");
  auto resumed = [&] {
    for (size_t i = 0; i < members.size(); ++i)
      if (echoed.count("after to member " + std::to_string(i + 1)) == 0)
        return false;
    return true;
  };
  while (!resumed())
    receive_one();
  // Nothing the pool accepted was lost silently: each output reached the
  // server (a reply in flight when the node died is lost with it) or came
  // back to its sender.
  auto received = server.messages_received();
  std::set<std::string> arrived{received.begin(), received.end()};
  size_t unaccounted = 0;
  size_t echoes_lost = 0;
  for (auto& payload : payloads) {
    if (arrived.count(payload) == 0 && returned.count(payload) == 0)
      ++unaccounted;
    if (echoed.count(payload) == 0)
      ++echoes_lost;
  }
  CAF_CHECK_EQUAL(unaccounted, 0u);
  CAF_MESSAGE(payloads.size()
              << " outputs: " << returned.size() << " undelivered, "
              << received.size() - arrived.size()
              << " written twice (at least once), " << echoes_lost
              << " echoes lost with the node");
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
}

} // namespace

CAF_TEST(machines of a killed node come back on the node left) {
  fail_over(6, std::nullopt, {}, true);
}

CAF_TEST(the same over TLS links between the nodes) {
  wsm_test::test_pki pki;
  auto nodes = node_tls(pki, "node");
  fail_over(4, node_tls(pki, "client"),
            {"--tls", "--ca-file=" + nodes.ca_file,
             "--cert=" + nodes.cert_file, "--key=" + nodes.key_file},
            false);
}
