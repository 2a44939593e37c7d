#pragma once

// A WebSocket server for tests of hostile and careless peers: it answers
// the upgrade by hand (no WebSocket library on this side), then writes
// whatever bytes its script holds, lies in frame headers included. One
// connection at a time, on a thread of its own, on 127.0.0.1.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wsm_test {

/// What a raw peer does with each connection once it has answered 101.
struct raw_script {
  /// Agree to permessage-deflate when the client offers it, with the
  /// parameters it offered (as node's ws and python-websockets answer).
  bool deflate = false;
  /// With `deflate`: the answer's `Sec-WebSocket-Extensions` instead.
  std::string deflate_answer;
  /// Written after the 101 as they are: frames made by hand.
  std::string bytes;
  /// Written this many bytes at a time with `pause` between (a trickle);
  /// 0 writes them at once.
  size_t chunk = 0;
  std::chrono::milliseconds pause{0};
  /// After the bytes, keep the connection until the client ends it (and
  /// note its close frames); otherwise end TCP at once.
  bool stay = true;
  /// Never read what the client sends (a server that hung): the
  /// connection stays until the peer is destroyed.
  bool never_read = false;
};

class raw_peer {
public:
  explicit raw_peer(raw_script script = {});
  ~raw_peer();

  raw_peer(const raw_peer&) = delete;
  raw_peer& operator=(const raw_peer&) = delete;

  uint16_t port() const noexcept {
    return port_;
  }

  /// The script of the connections accepted from now on.
  void set_script(raw_script script);

  /// The codes of the close frames clients sent, in order.
  std::vector<uint16_t> close_codes() const;

  /// For each data frame clients sent, in order: whether it was compressed
  /// (RSV1 set).
  std::vector<bool> data_frames_compressed() const;

  /// Waits (at most `limit`) until clients sent `count` data frames;
  /// returns whether they did.
  bool wait_for_data_frames(size_t count, std::chrono::milliseconds limit);

  /// Upgrades answered so far.
  size_t connections() const;

  /// Waits (at most `limit`) until a client has sent a close frame or
  /// ended TCP on the connection under way; returns whether one did.
  bool wait_for_client_end(std::chrono::milliseconds limit);

private:
  void serve();
  void serve_one(int fd, const raw_script& script);
  void read_client_frames(int fd);

  int listener_ = -1;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  raw_script script_;
  std::vector<uint16_t> close_codes_;
  std::vector<bool> data_frames_compressed_;
  size_t connections_ = 0;
  size_t client_ends_ = 0;
  int current_ = -1;
  bool stopping_ = false;
  std::thread thread_;
};

/// The header of a server's frame (unmasked): FIN unless `fin` is false,
/// RSV1 when `compressed`, `opcode`, and `announced` as the payload length,
/// whatever follows.
std::string frame_header(uint8_t opcode, uint64_t announced,
                         bool compressed = false, bool fin = true);

/// A whole server frame carrying `payload`.
std::string frame(uint8_t opcode, const std::string& payload,
                  bool compressed = false, bool fin = true);

/// `payload` compressed as one permessage-deflate message (RFC 7692: raw
/// deflate, flushed, the trailing 00 00 ff ff removed).
std::string deflated(const std::string& payload);

/// The peak resident set of this process in bytes since the last
/// `reset_peak_rss` (VmHWM).
size_t peak_rss();

/// Starts measuring the peak resident set from the current one.
void reset_peak_rss();

/// The current resident set of this process in bytes (VmRSS).
size_t current_rss();

} // namespace wsm_test
