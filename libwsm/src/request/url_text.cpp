#include "request/url_text.hpp"

namespace wsm::detail {

std::string canonical_port(const std::string& digits) {
  if (digits.empty() || digits.size() > 5
      || digits.find_first_not_of("0123456789") != std::string::npos)
    return {};
  auto port = std::stoul(digits);
  if (port == 0 || port > 65535)
    return {};
  return std::to_string(port);
}

std::string redact_url(const std::string& url) {
  auto scheme_end = url.find("://");
  auto authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority);
  if (authority_end == std::string::npos)
    authority_end = url.size();
  auto at = url.rfind('@', authority_end);
  if (at == std::string::npos || at < authority)
    return url;
  return url.substr(0, authority) + "***" + url.substr(at);
}

} // namespace wsm::detail
