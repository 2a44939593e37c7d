#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

namespace wsm {

/// Errors that libwsm returns; their category is the atom `wsm`.
enum class errc : uint8_t {
  invalid_url = 1,
  invalid_header,
  invalid_option,
  /// The actor system was not set up with `wsm::config` or `wsm::init`.
  not_configured,
  /// Exit reason: the server refused the handshake with a status that is
  /// not worth retrying (4xx other than 429, unless listed as retryable).
  handshake_rejected,
  /// Exit reason: `max_retries` failed attempts in a row.
  retries_exhausted,
  /// Reply to an output sent as a request that was never written.
  undelivered,
  /// A pool could not add a node: nothing answers there, or what answers is
  /// not a spawner.
  node_unavailable,
  /// Reply to an output sent as a request that was never written because
  /// its machine quit first (a kind of `undelivered`).
  machine_quit,
  /// Exit reason: an exception inside the machine (memory exhausted, say);
  /// its queued outputs went back as undelivered and travel in the reason.
  internal_error,
};

/// The name of an error code, e.g. `invalid_url`.
const char* to_string(errc x) noexcept;

/// Makes an error of category `wsm` whose context says what is wrong.
caf::error make_error(errc code, std::string what);

/// Returns the text of an error for people: for libwsm's errors the sentence
/// that names the problem, for others CAF's rendering; empty for no error.
std::string describe(const caf::error& err);

/// For a machine's exit reason: the payloads that were still queued when it
/// gave up (they also went back to their senders as `undelivered`).
std::vector<std::string> unsent_payloads(const caf::error& exit_reason);

/// Makes an exit reason that carries the payloads still queued.
caf::error make_exit_reason(errc code, std::string what,
                            std::vector<std::string> unsent);

} // namespace wsm
