// Reading libwsm's settings: durations and headers as people write them,
// CAF INI files with every key, and errors that name the key at fault.

#define CAF_SUITE settings

#include <caf/test/unit_test.hpp>
#include <caf/test/unit_test_impl.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "wsm/error.hpp"
#include "wsm/settings.hpp"

using namespace std::chrono_literals;

namespace {

/// Writes `text` to a file of its own that is removed at the end.
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& text) {
    char name[] = "/tmp/wsm-settings-XXXXXX";
    auto fd = mkstemp(name);
    CAF_REQUIRE(fd >= 0);
    close(fd);
    path = name;
    std::ofstream{path} << text;
  }
  ~temp_file() {
    std::remove(path.c_str());
  }
};

/// Reads and applies `text`; returns the error's description or "".
std::string load(const std::string& text, wsm::settings& result) {
  temp_file file{text};
  auto content = wsm::read_ini_file(file.path);
  if (!content)
    return wsm::describe(content.error());
  if (auto err = wsm::apply_settings(*content, result))
    return wsm::describe(err);
  return {};
}

std::string load_error(const std::string& text) {
  wsm::settings ignored;
  return load(text, ignored);
}

} // namespace

CAF_TEST(durations read like 250ms 5s 2min) {
  CAF_CHECK(*wsm::parse_duration("250ms") == 250ms);
  CAF_CHECK(*wsm::parse_duration("5s") == 5s);
  CAF_CHECK(*wsm::parse_duration("2min") == 2min);
  auto bare = wsm::parse_duration("5");
  CAF_REQUIRE(!bare);
  CAF_CHECK_EQUAL(wsm::describe(bare.error()),
                  "'5' is not a duration (write it like 250ms, 5s, 2min)");
  CAF_CHECK(!wsm::parse_duration("fast"));
  CAF_CHECK(!wsm::parse_duration("-5s"));
  // Zero is zero in any unit: it needs none.
  auto zero = wsm::parse_duration("0");
  CAF_REQUIRE(zero);
  CAF_CHECK(*zero == 0s);
}

CAF_TEST(max queue bytes is read and checked) {
  wsm::settings result;
  CAF_CHECK_EQUAL(load("[wsm]\nmax-queue-bytes=65536\n", result), "");
  CAF_CHECK_EQUAL(result.machine.max_queue_bytes, 65536u);
  CAF_CHECK_EQUAL(load_error("[wsm]\nmax-queue-bytes=0\n"),
                  "wsm.max-queue-bytes: 0 is not an integer of at least 1");
}

CAF_TEST(headers read like Name colon Value) {
  auto parsed = wsm::parse_header("X-Token: abc def");
  CAF_REQUIRE(parsed);
  CAF_CHECK_EQUAL(parsed->name, "X-Token");
  CAF_CHECK_EQUAL(parsed->value, "abc def");
  CAF_CHECK_EQUAL(wsm::describe(wsm::parse_header("X-Token").error()),
                  "header 'X-Token' has no ':' (write Name: Value)");
  CAF_CHECK_EQUAL(wsm::describe(wsm::parse_header("X: a\rb").error()),
                  "header 'X' has a value with CR, LF or NUL in it");
}

CAF_TEST(every key of the wsm group is applied) {
  wsm::settings result;
  CAF_CHECK_EQUAL(load("[wsm]\n"
                       "text=true\n"
                       "headers=[\"X-A: 1\", \"X-B: two\"]\n"
                       "ping-interval=250ms\n"
                       "retry-delay=\"2s\"\n"
                       "handshake-timeout=3s\n"
                       "close-timeout=4s\n"
                       "max-queue=7\n"
                       "io-threads=2\n",
                       result),
                  "");
  auto& opts = result.machine;
  CAF_CHECK(opts.text);
  CAF_REQUIRE_EQUAL(opts.headers.size(), 2u);
  CAF_CHECK_EQUAL(opts.headers[1].name, "X-B");
  CAF_CHECK_EQUAL(opts.headers[1].value, "two");
  CAF_CHECK(opts.ping_interval == 250ms);
  CAF_CHECK(opts.retry_delay == 2s);
  CAF_CHECK(opts.handshake_timeout == 3s);
  CAF_CHECK(opts.close_timeout == 4s);
  CAF_CHECK_EQUAL(opts.max_queue, 7u);
  CAF_CHECK_EQUAL(result.io_threads, 2u);
}

