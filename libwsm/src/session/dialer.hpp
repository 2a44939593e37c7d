#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "session/stream_types.hpp"
#include "wsm/transport.hpp"

namespace wsm::detail {

/// Where a dialer goes and how patiently.
struct dial_target {
  std::string host;
  std::string port;
  /// The address to connect from; empty: the system chooses.
  std::string local_address;
  caf::timespan connect_timeout;
  caf::timespan connect_attempt_delay;
};

/// Resolves a name and connects to the first of its addresses to answer
/// (RFC 8305, happy eyeballs): each address is bounded by connect_timeout,
/// and the next one starts connect_attempt_delay after the one before,
/// or at once when that one failed. Knows nothing of WebSocket, proxies or
/// the session that uses it; runs on its executor's thread alone.
class dialer : public std::enable_shared_from_this<dialer> {
public:
  /// Called once, unless cancelled first: with the connected socket, or
  /// with why there is none (cause `network`, or `internal_error`).
  using handler =
    std::function<void(std::optional<disconnect_info> failure, socket_type)>;

  dialer(executor_type executor, dial_target target);

  /// Starts resolving, then connecting.
  void start(handler done);

  /// Stops every lookup, timer and connect under way; the handler is not
  /// called.
  void cancel();

  /// RFC 8305 4: the addresses in the resolver's order, but alternating
  /// families, starting with the first one's.
  static std::vector<tcp::endpoint>
  interleave_families(std::vector<tcp::endpoint> xs);

private:
  /// One address being connected to.
  struct attempt {
    explicit attempt(executor_type executor)
      : socket(executor), timer(executor) {
    }
    socket_type socket;
    timer_type timer;
    /// Its connect completed (or failed to start).
    bool done = false;
    /// connect_timeout closed it.
    bool timed_out = false;
  };

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results);
  void start_next_address();
  void on_address_connected(const std::shared_ptr<attempt>& which,
                            beast::error_code ec);
  void finish(std::optional<disconnect_info> failure, socket_type socket);

  /// Runs `f` in a completion handler: an exception ends the dial as an
  /// internal error instead of leaving Asio's run loop.
  template <class F>
  void guarded(const char* what, F&& f) noexcept;

  executor_type executor_;
  resolver_type resolver_;
  /// Starts the next address while earlier ones are pending.
  timer_type stagger_;
  dial_target target_;
  handler done_;
  /// The addresses, families alternating, and the next to try.
  std::vector<tcp::endpoint> endpoints_;
  size_t next_endpoint_ = 0;
  /// The addresses tried so far, and how many are still connecting.
  std::vector<std::shared_ptr<attempt>> attempts_;
  size_t pending_ = 0;
  /// Why the last address failed.
  std::string last_error_;
  /// Where to connect from (local_address), if given.
  std::optional<tcp::endpoint> local_;
  /// The handler was called, or the dial cancelled: nothing more happens.
  bool finished_ = false;
};

} // namespace wsm::detail
