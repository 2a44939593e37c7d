// wsm-node: hosts machines for other nodes. Publishes a spawner (see
// wsm/spawner.hpp) with CAF's middleman on an address and port, prints
// `listening on ADDRESS:PORT`, and serves until SIGINT or SIGTERM. Another
// node asks the spawner for a machine by URL and options and gets its
// handle back. With --tls, only nodes whose certificate the CA vouches for
// link to it, over TLS (see wsm/node_tls.hpp).

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>

#include "config_args.hpp"
#include "metrics_args.hpp"
#include "wsm/wsm.hpp"

namespace {

struct node_config : wsm::config {
  node_config() {
    load<caf::io::middleman>();
  }
};

/// Prints a problem with the command line or file and returns the status.
int usage_error(const std::string& what) {
  std::cerr << "wsm-node: " << what << '\n';
  return wsm_apps::exit_usage;
}

} // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  std::string config_file;
  CLI::App app{"Hosts wsm machines for other nodes: publishes a spawner with "
               "CAF's middleman.",
               "wsm-node"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--address", address,
                 "address to publish on (loopback unless told otherwise)")
    ->capture_default_str();
  app.add_option("--port", port, "port to publish on, 0 picks a free one")
    ->capture_default_str();
  app.add_option("--config", config_file,
                 "a CAF INI file whose [wsm-node] group sets these options");
  bool tls = false;
  wsm::tls_options tls_files;
  app.add_flag("--tls", tls,
               "link to other nodes over TLS only, each side proving itself "
               "with a certificate the CA issued");
  app.add_option("--ca-file", tls_files.ca_file,
                 "with --tls: PEM file of the CA that admits nodes");
  app.add_option("--ca-path", tls_files.ca_path,
                 "with --tls: directory of CA certificates (hashed names)");
  app.add_option("--cert", tls_files.cert_file,
                 "with --tls: this node's certificate (PEM)");
  app.add_option("--key", tls_files.key_file,
                 "with --tls: the private key of --cert (PEM)");
  wsm_apps::metrics_flags metrics;
  wsm_apps::add_metrics_options(app, metrics);
  if (auto status = wsm_apps::parse_command_line(app, argc, argv, "wsm-node");
      status >= 0)
    return status;
  // Only the signal wait below sees these, not the actor system's threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  node_config cfg;
  if (tls) {
    if (auto err = wsm::enable_node_tls(cfg, tls_files))
      return usage_error(wsm::describe(err));
  } else if (!tls_files.ca_file.empty() || !tls_files.ca_path.empty()
             || !tls_files.cert_file.empty() || !tls_files.key_file.empty()) {
    return usage_error("--ca-file, --ca-path, --cert and --key need --tls");
  }
  if (auto problem = wsm_apps::apply_metrics_options(metrics, cfg);
      !problem.empty())
    return usage_error(problem);
  caf::actor_system sys{cfg};
  if (!wsm_apps::announce_metrics(sys, "wsm-node"))
    return wsm_apps::exit_usage;
  auto spawner = wsm::spawn_spawner(sys);
  auto published = wsm::publish_spawner(sys, spawner, port, address);
  if (!published) {
    std::cerr << "wsm-node: cannot publish on " << address << ":" << port
              << ": " << sys.render(published.error()) << '\n';
    caf::anon_send_exit(spawner, caf::exit_reason::user_shutdown);
    return 1;
  }
  std::printf("listening on %s:%u\n", address.c_str(), *published);
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  // Machines placed here end with the node; the spawner first.
  caf::anon_send_exit(spawner, caf::exit_reason::user_shutdown);
  return 0;
}