CAF_TEST(every key is described with the default the shipped config shows) {
  std::ifstream shipped{WSM_SOURCE_DIR "/configs/wsm.ini"};
  std::map<std::string, std::string> in_file;
  for (std::string line; std::getline(shipped, line);)
    if (auto eq = line.find('='); eq != std::string::npos && line[0] != ';'
                                  && line[0] != '[')
      in_file[line.substr(0, eq)] = line.substr(eq + 1);
  // The file writes text in quotes, lists as [], numbers as it likes.
  auto normal = [](std::string x) {
    if (x == "[]" || x == "\"\"")
      return std::string{};
    if (x.size() >= 2 && x.front() == '"')
      x = x.substr(1, x.size() - 2);
    char* end = nullptr;
    auto number = std::strtod(x.c_str(), &end);
    if (!x.empty() && end == x.c_str() + x.size())
      return std::to_string(number);
    return x;
  };
  auto described = wsm::describe_settings();
  CAF_CHECK_EQUAL(described.size(), wsm::settings_keys().size());
  for (auto& x : described) {
    CAF_CHECK(!x.help.empty());
    auto i = in_file.find(x.key);
    if (i == in_file.end()) {
      CAF_ERROR("configs/wsm.ini does not show " << x.key);
      continue;
    }
    CAF_CHECK_EQUAL(normal(x.default_value) + " for " + x.key,
                    normal(i->second) + " for " + x.key);
  }
}

CAF_TEST(the shipped config lists every key with its default) {
  std::ifstream shipped{WSM_SOURCE_DIR "/configs/wsm.ini"};
  std::stringstream text;
  text << shipped.rdbuf();
  for (auto& key : wsm::settings_keys())
    CAF_CHECK_NOT_EQUAL(text.str().find("\n" + key + "="), std::string::npos);
  wsm::settings from_file;
  from_file.machine.max_queue = 1; // proves the file sets it
  from_file.machine.retryable_statuses = {403};
  from_file.machine.max_inbox = 1;
  from_file.machine.send_rate = 9;
  from_file.machine.send_burst = 9;
  from_file.machine.tcp_nodelay = false;
  from_file.machine.min_uptime = std::chrono::seconds(99);
  from_file.machine.heartbeat = "x";
  from_file.machine.heartbeat_interval = std::chrono::seconds(99);
  from_file.machine.liveness_timeout = std::chrono::seconds(99);
  from_file.machine.local_address = "127.0.0.9";
  from_file.machine.connect_timeout = std::chrono::seconds(99);
  from_file.machine.connect_attempt_delay = std::chrono::seconds(99);
  from_file.machine.max_redirects = 99;
  from_file.machine.header_file = "x";
  from_file.machine.proxy = "none";
  from_file.machine.request_timeout = std::chrono::seconds(99);
  CAF_REQUIRE_EQUAL(load(text.str(), from_file), "");
  wsm::options defaults;
  auto& opts = from_file.machine;
  CAF_CHECK_EQUAL(opts.text, defaults.text);
  CAF_CHECK(opts.headers.empty());
  CAF_CHECK(opts.ping_interval == defaults.ping_interval);
  CAF_CHECK(opts.pong_timeout == defaults.pong_timeout);
  CAF_CHECK(opts.retry_delay == defaults.retry_delay);
  CAF_CHECK_EQUAL(opts.backoff_factor, defaults.backoff_factor);
  CAF_CHECK(opts.backoff_max == defaults.backoff_max);
  CAF_CHECK_EQUAL(opts.backoff_jitter, defaults.backoff_jitter);
  CAF_CHECK_EQUAL(opts.max_retries, defaults.max_retries);
  CAF_CHECK(opts.reconnect_jitter == defaults.reconnect_jitter);
  CAF_CHECK(opts.retryable_statuses.empty());
  CAF_CHECK(opts.handshake_timeout == defaults.handshake_timeout);
  CAF_CHECK(opts.write_timeout == defaults.write_timeout);
  CAF_CHECK(opts.close_timeout == defaults.close_timeout);
  CAF_CHECK_EQUAL(opts.max_message_size, defaults.max_message_size);
  CAF_CHECK_EQUAL(opts.max_queue, defaults.max_queue);
  CAF_CHECK(opts.overflow == defaults.overflow);
  CAF_CHECK_EQUAL(opts.max_inbox, defaults.max_inbox);
  CAF_CHECK_EQUAL(opts.send_rate, defaults.send_rate);
  CAF_CHECK_EQUAL(opts.send_burst, defaults.send_burst);
  CAF_CHECK_EQUAL(opts.tcp_nodelay, defaults.tcp_nodelay);
  CAF_CHECK(opts.min_uptime == defaults.min_uptime);
  CAF_CHECK_EQUAL(opts.heartbeat, defaults.heartbeat);
  CAF_CHECK(opts.heartbeat_interval == defaults.heartbeat_interval);
  CAF_CHECK(opts.liveness_timeout == defaults.liveness_timeout);
  CAF_CHECK_EQUAL(opts.local_address, defaults.local_address);
  CAF_CHECK(opts.connect_timeout == defaults.connect_timeout);
  CAF_CHECK(opts.connect_attempt_delay == defaults.connect_attempt_delay);
  CAF_CHECK_EQUAL(opts.max_redirects, defaults.max_redirects);
  CAF_CHECK_EQUAL(opts.header_file, defaults.header_file);
  CAF_CHECK_EQUAL(opts.proxy, defaults.proxy);
  CAF_CHECK(opts.request_timeout == defaults.request_timeout);
  CAF_CHECK(opts.subprotocols.empty());
  CAF_CHECK_EQUAL(opts.deflate.enabled, defaults.deflate.enabled);
  CAF_CHECK_EQUAL(opts.deflate.max_window_bits,
                  defaults.deflate.max_window_bits);
  CAF_CHECK_EQUAL(opts.deflate.mem_level, defaults.deflate.mem_level);
  CAF_CHECK_EQUAL(opts.deflate.no_context_takeover,
                  defaults.deflate.no_context_takeover);
  CAF_CHECK_EQUAL(opts.deflate.level, defaults.deflate.level);
  CAF_CHECK_EQUAL(opts.deflate.threshold, defaults.deflate.threshold);
  CAF_CHECK_EQUAL(opts.tls.ca_file, defaults.tls.ca_file);
  CAF_CHECK_EQUAL(opts.tls.ca_path, defaults.tls.ca_path);
  CAF_CHECK_EQUAL(opts.tls.cert_file, defaults.tls.cert_file);
  CAF_CHECK_EQUAL(opts.tls.key_file, defaults.tls.key_file);
  CAF_CHECK_EQUAL(opts.tls.insecure_skip_verify,
                  defaults.tls.insecure_skip_verify);
  CAF_CHECK_EQUAL(from_file.io_threads, wsm::settings{}.io_threads);
}

