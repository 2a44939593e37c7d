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
    case errc::handshake_rejected:
      return "handshake_rejected";
    case errc::retries_exhausted:
      return "retries_exhausted";
    case errc::undelivered:
      return "undelivered";
    case errc::node_unavailable:
      return "node_unavailable";
    case errc::machine_quit:
      return "machine_quit";
    case errc::internal_error:
      return "internal_error";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string what) {
  return caf::error{static_cast<uint8_t>(code), category,
                    caf::make_message(std::move(what))};
}

std::string describe(const caf::error& err) {
  if (!err)
    return {};
  auto& context = err.context();
  if (err.category() == category && !context.empty()
      && context.match_element<std::string>(0))
    return context.get_as<std::string>(0);
  return caf::to_string(err);
}

std::vector<std::string> unsent_payloads(const caf::error& exit_reason) {
  auto& context = exit_reason.context();
  if (exit_reason.category() == category
      && context.match_elements<std::string, std::vector<std::string>>())
    return context.get_as<std::vector<std::string>>(1);
  return {};
}

caf::error make_exit_reason(errc code, std::string what,
                            std::vector<std::string> unsent) {
  return caf::error{static_cast<uint8_t>(code), category,
                    caf::make_message(std::move(what), std::move(unsent))};
}

} // namespace wsm
