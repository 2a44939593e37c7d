#pragma once

#include <string>

#include "wsm/json.hpp"
#include "wsm/messages.hpp"

namespace wsm {

/// Renders a status as one JSON object on one line, every field of
/// `wsm::status` under its own name: `state` as the state's name
/// (`"CONNECTED"`), `retry_delay` in seconds as a number, strings escaped
/// (RFC 8259), `redirects` as an array. What `wsm-cat --json` prints and
/// the status page receives.
std::string to_json(const status& x);

} // namespace wsm
