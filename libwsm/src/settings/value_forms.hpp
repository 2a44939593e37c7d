#pragma once

// How the values of group [wsm] are read and shown: one function per form
// (a duration, a count, a number in a range, a flag, a text, a list), for
// the table of keys in settings.cpp.

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/config_value.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "wsm/error.hpp"
#include "wsm/options.hpp"
#include "wsm/settings.hpp"

namespace wsm::detail {

/// `wsm.KEY: why`.
caf::error bad_key(const std::string& key, const std::string& why);

/// A duration may be written bare (`5s`) or quoted (`"5s"`).
caf::expected<caf::timespan> to_duration(const caf::config_value& x);

/// Writes a number the short way: 1.5, not 1.500000.
std::string number(double x);

/// A duration in its largest exact unit, as a config file writes it: 30s,
/// 100ms, 2min.
std::string shown(caf::timespan x);
std::string shown(double x);
std::string shown(bool x);
std::string shown(overflow_policy x);
/// A file name, which has no default.
std::string shown(const std::string& x);

/// A list: empty by default.
template <class T>
std::string shown(const std::vector<T>&) {
  return {};
}

template <class T>
std::enable_if_t<std::is_integral_v<T>, std::string> shown(T x) {
  return std::to_string(x);
}

caf::error set_duration(const caf::config_value& x, caf::timespan& field);

/// An integer of at least `min`.
template <class T>
caf::error set_count(const caf::config_value& x, T& field, int64_t min) {
  auto value = caf::get_if<caf::config_value::integer>(&x);
  if (value == nullptr || *value < min)
    return make_error(errc::invalid_option,
                      caf::to_string(x) + " is not an integer of at least "
                        + std::to_string(min));
  field = static_cast<T>(*value);
  return {};
}

/// A number in [min, max].
caf::error set_real(const caf::config_value& x, double& field, double min,
                    double max);

const caf::config_value::list* as_list(const caf::config_value& x);

caf::error set_flag(const caf::config_value& x, bool& field);

caf::error set_text(const caf::config_value& x, std::string& field);

/// An integer in [min, max].
template <class T>
caf::error set_bounded(const caf::config_value& x, T& field, int64_t min,
                       int64_t max) {
  auto value = caf::get_if<caf::config_value::integer>(&x);
  if (value == nullptr || *value < min || *value > max)
    return make_error(errc::invalid_option,
                      caf::to_string(x) + " is not an integer between "
                        + std::to_string(min) + " and " + std::to_string(max));
  field = static_cast<T>(*value);
  return {};
}

} // namespace wsm::detail
