#pragma once

// How libwsm writes values into the sentences people read (errors,
// statuses): one rendering of each, so that every message says it alike.

#include <string>

#include <caf/timespan.hpp>

namespace wsm::detail {

/// `x` in single quotes, as errors name what they refuse: `'ws:/x'`.
std::string quoted(const std::string& x);

/// A duration in whole milliseconds, e.g. `10000ms`.
std::string in_milliseconds(caf::timespan x);

} // namespace wsm::detail
