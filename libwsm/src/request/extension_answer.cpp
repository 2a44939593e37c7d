// The server's answer to our extension offer, checked before the link is
// up: Beast takes it as it comes, and a server that insists on an
// extension we never offered would otherwise fail at its first frame.

#include "request/extension_answer.hpp"

#include <vector>

#include "vocabulary/wording.hpp"

namespace wsm::detail {

namespace {

std::string_view trimmed(std::string_view x) {
  auto begin = x.find_first_not_of(" \t");
  if (begin == std::string_view::npos)
    return {};
  auto end = x.find_last_not_of(" \t");
  return x.substr(begin, end - begin + 1);
}

/// Splits `x` at each `separator` outside double quotes.
std::vector<std::string_view> split(std::string_view x, char separator) {
  std::vector<std::string_view> result;
  bool quoted_text = false;
  size_t begin = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == '"')
      quoted_text = !quoted_text;
    else if (x[i] == separator && !quoted_text) {
      result.push_back(trimmed(x.substr(begin, i - begin)));
      begin = i + 1;
    }
  }
  result.push_back(trimmed(x.substr(begin)));
  return result;
}

/// A window size as RFC 7692 writes it: 8..15, bare or quoted.
int window_bits(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  if (value.size() == 1 && value[0] >= '8' && value[0] <= '9')
    return value[0] - '0';
  if (value.size() == 2 && value[0] == '1' && value[1] >= '0' && value[1] <= '5')
    return 10 + (value[1] - '0');
  return 0;
}

std::string check_deflate_parameters(const std::vector<std::string_view>& parts,
                                     const deflate_options& offered) {
  std::vector<std::string_view> seen;
  for (size_t i = 1; i < parts.size(); ++i) {
    auto equals = parts[i].find('=');
    auto name = trimmed(parts[i].substr(0, equals));
    auto value = equals == std::string_view::npos
                   ? std::string_view{}
                   : trimmed(parts[i].substr(equals + 1));
    auto what = "handshake: the server's permessage-deflate answer ";
    for (auto earlier : seen)
      if (earlier == name)
        return what + std::string{"names parameter "} + quoted(std::string{name})
               + " twice";
    seen.push_back(name);
    if (name == "server_no_context_takeover"
        || name == "client_no_context_takeover") {
      if (!value.empty())
        return what + std::string{"gives "} + quoted(std::string{name})
               + " a value, which it has none";
    } else if (name == "server_max_window_bits"
               || name == "client_max_window_bits") {
      auto bits = window_bits(value);
      if (bits == 0)
        return what + std::string{"gives "} + quoted(std::string{name})
               + " the value " + quoted(std::string{value})
               + ", not a window size of 8 to 15";
      if (bits > offered.max_window_bits)
        return what + std::string{"asks "} + quoted(std::string{name}) + " "
               + std::to_string(bits) + ", more than the "
               + std::to_string(offered.max_window_bits) + " offered";
    } else {
      return what + std::string{"has parameter "} + quoted(std::string{name})
             + ", which was not offered";
    }
  }
  return {};
}

} // namespace

std::string check_extension_answer(std::string_view answer,
                                   const deflate_options& offered) {
  if (trimmed(answer).empty())
    return {};
  bool deflate_seen = false;
  for (auto extension : split(answer, ',')) {
    auto parts = split(extension, ';');
    auto name = std::string{parts.front()};
    if (name != "permessage-deflate" || !offered.enabled)
      return "handshake: the server accepted extension " + quoted(name)
             + ", which was not offered";
    if (deflate_seen)
      return "handshake: the server accepted permessage-deflate twice";
    deflate_seen = true;
    if (auto problem = check_deflate_parameters(parts, offered);
        !problem.empty())
      return problem;
  }
  return {};
}

} // namespace wsm::detail
