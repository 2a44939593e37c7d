#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace wsm {

/// Errors that libwsm returns; their category is the atom `wsm`.
enum class errc : uint8_t {
  invalid_url = 1,
  invalid_header,
  invalid_option,
  /// The actor system was not set up with `wsm::config` or `wsm::init`.
  not_configured,
};

const char* to_string(errc x) noexcept;

/// Makes an error of category `wsm` whose context says what is wrong.
caf::error make_error(errc code, std::string what);

/// Returns the text of an error for people: for libwsm's errors the sentence
/// that names the problem, for others CAF's rendering.
std::string describe(const caf::error& err);

} // namespace wsm
