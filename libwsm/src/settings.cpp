#include "wsm/settings.hpp"

#include <fstream>
#include <sstream>

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>

#include "url.hpp"
#include "wsm/error.hpp"

namespace wsm {

namespace {

std::string quoted(const std::string& x) {
  return "'" + x + "'";
}

caf::error bad_key(const std::string& key, const std::string& why) {
  return make_error(errc::invalid_option, "wsm." + key + ": " + why);
}

/// A duration may be written bare (`5s`) or quoted (`"5s"`).
caf::expected<caf::timespan> to_duration(const caf::config_value& x) {
  if (auto value = caf::get_if<caf::timespan>(&x))
    return *value;
  if (auto text = caf::get_if<std::string>(&x))
    return parse_duration(*text);
  return parse_duration(caf::to_string(x));
}

caf::expected<size_t> to_positive(const caf::config_value& x) {
  if (auto value = caf::get_if<caf::config_value::integer>(&x); value && *value > 0)
    return static_cast<size_t>(*value);
  return make_error(errc::invalid_option, caf::to_string(x)
                                            + " is not a positive integer");
}

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
  if (value)
    if (auto result = caf::get_if<caf::timespan>(&*value); result && result->count() >= 0)
      return *result;
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

caf::error apply_settings(const caf::settings& content, settings& result) {
  auto group = content.find("wsm");
  if (group == content.end())
    return {};
  auto entries = caf::get_if<caf::settings>(&group->second);
  if (entries == nullptr)
    return make_error(errc::invalid_option, "wsm must be a group");
  auto& opts = result.machine;
  for (auto& [key, value] : *entries) {
    auto duration = [&, &value = value](caf::timespan& field) -> caf::error {
      auto parsed = to_duration(value);
      if (!parsed)
        return bad_key(key, describe(parsed.error()));
      field = *parsed;
      return {};
    };
    caf::error err;
    if (key == "text") {
      if (auto flag = caf::get_if<bool>(&value))
        opts.text = *flag;
      else
        err = bad_key(key, caf::to_string(value) + " is not true or false");
    } else if (key == "headers") {
      auto list = caf::get_if<caf::config_value::list>(&value);
      if (list == nullptr)
        return bad_key(key, "must be a list like [\"Name: Value\"]");
      opts.headers.clear();
      for (auto& item : *list) {
        auto text = caf::get_if<std::string>(&item);
        auto parsed = text ? parse_header(*text)
                           : caf::expected<header>{make_error(
                             errc::invalid_header,
                             caf::to_string(item) + " is not a string")};
        if (!parsed)
          return bad_key(key, describe(parsed.error()));
        opts.headers.push_back(std::move(*parsed));
      }
    } else if (key == "ping-interval") {
      err = duration(opts.ping_interval);
    } else if (key == "retry-delay") {
      err = duration(opts.retry_delay);
    } else if (key == "handshake-timeout") {
      err = duration(opts.handshake_timeout);
    } else if (key == "close-timeout") {
      err = duration(opts.close_timeout);
    } else if (key == "max-queue" || key == "io-threads") {
      auto n = to_positive(value);
      if (!n)
        return bad_key(key, describe(n.error()));
      (key == "max-queue" ? opts.max_queue : result.io_threads) = *n;
    } else {
      err = make_error(errc::invalid_option,
                       "unknown key wsm." + key);
    }
    if (err)
      return err;
  }
  return {};
}

} // namespace wsm
