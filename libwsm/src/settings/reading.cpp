// Reading what users write: durations, headers, the header file, INI
// files (each problem named with its file and line).

#include "wsm/settings.hpp"

#include <fstream>
#include <sstream>

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>

#include "request/request_checks.hpp"
#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"

namespace wsm {

namespace {

using detail::quoted;

/// Returns the key on line `line` (1-based) of `text`, if the line has one.
std::string key_on_line(const std::string& text, int64_t line) {
  std::istringstream in{text};
  std::string current;
  for (int64_t i = 0; i < line && std::getline(in, current); ++i)
    ; // skip to the line
  auto equals = current.find('=');
  if (equals == std::string::npos)
    return {};
  auto key = current.substr(0, equals);
  key.erase(0, key.find_first_not_of(" \t"));
  key.erase(key.find_last_not_of(" \t") + 1);
  return key;
}

} // namespace

caf::expected<caf::timespan> parse_duration(const std::string& text) {
  auto value = caf::config_value::parse(text);
  if (value) {
    if (auto result = caf::get_if<caf::timespan>(&*value); result && result->count() >= 0)
      return *result;
    // Zero needs no unit.
    if (auto zero = caf::get_if<caf::config_value::integer>(&*value);
        zero && *zero == 0)
      return caf::timespan{0};
  }
  return make_error(errc::invalid_option,
                    quoted(text)
                      + " is not a duration (write it like 250ms, 5s, 2min)");
}

caf::expected<header> parse_header(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos)
    return make_error(errc::invalid_header,
                      "header " + quoted(text) + " has no ':' (write Name: Value)");
  header result{text.substr(0, colon), text.substr(colon + 1)};
  result.value.erase(0, result.value.find_first_not_of(" \t"));
  if (auto err = detail::check_header(result))
    return err;
  return result;
}

caf::expected<std::vector<header>> read_header_file(const std::string& path) {
  std::ifstream file{path};
  if (!file)
    return make_error(errc::invalid_header,
                      "header file " + quoted(path) + ": cannot read it");
  std::vector<header> result;
  std::string line;
  for (size_t number = 1; std::getline(file, line); ++number) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#')
      continue;
    auto parsed = parse_header(line);
    if (!parsed)
      return make_error(errc::invalid_header,
                        "header file " + quoted(path) + ", line "
                          + std::to_string(number) + ": "
                          + describe(parsed.error()));
    result.push_back(std::move(*parsed));
  }
  if (file.bad())
    return make_error(errc::invalid_header,
                      "header file " + quoted(path) + ": cannot read it");
  return result;
}

caf::expected<caf::settings> read_ini_file(const std::string& path) {
  std::ifstream file{path};
  if (!file)
    return make_error(errc::invalid_option,
                      "cannot read config file " + quoted(path));
  std::stringstream buffer;
  buffer << file.rdbuf();
  auto text = buffer.str();
  // A plain configuration declares no wsm options, so CAF keeps every key
  // and value as written; apply_settings checks them.
  caf::actor_system_config raw;
  std::istringstream in{text};
  if (auto err = raw.parse(caf::actor_system_config::string_list{}, in)) {
    int64_t line = 0;
    if (err.context().match_elements<caf::config_value::dictionary>()) {
      auto& where = err.context().get_as<caf::config_value::dictionary>(0);
      if (auto i = where.find("line"); i != where.end())
        if (auto n = caf::get_if<caf::config_value::integer>(&i->second))
          line = *n;
    }
    auto key = key_on_line(text, line);
    return make_error(errc::invalid_option,
                      "config file " + quoted(path) + ", line "
                        + std::to_string(line) + ": "
                        + (key.empty() ? "cannot parse this line"
                                       : "cannot parse the value of " + key));
  }
  return std::move(raw.content);
}

} // namespace wsm
