// wsm-echo-server: a WebSocket echo server on 127.0.0.1 for tests and demos,
// with fault switches, TLS, subprotocols and permessage-deflate. Prints the
// URL it listens on, then serves on one thread until SIGINT or SIGTERM.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "config_args.hpp"
#include "echo_server.hpp"
#include "wsm/error.hpp"
#include "wsm/settings.hpp"

namespace {

using wsm_apps::exit_usage;

/// Parses a duration option into milliseconds; returns the problem, if any.
std::string to_milliseconds(const std::string& flag, const std::string& text,
                            std::chrono::milliseconds& result) {
  if (text.empty())
    return {};
  auto parsed = wsm::parse_duration(text);
  if (!parsed)
    return flag + ": " + wsm::describe(parsed.error());
  result = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  return {};
}

} // namespace

int main(int argc, char** argv) {
  wsm_echo::server_options opts;
  std::string drop_every;
  std::string echo_delay;
  std::string ping_every;
  std::string play_file;
  std::string config_file;
  CLI::App app{"A WebSocket echo server on 127.0.0.1 with fault switches, "
               "TLS, subprotocols and permessage-deflate. "
               "Each message comes back with its frame type; /CLOSE closes "
               "the connection with 1000. Its first line on stdout, once it "
               "listens, is 'listening on URL' (ws://HOST:PORT/, or wss:// "
               "with --cert); with --port=0 that is how to learn the port.",
               "wsm-echo-server"};
  // The command line wins over the config file: the last value counts.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--address", opts.address,
                 "address to listen on, e.g. ::1 for IPv6 loopback")
    ->capture_default_str();
  app.add_option("--port", opts.port, "port to listen on, 0 picks a free one")
    ->capture_default_str();
  app.add_option("--cert", opts.cert_file,
                 "PEM certificate (chain) of the server: speak TLS (wss://)")
    ->check(CLI::ExistingFile);
  app.add_option("--key", opts.key_file, "PEM private key of --cert")
    ->check(CLI::ExistingFile);
  app.add_option("--client-ca", opts.client_ca_file,
                 "with TLS, require a client certificate issued by a CA of "
                 "this PEM file")
    ->check(CLI::ExistingFile);
  app.add_option("--subprotocol", opts.subprotocols,
                 "a subprotocol the server speaks (repeatable); it picks the "
                 "first the client offers")
    ->type_size(1)
    ->expected(1)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--force-subprotocol", opts.force_subprotocol,
                 "answer every upgrade with this subprotocol, offered or not");
  app.add_option("--force-extension", opts.force_extension,
                 "answer every upgrade with this Sec-WebSocket-Extensions "
                 "value, offered or not");
  std::vector<std::string> redirects;
  app.add_option("--redirect", redirects,
                 "'TARGET STATUS LOCATION': answer upgrades for TARGET with a "
                 "redirect ({port} is the server's port; repeatable)")
    ->type_size(1)
    ->expected(1)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("--deflate", opts.deflate,
               "accept permessage-deflate when a client offers it");
  app.add_option("--drop-every", drop_every,
                 "drop every connection (no close frame) this often, e.g. 2s");
  app.add_option("--refuse", opts.refuse_status,
                 "refuse every handshake with this HTTP status, e.g. 503")
    ->check(CLI::Range(100, 599));
  app.add_flag("--no-pong", opts.no_pong,
               "stop reading after the handshake: no pong, no echo, like a "
               "peer that hung");
  app.add_flag("--stall-handshake", opts.stall_handshake,
               "accept TCP connections and never answer the upgrade");
  app.add_option("--echo-delay", echo_delay, "wait this long before each echo");
  app.add_option("--ping-every", ping_every,
                 "ping each client this often (pongs are logged), e.g. 100ms");
  app.add_option("--play", play_file,
                 "after the first message of a connection, send each line "
                 "of FILE as a text frame (a recorded feed)");
  app.add_flag("--close-after-play", opts.close_after_play,
               "close with 1001 once the file has been played");
  app.add_flag("--log", opts.log, "print one line per event");
  app.add_option("--config", config_file,
                 "a CAF INI file whose [echo-server] group sets these options");
  if (auto status = wsm_apps::parse_command_line(app, argc, argv, "echo-server");
      status >= 0)
    return status;
  for (auto& text : redirects) {
    std::istringstream in{text};
    wsm_echo::server_options::redirect_rule rule;
    if (!(in >> rule.target >> rule.status >> rule.location)
        || rule.status < 300 || rule.status > 399) {
      std::cerr << "echo-server: --redirect " << text
                << ": write it as 'TARGET STATUS LOCATION' with a 3xx status\n";
      return wsm_apps::exit_usage;
    }
    opts.redirects.push_back(std::move(rule));
  }
  for (auto problem : {to_milliseconds("--drop-every", drop_every,
                                       opts.drop_every),
                       to_milliseconds("--echo-delay", echo_delay,
                                       opts.echo_delay),
                       to_milliseconds("--ping-every", ping_every,
                                       opts.ping_every)})
    if (!problem.empty()) {
      std::cerr << "wsm-echo-server: " << problem << '\n';
      return exit_usage;
    }
  if (opts.cert_file.empty() != opts.key_file.empty()) {
    std::cerr << "wsm-echo-server: --cert and --key go together\n";
    return exit_usage;
  }
  if (!opts.client_ca_file.empty() && opts.cert_file.empty()) {
    std::cerr << "wsm-echo-server: --client-ca needs --cert and --key\n";
    return exit_usage;
  }
  if (!play_file.empty()) {
    std::ifstream in{play_file};
    if (!in) {
      std::cerr << "wsm-echo-server: --play: cannot read '" << play_file
                << "'\n";
      return exit_usage;
    }
    for (std::string line; std::getline(in, line);)
      if (!line.empty())
        opts.play.push_back(line);
  }
  // Block the signals before the server's thread starts so that only
  // sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::unique_ptr<wsm_echo::echo_server> server;
  try {
    server = std::make_unique<wsm_echo::echo_server>(opts);
  } catch (const std::exception& e) {
    std::cerr << "wsm-echo-server: cannot start: " << e.what() << '\n';
    return 1;
  }
  auto host = opts.address.find(':') == std::string::npos
                ? opts.address
                : "[" + opts.address + "]";
  std::printf("listening on %s://%s:%u/\n",
              opts.cert_file.empty() ? "ws" : "wss", host.c_str(),
              server->port());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  server->stop();
  return 0;
}