CAF_TEST(the handshake and TLS keys are applied and checked) {
  wsm::settings result;
  result.machine.tls.ca_path = "/etc/ssl/certs"; // proves "" clears it
  CAF_CHECK_EQUAL(load("[wsm]\n"
                       "subprotocols=[\"chat.v2\", \"chat.v1\"]\n"
                       "deflate=true\n"
                       "deflate-max-window-bits=10\n"
                       "deflate-mem-level=2\n"
                       "deflate-no-context-takeover=true\n"
                       "deflate-level=1\n"
                       "deflate-threshold=64\n"
                       "ca-file=\"/etc/feed/ca.pem\"\n"
                       "ca-path=\"\"\n"
                       "cert=\"/etc/feed/me.pem\"\n"
                       "key=\"/etc/feed/me.key\"\n"
                       "insecure-skip-verify=true\n",
                       result),
                  "");
  auto& opts = result.machine;
  CAF_CHECK_EQUAL(opts.subprotocols,
                  (std::vector<std::string>{"chat.v2", "chat.v1"}));
  CAF_CHECK(opts.deflate.enabled);
  CAF_CHECK_EQUAL(opts.deflate.max_window_bits, 10);
  CAF_CHECK_EQUAL(opts.deflate.mem_level, 2);
  CAF_CHECK(opts.deflate.no_context_takeover);
  CAF_CHECK_EQUAL(opts.deflate.level, 1);
  CAF_CHECK_EQUAL(opts.deflate.threshold, 64u);
  CAF_CHECK_EQUAL(opts.tls.ca_file, "/etc/feed/ca.pem");
  CAF_CHECK_EQUAL(opts.tls.ca_path, "");
  CAF_CHECK_EQUAL(opts.tls.cert_file, "/etc/feed/me.pem");
  CAF_CHECK_EQUAL(opts.tls.key_file, "/etc/feed/me.key");
  CAF_CHECK(opts.tls.insecure_skip_verify);
  CAF_CHECK_EQUAL(load_error("[wsm]\ndeflate-max-window-bits=8\n"),
                  "wsm.deflate-max-window-bits: 8 is not an integer between 9 "
                  "and 15");
  CAF_CHECK_EQUAL(load_error("[wsm]\ndeflate-mem-level=10\n"),
                  "wsm.deflate-mem-level: 10 is not an integer between 1 "
                  "and 9");
  CAF_CHECK_EQUAL(load_error("[wsm]\nsubprotocols=\"chat\"\n"),
                  "wsm.subprotocols: must be a list like [\"chat.v2\", "
                  "\"chat.v1\"]");
  CAF_CHECK_EQUAL(load_error("[wsm]\nca-file=42\n"),
                  "wsm.ca-file: 42 is not a string (write it in quotes)");
  CAF_CHECK_EQUAL(load_error("[wsm]\ninsecure-skip-verify=\"yes\"\n"),
                  "wsm.insecure-skip-verify: \"yes\" is not true or false");
}

