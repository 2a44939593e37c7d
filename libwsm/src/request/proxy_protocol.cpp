#include "request/proxy_protocol.hpp"

#include "wsm/base64.hpp"


namespace wsm::detail {

std::string http_connect_request(const std::string& host,
                                 const std::string& port,
                                 const std::string& user,
                                 const std::string& password,
                                 const std::string& user_agent) {
  auto authority = (host.find(':') == std::string::npos ? host
                                                        : "[" + host + "]")
                   + ":" + port;
  std::string result = "CONNECT " + authority + " HTTP/1.1\r\nHost: "
                       + authority + "\r\n";
  if (!user.empty())
    result += "Proxy-Authorization: Basic " + base64_encode(user + ":" + password)
              + "\r\n";
  result += "User-Agent: " + user_agent + "\r\n\r\n";
  return result;
}

std::string socks5_greeting(bool with_credentials) {
  if (with_credentials)
    return std::string{"\x05\x02\x00\x02", 4};
  return std::string{"\x05\x01\x00", 3};
}

std::string socks5_login(const std::string& user, const std::string& password) {
  std::string result{"\x01", 1};
  result += static_cast<char>(user.size());
  result += user;
  result += static_cast<char>(password.size());
  result += password;
  return result;
}

namespace {

std::string connect_head(char address_type) {
  std::string result{"\x05\x01\x00", 3};
  result += address_type;
  return result;
}

void append_port(std::string& x, uint16_t port) {
  x += static_cast<char>(port >> 8);
  x += static_cast<char>(port & 0xff);
}

} // namespace

std::string socks5_connect_by_name(const std::string& host, uint16_t port) {
  auto result = connect_head('\x03');
  result += static_cast<char>(host.size());
  result += host;
  append_port(result, port);
  return result;
}

std::string socks5_connect_by_address(const uint8_t* bytes, size_t size,
                                      uint16_t port) {
  auto result = connect_head(size == 4 ? '\x01' : '\x04');
  result.append(reinterpret_cast<const char*>(bytes), size);
  append_port(result, port);
  return result;
}

std::pair<std::string, uint16_t> socks5_refusal(uint8_t reply) {
  switch (reply) {
    case 1:
      return {"general failure (1)", 502};
    case 2:
      return {"connection not allowed by the proxy's rules (2)", 403};
    case 3:
      return {"network unreachable (3)", 502};
    case 4:
      return {"host unreachable (4)", 502};
    case 5:
      return {"connection refused by the server (5)", 502};
    case 6:
      return {"TTL expired (6)", 502};
    case 7:
      return {"command not supported (7)", 502};
    case 8:
      return {"address type not supported (8)", 502};
    default:
      return {"unknown reply " + std::to_string(reply), 502};
  }
}

} // namespace wsm::detail
