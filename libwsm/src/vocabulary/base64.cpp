#include "wsm/base64.hpp"

#include "wsm/error.hpp"

namespace wsm {

std::string base64_encode(std::string_view x) {
  static constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string result;
  result.reserve((x.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&x](size_t k) { return static_cast<unsigned char>(x[k]); };
  for (; i + 2 < x.size(); i += 3) {
    auto n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += alphabet[(n >> 6) & 63];
    result += alphabet[n & 63];
  }
  if (i + 1 == x.size()) {
    auto n = byte(i) << 16;
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += "==";
  } else if (i + 2 == x.size()) {
    auto n = (byte(i) << 16) | (byte(i + 1) << 8);
    result += alphabet[(n >> 18) & 63];
    result += alphabet[(n >> 12) & 63];
    result += alphabet[(n >> 6) & 63];
    result += '=';
  }
  return result;
}

caf::expected<std::string> base64_decode(std::string_view x) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  auto bad = [&](size_t at, const std::string& why) {
    return make_error(errc::invalid_option,
                      "not base64: " + why + " at position "
                        + std::to_string(at + 1));
  };
  if (x.size() % 4 != 0)
    return make_error(errc::invalid_option,
                      "not base64: " + std::to_string(x.size())
                        + " characters, not a multiple of 4");
  std::string result;
  result.reserve(x.size() / 4 * 3);
  for (size_t i = 0; i < x.size(); i += 4) {
    uint32_t n = 0;
    int padding = 0;
    for (size_t k = 0; k < 4; ++k) {
      auto c = x[i + k];
      if (c == '=' && i + 4 == x.size() && k >= 2) {
        ++padding;
        n <<= 6;
        continue;
      }
      auto value = value_of(c);
      if (value < 0 || padding > 0)
        return bad(i + k, c == '=' ? std::string{"'=' before the end"}
                                   : "character " + std::to_string(
                                       static_cast<unsigned char>(c)));
      n = (n << 6) | static_cast<uint32_t>(value);
    }
    result += static_cast<char>((n >> 16) & 0xFF);
    if (padding < 2)
      result += static_cast<char>((n >> 8) & 0xFF);
    if (padding < 1)
      result += static_cast<char>(n & 0xFF);
  }
  return result;
}

} // namespace wsm
