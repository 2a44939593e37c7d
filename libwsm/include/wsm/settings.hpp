#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/settings.hpp>
#include <caf/timespan.hpp>

#include "wsm/options.hpp"

namespace wsm {

/// Parses a duration written like `250ms`, `5s` or `2min` (units: ns, us,
/// ms, s, min, h). The error says what was expected.
caf::expected<caf::timespan> parse_duration(const std::string& text);

/// Parses a header written like `Name: Value` and checks it as spawn does.
caf::expected<header> parse_header(const std::string& text);

/// Reads headers from `path`, one `Name: value` per line; empty lines and
/// lines starting with `#` are skipped. The error names the file, and the
/// line of a bad header by its number.
caf::expected<std::vector<header>> read_header_file(const std::string& path);

/// Parses `reject`, `drop-oldest` or `drop-newest`.
caf::expected<overflow_policy> parse_overflow_policy(const std::string& text);

/// libwsm's settings, as group `[wsm]` of a CAF INI file holds them; each
/// key is the option's name with dashes (`ping-interval`, `max-queue`, ...),
/// see `settings_keys()`, and configs/wsm.ini lists them all with their
/// defaults.
struct settings {
  /// Every machine option of the group.
  options machine;
  /// `io-threads`: threads of the shared Asio context.
  size_t io_threads = 1;
  /// `metrics-address`: where to serve metrics and the status page
  /// (`wsm.metrics-address`, see wsm/metrics.hpp); empty: nowhere.
  std::string metrics_address;
  /// `metrics-per-machine`: series per machine too.
  bool metrics_per_machine = false;

  /// Sets what of these belongs to the actor system (`wsm.io-threads`,
  /// `wsm.metrics-address`, `wsm.metrics-per-machine`) in `cfg`.
  void apply_to(caf::actor_system_config& cfg) const;
};

/// Reads a file in CAF's INI format without interpreting it. A file that
/// can't be read or parsed is an error naming the file and the line.
caf::expected<caf::settings> read_ini_file(const std::string& path);

/// The keys of group `[wsm]`.
std::vector<std::string> settings_keys();

/// How a key of group `[wsm]` is written: a switch (true or false), one
/// value, or a list.
enum class setting_form : uint8_t { flag, value, list };

/// One key of group `[wsm]`, described for people and for command lines.
struct setting_description {
  /// The key, e.g. `ping-interval`.
  std::string key;
  /// How it is written.
  setting_form form;
  /// What it does, for help texts.
  std::string help;
  /// Its default as a config file writes it (`30s`, `0.2`, `reject`);
  /// empty when it has none (a list, a file name).
  std::string default_value;
};

/// Every key of group `[wsm]`, by name, with its default: each is declared
/// once in the library, and command lines and help texts are made from this.
std::vector<setting_description> describe_settings();

/// Applies group `[wsm]` of `content` over `result`. An unknown key or a
/// value of the wrong type is an error naming the key.
caf::error apply_settings(const caf::settings& content, settings& result);

} // namespace wsm
