#pragma once

// A client's data frame as RFC 6455 (5.2, 5.3) lays it out, apart from any
// I/O: the header, and the payload masked on its way into the send buffer.
//
// The session frames its uncompressed messages itself: Beast would copy
// each 4 KiB of the payload into a write buffer of its own (allocated per
// connection and kept), mask it there byte by byte, write it as a
// fragment of its own, and the coalescing layer would copy it once more.
// Framed here, the masking copy the protocol requires is the only one:
// straight from the output's buffer into the bytes the socket sends, one
// frame per message.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wsm::detail {

/// The longest header a client's frame has: 2 bytes, 8 of length, 4 of
/// mask key.
constexpr size_t max_client_frame_header = 14;

/// The size of the header of a client's frame carrying `payload` bytes.
constexpr size_t client_frame_header_size(uint64_t payload) noexcept {
  return payload < 126 ? 6 : payload <= 0xffff ? 8 : 14;
}

/// Writes the header of a final, unfragmented, uncompressed frame of
/// `payload` bytes, text or binary, masked with `key` (its four bytes in
/// memory order), at `out`; returns its size.
inline size_t write_client_frame_header(unsigned char* out, bool text,
                                        uint64_t payload,
                                        uint32_t key) noexcept {
  out[0] = 0x80 | (text ? 0x1 : 0x2); // FIN, opcode
  size_t n = 2;
  if (payload < 126) {
    out[1] = static_cast<unsigned char>(0x80 | payload);
  } else if (payload <= 0xffff) {
    out[1] = 0x80 | 126;
    out[2] = static_cast<unsigned char>(payload >> 8);
    out[3] = static_cast<unsigned char>(payload);
    n = 4;
  } else {
    out[1] = 0x80 | 127;
    for (int i = 0; i < 8; ++i)
      out[2 + i] = static_cast<unsigned char>(payload >> (56 - 8 * i));
    n = 10;
  }
  std::memcpy(out + n, &key, 4);
  return n + 4;
}

/// Copies `size` bytes from `from` to `to`, masked with `key` as the
/// frame's header gives it: byte i is xor-ed with the key's byte i mod 4.
/// Eight bytes at a time, which the compiler widens further.
inline void copy_masked(unsigned char* to, const unsigned char* from,
                        size_t size, uint32_t key) noexcept {
  uint64_t mask8;
  std::memcpy(&mask8, &key, 4);
  std::memcpy(reinterpret_cast<unsigned char*>(&mask8) + 4, &key, 4);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, from + i, 8);
    word ^= mask8;
    std::memcpy(to + i, &word, 8);
  }
  auto key_bytes = reinterpret_cast<const unsigned char*>(&key);
  for (; i < size; ++i)
    to[i] = from[i] ^ key_bytes[i % 4];
}

} // namespace wsm::detail