CAF_TEST(the resilience keys are applied and checked) {
  wsm::settings result;
  CAF_CHECK_EQUAL(load("[wsm]\n"
                       "pong-timeout=2s\n"
                       "backoff-factor=1.5\n"
                       "backoff-max=1min\n"
                       "backoff-jitter=0.5\n"
                       "max-retries=3\n"
                       "reconnect-jitter=0s\n"
                       "retryable-statuses=[403, 408]\n"
                       "write-timeout=1s\n"
                       "max-message-size=1024\n"
                       "overflow=\"drop-oldest\"\n",
                       result),
                  "");
  auto& opts = result.machine;
  CAF_CHECK(opts.pong_timeout == 2s);
  CAF_CHECK_EQUAL(opts.backoff_factor, 1.5);
  CAF_CHECK(opts.backoff_max == 1min);
  CAF_CHECK_EQUAL(opts.backoff_jitter, 0.5);
  CAF_CHECK_EQUAL(opts.max_retries, 3u);
  CAF_CHECK(opts.reconnect_jitter == 0s);
  CAF_CHECK_EQUAL(opts.retryable_statuses, (std::vector<uint16_t>{403, 408}));
  CAF_CHECK(opts.write_timeout == 1s);
  CAF_CHECK_EQUAL(opts.max_message_size, 1024u);
  CAF_CHECK(opts.overflow == wsm::overflow_policy::drop_oldest);
  CAF_CHECK_EQUAL(load_error("[wsm]\noverflow=\"drop-all\"\n"),
                  "wsm.overflow: 'drop-all' is not an overflow policy "
                  "(reject, drop-oldest, drop-newest)");
  CAF_CHECK_EQUAL(load_error("[wsm]\nbackoff-jitter=1.5\n"),
                  "wsm.backoff-jitter: 1.5 is not between 0 and 1");
  CAF_CHECK_EQUAL(load_error("[wsm]\nretryable-statuses=[99]\n"),
                  "wsm.retryable-statuses: 99 is not an HTTP status");
  CAF_CHECK_EQUAL(load_error("[wsm]\nmax-retries=-1\n"),
                  "wsm.max-retries: -1 is not an integer of at least 0");
}

CAF_TEST(errors name the key at fault) {
  CAF_CHECK_EQUAL(load_error("[wsm]\nping-intervl=5s\n"),
                  "unknown key wsm.ping-intervl");
  CAF_CHECK_EQUAL(load_error("[wsm]\nmax-queue=-3\n"),
                  "wsm.max-queue: -3 is not an integer of at least 1");
  CAF_CHECK_EQUAL(load_error("[wsm]\nretry-delay=\"soon\"\n"),
                  "wsm.retry-delay: 'soon' is not a duration (write it like "
                  "250ms, 5s, 2min)");
  CAF_CHECK_EQUAL(load_error("[wsm]\ntext=\"maybe\"\n"),
                  "wsm.text: \"maybe\" is not true or false");
  CAF_CHECK_EQUAL(load_error("[wsm]\nheaders=[\"Bad\"]\n"),
                  "wsm.headers: header 'Bad' has no ':' (write Name: Value)");
}

CAF_TEST(a value CAF cannot parse names its line and key) {
  auto text = load_error("[wsm]\nping-interval=fast asleep\n");
  CAF_CHECK_NOT_EQUAL(text.find("line 2"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("ping-interval"), std::string::npos);
}

CAF_TEST(a missing file is an error naming it) {
  auto result = wsm::read_ini_file("/nonexistent/wsm.ini");
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(wsm::describe(result.error()),
                  "cannot read config file '/nonexistent/wsm.ini'");
}
