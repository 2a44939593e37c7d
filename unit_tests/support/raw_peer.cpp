#include "raw_peer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <zlib.h>

namespace wsm_test {

namespace {

/// Reads until "\r\n\r\n"; returns the request, or "" if the client left.
std::string read_request(int fd) {
  std::string request;
  char c;
  while (request.size() < 64 * 1024 && ::read(fd, &c, 1) == 1) {
    request += c;
    if (request.size() >= 4
        && request.compare(request.size() - 4, 4, "\r\n\r\n") == 0)
      return request;
  }
  return {};
}

/// The value of header `name` (lower case) in `request`, or "".
std::string header_value(const std::string& request, const std::string& name) {
  std::string lower = request;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  auto at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos)
    return {};
  auto begin = at + 2 + name.size() + 1;
  auto end = request.find("\r\n", begin);
  auto value = request.substr(begin, end - begin);
  value.erase(0, value.find_first_not_of(' '));
  value.erase(value.find_last_not_of(' ') + 1);
  return value;
}

/// Sec-WebSocket-Accept for `key` (RFC 6455 4.2.2).
std::string accept_value(const std::string& key) {
  auto text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest;
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       digest.data());
  std::array<unsigned char, 64> encoded{};
  auto n = EVP_EncodeBlock(encoded.data(), digest.data(), digest.size());
  return std::string(reinterpret_cast<char*>(encoded.data()),
                     static_cast<size_t>(n));
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    auto n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool read_exactly(int fd, unsigned char* data, size_t size) {
  while (size > 0) {
    auto n = ::read(fd, data, size);
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

size_t status_field(const char* name) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  auto prefix = std::string{name} + ":";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0)
      return std::stoul(line.substr(prefix.size())) * 1024; // kB
  return 0;
}

} // namespace

raw_peer::raw_peer(raw_script script) : script_(std::move(script)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address))
        != 0
      || ::listen(listener_, 16) != 0)
    throw std::runtime_error("raw_peer: cannot listen on 127.0.0.1");
  socklen_t length = sizeof(address);
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread{[this] { serve(); }};
}

raw_peer::~raw_peer() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
    // Wakes the blocking accept and read: shutdown, not close, so that no
    // descriptor is reused under the thread.
    ::shutdown(listener_, SHUT_RDWR);
    if (current_ >= 0)
      ::shutdown(current_, SHUT_RDWR);
  }
  changed_.notify_all();
  thread_.join();
  ::close(listener_);
}

void raw_peer::set_script(raw_script script) {
  std::lock_guard<std::mutex> guard{mutex_};
  script_ = std::move(script);
}

std::vector<uint16_t> raw_peer::close_codes() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return close_codes_;
}

std::vector<bool> raw_peer::data_frames_compressed() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return data_frames_compressed_;
}

bool raw_peer::wait_for_data_frames(size_t count,
                                    std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> guard{mutex_};
  return changed_.wait_for(guard, limit, [&] {
    return data_frames_compressed_.size() >= count;
  });
}

size_t raw_peer::connections() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return connections_;
}

bool raw_peer::wait_for_client_end(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> guard{mutex_};
  return changed_.wait_for(guard, limit, [this] { return client_ends_ > 0; });
}

void raw_peer::serve() {
  for (;;) {
    auto fd = ::accept(listener_, nullptr, nullptr);
    raw_script script;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      if (fd < 0 || stopping_) {
        if (fd >= 0)
          ::close(fd);
        return;
      }
      current_ = fd;
      client_ends_ = 0;
      script = script_;
    }
    serve_one(fd, script);
    {
      std::lock_guard<std::mutex> guard{mutex_};
      current_ = -1;
    }
    ::close(fd);
  }
}

