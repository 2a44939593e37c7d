// A client's frame as the session writes it (session/client_frame.hpp),
// read back as a server reads it (RFC 6455 5.2): header, length, key,
// unmasked payload; and the send buffer it is written into.

#define CAF_SUITE client_frame

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "session/byte_buffer.hpp"
#include "session/client_frame.hpp"

using namespace wsm::detail;

namespace {

struct parsed_frame {
  bool fin = false;
  int rsv = 0;
  int opcode = 0;
  bool masked = false;
  uint64_t length = 0;
  std::string payload;
  size_t frame_size = 0;
};

/// Reads one frame the way a server does, unmasking its payload.
parsed_frame parse(const std::string& bytes) {
  auto b = reinterpret_cast<const unsigned char*>(bytes.data());
  parsed_frame f;
  f.fin = (b[0] & 0x80) != 0;
  f.rsv = (b[0] >> 4) & 0x7;
  f.opcode = b[0] & 0x0f;
  f.masked = (b[1] & 0x80) != 0;
  size_t at = 2;
  f.length = b[1] & 0x7f;
  if (f.length == 126) {
    f.length = (uint64_t{b[2]} << 8) | b[3];
    at = 4;
  } else if (f.length == 127) {
    f.length = 0;
    for (int i = 0; i < 8; ++i)
      f.length = (f.length << 8) | b[2 + i];
    at = 10;
  }
  unsigned char key[4] = {b[at], b[at + 1], b[at + 2], b[at + 3]};
  at += 4;
  for (uint64_t i = 0; i < f.length; ++i)
    f.payload += static_cast<char>(b[at + i] ^ key[i % 4]);
  f.frame_size = at + f.length;
  return f;
}

std::string frame(const std::string& payload, bool text, uint32_t key) {
  std::string out(client_frame_header_size(payload.size()) + payload.size(),
                  '\0');
  auto p = reinterpret_cast<unsigned char*>(out.data());
  auto header = write_client_frame_header(p, text, payload.size(), key);
  CAF_CHECK_EQUAL(header, client_frame_header_size(payload.size()));
  copy_masked(p + header,
              reinterpret_cast<const unsigned char*>(payload.data()),
              payload.size(), key);
  return out;
}

std::string pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return s;
}

} // namespace

CAF_TEST(each length form reads back as written) {
  // The edges of the 7-bit, 16-bit and 64-bit lengths, and sizes that end
  // between two 8-byte words of the masking loop.
  for (size_t size : {0, 1, 7, 9, 125, 126, 127, 1000, 65535, 65536, 70001}) {
    auto payload = pattern(size);
    auto bytes = frame(payload, false, 0xa1b2c3d4u);
    auto f = parse(bytes);
    CAF_CHECK(f.fin);
    CAF_CHECK_EQUAL(f.rsv, 0);
    CAF_CHECK_EQUAL(f.opcode, 2);
    CAF_CHECK(f.masked);
    CAF_CHECK_EQUAL(f.length, size);
    CAF_CHECK_EQUAL(f.frame_size, bytes.size());
    CAF_CHECK(f.payload == payload);
  }
  CAF_CHECK_EQUAL(client_frame_header_size(125), 6u);
  CAF_CHECK_EQUAL(client_frame_header_size(126), 8u);
  CAF_CHECK_EQUAL(client_frame_header_size(65535), 8u);
  CAF_CHECK_EQUAL(client_frame_header_size(65536), max_client_frame_header);
}

CAF_TEST(a text frame says text and the key masks every byte) {
  auto f = parse(frame("hello, world", true, 0x01020304u));
  CAF_CHECK_EQUAL(f.opcode, 1);
  CAF_CHECK_EQUAL(f.payload, "hello, world");
  // Masked: the bytes on the wire are not the payload's.
  auto bytes = frame(std::string(16, 'a'), false, 0x01020304u);
  CAF_CHECK(bytes.substr(6) != std::string(16, 'a'));
}

CAF_TEST(the send buffer keeps its bytes as it grows) {
  byte_buffer buffer;
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    auto piece = pattern(100 + i * 97);
    std::memcpy(buffer.extend(piece.size()), piece.data(), piece.size());
    expected += piece;
    CAF_REQUIRE_EQUAL(buffer.size(), expected.size());
  }
  CAF_CHECK(std::string(buffer.data(), buffer.size()) == expected);
  CAF_CHECK(buffer.capacity() >= buffer.size());
  auto capacity = buffer.capacity();
  buffer.clear(); // empty, the room kept
  CAF_CHECK(buffer.empty());
  CAF_CHECK_EQUAL(buffer.capacity(), capacity);
  buffer.release();
  CAF_CHECK_EQUAL(buffer.capacity(), 0u);
  CAF_CHECK(buffer.data() == nullptr);
}
