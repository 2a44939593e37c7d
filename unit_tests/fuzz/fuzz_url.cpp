// libFuzzer target: the URL and the headers a machine is spawned with.
// Input: a URL, then optional header lines ("Name: value"), separated by
// newlines. Nothing may crash; an accepted request must be well formed; no
// error may show a header's value.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "request/url.hpp"
#include "wsm/error.hpp"
#include "wsm/settings.hpp"

namespace {

void require(bool condition) {
  if (!condition)
    std::abort();
}

bool all_digits(const std::string& x) {
  if (x.empty())
    return false;
  for (auto c : x)
    if (c < '0' || c > '9')
      return false;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  auto newline = text.find('\n');
  auto url = text.substr(0, newline);
  wsm::options opts;
  std::string secret = "s3cr3t-value";
  while (newline != std::string::npos) {
    auto next = text.find('\n', newline + 1);
    auto line = text.substr(newline + 1, next == std::string::npos
                                           ? std::string::npos
                                           : next - newline - 1);
    newline = next;
    auto parsed = wsm::parse_header(line);
    if (!parsed)
      continue;
    // A value the fuzzer did not choose, to look for in error texts.
    parsed->value += secret;
    opts.headers.push_back(std::move(*parsed));
  }
  auto request = wsm::detail::make_connect_request(url, opts);
  if (!request) {
    auto text = wsm::describe(request.error());
    require(!text.empty());
    // Unless the fuzzer wrote it into the URL or a header's name itself.
    require(text.find(secret) == std::string::npos
            || std::string{reinterpret_cast<const char*>(data), size}.find(
                 secret)
                 != std::string::npos);
    return 0;
  }
  // Accepted: something to connect to, in the shape the broker expects.
  require(!request->host.empty());
  require(all_digits(request->port));
  require(!request->target.empty() && request->target[0] == '/');
  require(request->host_header.find_first_of("\r\n") == std::string::npos);
  require(request->target.find_first_of("\r\n ") == std::string::npos);
  for (auto& x : request->headers)
    require(x.value.find_first_of("\r\n") == std::string::npos);
  return 0;
}