void raw_peer::serve_one(int fd, const raw_script& script) {
  // Each write goes at once: a trickle is a trickle, and the bytes after
  // the 101 do not wait for the client's delayed ACK.
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  auto request = read_request(fd);
  if (request.empty())
    return;
  std::string answer = "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: "
                       + accept_value(header_value(request, "sec-websocket-key"))
                       + "\r\n";
  auto offer = header_value(request, "sec-websocket-extensions");
  if (script.deflate && offer.find("permessage-deflate") != std::string::npos)
    answer += "Sec-WebSocket-Extensions: "
              + (script.deflate_answer.empty()
                   ? offer.substr(0, offer.find(','))
                   : script.deflate_answer)
              + "\r\n";
  answer += "\r\n";
  if (!write_all(fd, answer.data(), answer.size()))
    return;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    ++connections_;
  }
  auto step = script.chunk == 0 ? script.bytes.size() : script.chunk;
  for (size_t at = 0; at < script.bytes.size(); at += step) {
    if (at > 0 && script.pause.count() > 0) {
      std::unique_lock<std::mutex> guard{mutex_};
      if (changed_.wait_for(guard, script.pause, [this] { return stopping_; }))
        return;
    }
    auto n = std::min(step, script.bytes.size() - at);
    if (!write_all(fd, script.bytes.data() + at, n))
      break;
  }
  if (script.never_read) {
    std::unique_lock<std::mutex> guard{mutex_};
    changed_.wait(guard, [this] { return stopping_; });
    return;
  }
  if (!script.stay) {
    // The end of TCP from this side; what the client still says is read
    // (and its close frame noted) until it ends too.
    ::shutdown(fd, SHUT_WR);
  }
  read_client_frames(fd);
}

void raw_peer::read_client_frames(int fd) {
  for (;;) {
    unsigned char head[2];
    if (!read_exactly(fd, head, 2))
      break;
    uint64_t length = head[1] & 0x7f;
    if (length >= 126) {
      unsigned char extended[8];
      auto size = length == 126 ? 2u : 8u;
      if (!read_exactly(fd, extended, size))
        break;
      length = 0;
      for (unsigned i = 0; i < size; ++i)
        length = (length << 8) | extended[i];
    }
    unsigned char mask[4] = {0, 0, 0, 0};
    if ((head[1] & 0x80) && !read_exactly(fd, mask, 4))
      break;
    std::string payload;
    payload.resize(static_cast<size_t>(std::min<uint64_t>(length, 1 << 20)));
    if (length > payload.size())
      break; // not a client this peer reads
    if (!read_exactly(fd, reinterpret_cast<unsigned char*>(payload.data()),
                      payload.size()))
      break;
    for (size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    auto opcode = head[0] & 0x0f;
    if (opcode == 0x1 || opcode == 0x2) {
      std::lock_guard<std::mutex> guard{mutex_};
      data_frames_compressed_.push_back((head[0] & 0x40) != 0);
      changed_.notify_all();
    }
    if (opcode == 0x8) {
      uint16_t code = payload.size() >= 2
                        ? static_cast<uint16_t>(
                          (static_cast<unsigned char>(payload[0]) << 8)
                          | static_cast<unsigned char>(payload[1]))
                        : 1005;
      std::lock_guard<std::mutex> guard{mutex_};
      close_codes_.push_back(code);
      ++client_ends_;
      changed_.notify_all();
    }
  }
  std::lock_guard<std::mutex> guard{mutex_};
  ++client_ends_;
  changed_.notify_all();
}

std::string frame_header(uint8_t opcode, uint64_t announced, bool compressed,
                         bool fin) {
  std::string result;
  result += static_cast<char>((fin ? 0x80 : 0) | (compressed ? 0x40 : 0)
                              | (opcode & 0x0f));
  if (announced < 126) {
    result += static_cast<char>(announced);
  } else if (announced < 65536) {
    result += static_cast<char>(126);
    result += static_cast<char>(announced >> 8);
    result += static_cast<char>(announced & 0xff);
  } else {
    result += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      result += static_cast<char>((announced >> shift) & 0xff);
  }
  return result;
}

std::string frame(uint8_t opcode, const std::string& payload, bool compressed,
                  bool fin) {
  return frame_header(opcode, payload.size(), compressed, fin) + payload;
}

std::string deflated(const std::string& payload) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, payload.size()) + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  z.avail_in = static_cast<uInt>(payload.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  // RFC 7692 7.2.1: the empty block's 00 00 ff ff is not sent.
  if (out.size() >= 4 && out.compare(out.size() - 4, 4, "\0\0\xff\xff", 4) == 0)
    out.resize(out.size() - 4);
  return out;
}

size_t peak_rss() {
  return status_field("VmHWM");
}

void reset_peak_rss() {
  // Linux 4.0+: writing 5 resets VmHWM to the current RSS.
  std::ofstream{"/proc/self/clear_refs"} << "5";
}

size_t current_rss() {
  return status_field("VmRSS");
}

} // namespace wsm_test
