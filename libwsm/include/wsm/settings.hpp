#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/settings.hpp>
#include <caf/timespan.hpp>

#include "wsm/options.hpp"

namespace wsm {

/// Parses a duration written like `250ms`, `5s` or `2min` (units: ns, us,
/// ms, s, min, h). The error says what was expected.
caf::expected<caf::timespan> parse_duration(const std::string& text);

/// Parses a header written like `Name: Value` and checks it as spawn does.
caf::expected<header> parse_header(const std::string& text);

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
};

/// Reads a file in CAF's INI format without interpreting it. A file that
/// can't be read or parsed is an error naming the file and the line.
caf::expected<caf::settings> read_ini_file(const std::string& path);

/// The keys of group `[wsm]`.
std::vector<std::string> settings_keys();

/// Applies group `[wsm]` of `content` over `result`. An unknown key or a
/// value of the wrong type is an error naming the key.
caf::error apply_settings(const caf::settings& content, settings& result);

} // namespace wsm
