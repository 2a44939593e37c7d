#include "wsm/error.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace wsm {

namespace {

constexpr auto category = caf::atom("wsm");

} // namespace

const char* to_string(errc x) noexcept {
  switch (x) {
    case errc::invalid_url:
      return "invalid_url";
    case errc::invalid_header:
      return "invalid_header";
    case errc::invalid_option:
      return "invalid_option";
    case errc::not_configured:
      return "not_configured";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string what) {
  return caf::error{static_cast<uint8_t>(code), category,
                    caf::make_message(std::move(what))};
}

std::string describe(const caf::error& err) {
  if (err.category() == category && err.context().match_elements<std::string>())
    return err.context().get_as<std::string>(0);
  return caf::to_string(err);
}

} // namespace wsm
