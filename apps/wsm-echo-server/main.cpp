// wsm-echo-server: a WebSocket echo server on 127.0.0.1 for tests and demos.
// Prints the URL it listens on, then serves until SIGINT or SIGTERM.

#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "echo_server.hpp"

int main(int argc, char** argv) {
  wsm_echo::server_options opts;
  CLI::App app{"WebSocket echo server on 127.0.0.1", "wsm-echo-server"};
  app.add_option("--port", opts.port, "port to listen on, 0 picks a free one")
    ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wsm-echo-server: %s\n", e.what());
    return 2;
  }
  // Block the signals before the server's thread starts so that only
  // sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  wsm_echo::echo_server server{opts};
  std::printf("listening on ws://127.0.0.1:%u/\n", server.port());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  server.stop();
  return 0;
}
