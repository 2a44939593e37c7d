#include "settings/value_forms.hpp"

#include <chrono>
#include <sstream>
#include <utility>

namespace wsm::detail {

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

/// A duration in its largest exact unit, as a config file writes it: 30s,
/// 100ms, 2min.
std::string shown(caf::timespan x) {
  using namespace std::chrono;
  auto ns = duration_cast<nanoseconds>(x).count();
  if (ns == 0)
    return "0s";
  static constexpr std::pair<int64_t, const char*> units[] = {
    {int64_t{3600} * 1000000000, "h"}, {int64_t{60} * 1000000000, "min"},
    {1000000000, "s"},         {1000000, "ms"},
    {1000, "us"},
  };
  if (ns != 0)
    for (auto& [size, name] : units)
      if (ns % size == 0)
        return std::to_string(ns / size) + name;
  return std::to_string(ns) + "ns";
}

std::string shown(double x) {
  return number(x);
}

std::string shown(bool x) {
  return x ? "true" : "false";
}

std::string shown(overflow_policy x) {
  return to_string(x);
}

/// A file name, which has no default.
std::string shown(const std::string& x) {
  return x;
}

caf::error set_duration(const caf::config_value& x, caf::timespan& field) {
  auto parsed = to_duration(x);
  if (!parsed)
    return parsed.error();
  field = *parsed;
  return {};
}

/// Writes a number the short way: 1.5, not 1.500000.
std::string number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

caf::error set_real(const caf::config_value& x, double& field, double min,
                    double max) {
  double value = 0;
  if (auto real = caf::get_if<caf::config_value::real>(&x))
    value = *real;
  else if (auto integer = caf::get_if<caf::config_value::integer>(&x))
    value = static_cast<double>(*integer);
  else
    return make_error(errc::invalid_option,
                      caf::to_string(x) + " is not a number");
  if (value < min || value > max)
    return make_error(errc::invalid_option, number(value) + " is not between "
                                              + number(min) + " and "
                                              + number(max));
  field = value;
  return {};
}

const caf::config_value::list* as_list(const caf::config_value& x) {
  return caf::get_if<caf::config_value::list>(&x);
}

caf::error set_flag(const caf::config_value& x, bool& field) {
  if (auto flag = caf::get_if<bool>(&x)) {
    field = *flag;
    return {};
  }
  return make_error(errc::invalid_option,
                    caf::to_string(x) + " is not true or false");
}

caf::error set_text(const caf::config_value& x, std::string& field) {
  if (auto text = caf::get_if<std::string>(&x)) {
    field = *text;
    return {};
  }
  return make_error(errc::invalid_option,
                    caf::to_string(x) + " is not a string (write it in quotes)");
}

} // namespace wsm::detail
