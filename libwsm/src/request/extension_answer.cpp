// The server's answer to our extension offer, checked before the link is
// up: Beast takes it as it comes, and a server that insists on an
// extension we never offered would otherwise fail at its first frame.

#include "request/extension_answer.hpp"

#include <vector>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include "vocabulary/wording.hpp"

namespace wsm::detail {

namespace {

namespace http = boost::beast::http;
using boost::beast::iequals;

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

/// Whether `seen` holds `name`, in any case.
bool has(const std::vector<std::string_view>& seen, std::string_view name) {
  for (auto x : seen)
    if (iequals(x, name))
      return true;
  return false;
}

/// Checks the parameters of a permessage-deflate answer; says in
/// `compress_ours` whether they bind our compressor to what was offered.
std::string check_deflate_parameters(const http::param_list& params,
                                     const deflate_options& offered,
                                     bool& compress_ours) {
  std::vector<std::string_view> seen;
  for (auto [name_view, value_view] : params) {
    std::string name{name_view};
    std::string_view value{value_view.data(), value_view.size()};
    auto what = "handshake: the server's permessage-deflate answer ";
    if (has(seen, name))
      return what + std::string{"names parameter "} + quoted(name) + " twice";
    seen.emplace_back(name_view.data(), name_view.size());
    if (iequals(name, "server_no_context_takeover")
        || iequals(name, "client_no_context_takeover")) {
      if (!value.empty())
        return what + std::string{"gives "} + quoted(name)
               + " a value, which it has none";
    } else if (iequals(name, "server_max_window_bits")
               || iequals(name, "client_max_window_bits")) {
      auto bits = window_bits(value);
      if (bits == 0)
        return what + std::string{"gives "} + quoted(name) + " the value "
               + quoted(std::string{value}) + ", not a window size of 8 to 15";
      if (bits > offered.max_window_bits)
        return what + std::string{"asks "} + quoted(name) + " "
               + std::to_string(bits) + ", more than the "
               + std::to_string(offered.max_window_bits) + " offered";
    } else {
      return what + std::string{"has parameter "} + quoted(name)
             + ", which was not offered";
    }
  }
  auto what = std::string{"handshake: the server's permessage-deflate answer "
                          "leaves out "};
  // Left out, they mean a 15-bit window and a context kept: what the
  // server would then compress with is more than was asked of it.
  if (offered.max_window_bits < 15 && !has(seen, "server_max_window_bits"))
    return what + "server_max_window_bits, offered as "
           + std::to_string(offered.max_window_bits);
  if (offered.no_context_takeover && !has(seen, "server_no_context_takeover"))
    return what + "server_no_context_takeover, which was offered";
  compress_ours =
    (offered.max_window_bits == 15 || has(seen, "client_max_window_bits"))
    && (!offered.no_context_takeover
        || has(seen, "client_no_context_takeover"));
  return {};
}

/// Whether `x` holds only what separates the pieces of an extension list
/// (white space, and `separators`).
bool only_separators(std::string_view x, std::string_view separators) {
  return x.find_first_not_of(std::string{" \t"} + std::string{separators})
         == std::string_view::npos;
}

/// Where the last piece the parser read of `extension` ends in `answer`.
/// A quoted value comes unquoted, from a buffer of the parser's: its end in
/// `answer` is found from its opening quote.
const char* end_of(const http::ext_list::value_type& extension,
                   std::string_view answer) {
  auto end = extension.first.data() + extension.first.size();
  for (auto [name, value] : extension.second) {
    // Beast leaves the parameters of the extension before in place for
    // one that ends the answer without any.
    if (name.data() < extension.first.data())
      break;
    end = name.data() + name.size();
    auto rest = answer.substr(static_cast<size_t>(end - answer.data()));
    auto equals = rest.find_first_not_of(" \t");
    if (equals == std::string_view::npos || rest[equals] != '=')
      continue; // a parameter without a value
    if (value.data() >= answer.data()
        && value.data() < answer.data() + answer.size()) {
      end = value.data() + value.size();
      continue;
    }
    auto open = rest.find('"', equals);
    for (auto i = open + 1; i < rest.size(); ++i) {
      if (rest[i] == '\\') {
        ++i;
      } else if (rest[i] == '"') {
        end = rest.data() + i + 1;
        break;
      }
    }
  }
  return end;
}

} // namespace

extension_answer read_extension_answer(std::string_view answer,
                                       const deflate_options& offered) {
  extension_answer result;
  auto fail = [&](std::string problem) {
    result.problem = std::move(problem);
    result.deflate = false;
    result.compress_ours = false;
    return result;
  };
  // Beast's parser stops quietly at text it cannot read: what lies between
  // the pieces it read, and after the last, must only separate them.
  const char* read_up_to = answer.data();
  http::ext_list extensions{{answer.data(), answer.size()}};
  for (auto& extension : extensions) {
    auto name = std::string{extension.first};
    if (!only_separators({read_up_to, static_cast<size_t>(
                                        extension.first.data() - read_up_to)},
                         ",;="))
      break;
    read_up_to = end_of(extension, answer);
    if (!iequals(name, "permessage-deflate") || !offered.enabled)
      return fail("handshake: the server accepted extension " + quoted(name)
                  + ", which was not offered");
    if (result.deflate)
      return fail("handshake: the server accepted permessage-deflate twice");
    result.deflate = true;
    if (auto problem = check_deflate_parameters(extension.second, offered,
                                                result.compress_ours);
        !problem.empty())
      return fail(std::move(problem));
  }
  auto rest = answer.substr(static_cast<size_t>(read_up_to - answer.data()));
  if (!only_separators(rest, ","))
    return fail("handshake: the server's Sec-WebSocket-Extensions answer "
                + quoted(std::string{answer})
                + " is not a list of extensions");
  return result;
}

} // namespace wsm::detail
