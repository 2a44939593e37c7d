// Every key of group [wsm], declared once: its form, its help, its
// default, how a value applies; and applying a group to `settings`.

#include "wsm/settings.hpp"

#include <map>

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>

#include "request/proxy_route.hpp"
#include "request/url.hpp"
#include "settings/value_forms.hpp"
#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"
#include "wsm/metrics.hpp"

namespace wsm {

namespace {

using detail::as_list;
using detail::bad_key;
using detail::quoted;
using detail::set_bounded;
using detail::set_count;
using detail::set_duration;
using detail::set_flag;
using detail::set_real;
using detail::set_text;
using detail::shown;

using setter = caf::error (*)(const caf::config_value&, settings&);

/// One key of group [wsm], declared once: how it is written, what it does,
/// how its default reads, how a value applies.
struct setting_declaration {
  setting_form form;
  const char* help;
  std::string (*default_of)(const settings&);
  setter apply;
};

/// Every key of group [wsm], declared once.
const std::map<std::string, setting_declaration>& setters() {
  static const std::map<std::string, setting_declaration> result{
    {"text",
     {setting_form::flag, "send text frames instead of binary ones",
      [](const settings& s) { return shown(s.machine.text); },
     [](const caf::config_value& x, settings& s) {
       return set_flag(x, s.machine.text);
     }}},
    {"subprotocols",
     {setting_form::list, "a subprotocol to offer, most preferred first",
      [](const settings& s) { return shown(s.machine.subprotocols); },
     [](const caf::config_value& x, settings& s) -> caf::error {
       auto list = as_list(x);
       if (list == nullptr)
         return make_error(errc::invalid_option,
                           "must be a list like [\"chat.v2\", \"chat.v1\"]");
       s.machine.subprotocols.clear();
       for (auto& item : *list) {
         std::string name;
         if (auto err = set_text(item, name))
           return err;
         s.machine.subprotocols.push_back(std::move(name));
       }
       return {};
     }}},
    {"deflate",
     {setting_form::flag, "offer permessage-deflate; compress both ways if agreed",
      [](const settings& s) { return shown(s.machine.deflate.enabled); },
     [](const caf::config_value& x, settings& s) {
       return set_flag(x, s.machine.deflate.enabled);
     }}},
    {"deflate-max-window-bits",
     {setting_form::value, "the deflate window asked of both sides, 9..15",
      [](const settings& s) { return shown(s.machine.deflate.max_window_bits); },
     [](const caf::config_value& x, settings& s) {
       return set_bounded(x, s.machine.deflate.max_window_bits, 9, 15);
     }}},
    {"deflate-mem-level",
     {setting_form::value, "memory of our compressor's hash chains, 1..9",
      [](const settings& s) { return shown(s.machine.deflate.mem_level); },
     [](const caf::config_value& x, settings& s) {
       return set_bounded(x, s.machine.deflate.mem_level, 1, 9);
     }}},
    {"deflate-no-context-takeover",
     {setting_form::flag, "ask both sides to compress each message on its own",
      [](const settings& s) { return shown(s.machine.deflate.no_context_takeover); },
     [](const caf::config_value& x, settings& s) {
       return set_flag(x, s.machine.deflate.no_context_takeover);
     }}},
    {"deflate-level",
     {setting_form::value, "compression level of our messages, 0..9",
      [](const settings& s) { return shown(s.machine.deflate.level); },
     [](const caf::config_value& x, settings& s) {
       return set_bounded(x, s.machine.deflate.level, 0, 9);
     }}},
    {"deflate-threshold",
     {setting_form::value, "bytes; shorter messages go uncompressed",
      [](const settings& s) { return shown(s.machine.deflate.threshold); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.deflate.threshold, 0);
     }}},
    {"ca-file",
     {setting_form::value, "PEM file of CAs to trust instead of the system's store",
      [](const settings& s) { return shown(s.machine.tls.ca_file); },
     [](const caf::config_value& x, settings& s) {
       return set_text(x, s.machine.tls.ca_file);
     }}},
    {"ca-path",
     {setting_form::value, "directory of hashed CA certificates to trust instead",
      [](const settings& s) { return shown(s.machine.tls.ca_path); },
     [](const caf::config_value& x, settings& s) {
       return set_text(x, s.machine.tls.ca_path);
     }}},
    {"cert",
     {setting_form::value, "PEM file of our certificate, for servers that ask for one",
      [](const settings& s) { return shown(s.machine.tls.cert_file); },
     [](const caf::config_value& x, settings& s) {
       return set_text(x, s.machine.tls.cert_file);
     }}},
    {"key",
     {setting_form::value, "PEM file of the private key of the certificate",
      [](const settings& s) { return shown(s.machine.tls.key_file); },
     [](const caf::config_value& x, settings& s) {
       return set_text(x, s.machine.tls.key_file);
     }}},
    {"insecure-skip-verify",
     {setting_form::flag, "accept any server certificate for any name (tests only)",
      [](const settings& s) { return shown(s.machine.tls.insecure_skip_verify); },
     [](const caf::config_value& x, settings& s) {
       return set_flag(x, s.machine.tls.insecure_skip_verify);
     }}},
    {"headers",
     {setting_form::list, "an extra upgrade header, NAME: VALUE",
      [](const settings& s) { return shown(s.machine.headers); },
     [](const caf::config_value& x, settings& s) -> caf::error {
       auto list = as_list(x);
       if (list == nullptr)
         return make_error(errc::invalid_option,
                           "must be a list like [\"Name: Value\"]");
       s.machine.headers.clear();
       for (auto& item : *list) {
         auto text = caf::get_if<std::string>(&item);
         if (text == nullptr)
           return make_error(errc::invalid_header,
                             caf::to_string(item) + " is not a string");
         auto parsed = parse_header(*text);
         if (!parsed)
           return parsed.error();
         s.machine.headers.push_back(std::move(*parsed));
       }
       return {};
     }}},
    {"ping-interval",
     {setting_form::value, "keepalive ping after this long without a frame",
      [](const settings& s) { return shown(s.machine.ping_interval); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.ping_interval);
     }}},
    {"pong-timeout",
     {setting_form::value, "no pong this long after that ping: reconnect",
      [](const settings& s) { return shown(s.machine.pong_timeout); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.pong_timeout);
     }}},
    {"retry-delay",
     {setting_form::value, "the pause after the first failed attempt",
      [](const settings& s) { return shown(s.machine.retry_delay); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.retry_delay);
     }}},
    {"backoff-factor",
     {setting_form::value, "each further failure multiplies the pause",
      [](const settings& s) { return shown(s.machine.backoff_factor); },
     [](const caf::config_value& x, settings& s) {
       return set_real(x, s.machine.backoff_factor, 1.0, 100.0);
     }}},
    {"backoff-max",
     {setting_form::value, "the pause never exceeds this",
      [](const settings& s) { return shown(s.machine.backoff_max); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.backoff_max);
     }}},
    {"backoff-jitter",
     {setting_form::value, "the pause varies by up to this fraction",
      [](const settings& s) { return shown(s.machine.backoff_jitter); },
     [](const caf::config_value& x, settings& s) {
       return set_real(x, s.machine.backoff_jitter, 0.0, 1.0);
     }}},
    {"max-retries",
     {setting_form::value, "failed attempts in a row before giving up, 0: never",
      [](const settings& s) { return shown(s.machine.max_retries); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.max_retries, 0);
     }}},
    {"reconnect-jitter",
     {setting_form::value, "random pause before reconnecting a dropped link",
      [](const settings& s) { return shown(s.machine.reconnect_jitter); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.reconnect_jitter);
     }}},
    {"retryable-statuses",
     {setting_form::list, "HTTP statuses of a refused handshake retried like a 5xx",
      [](const settings& s) { return shown(s.machine.retryable_statuses); },
     [](const caf::config_value& x, settings& s) -> caf::error {
       auto list = as_list(x);
       if (list == nullptr)
         return make_error(errc::invalid_option,
                           "must be a list of HTTP statuses like [403]");
       s.machine.retryable_statuses.clear();
       for (auto& item : *list) {
         uint16_t code = 0;
         if (auto err = set_count(item, code, 100); err || code > 599)
           return make_error(errc::invalid_option,
                             caf::to_string(item) + " is not an HTTP status");
         s.machine.retryable_statuses.push_back(code);
       }
       return {};
     }}},
    {"handshake-timeout",
     {setting_form::value, "bounds resolve, connect, TLS and upgrade",
      [](const settings& s) { return shown(s.machine.handshake_timeout); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.handshake_timeout);
     }}},
    {"write-timeout",
     {setting_form::value, "bounds every write",
      [](const settings& s) { return shown(s.machine.write_timeout); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.write_timeout);
     }}},
    {"close-timeout",
     {setting_form::value, "bounds the close, and the wait to write at the end",
      [](const settings& s) { return shown(s.machine.close_timeout); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.close_timeout);
     }}},
    {"max-message-size",
     {setting_form::value, "bytes; a larger message closes the link with 1009",
      [](const settings& s) { return shown(s.machine.max_message_size); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.max_message_size, 1);
     }}},
    {"max-queue",
     {setting_form::value, "messages not yet written, connected or not",
      [](const settings& s) { return shown(s.machine.max_queue); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.max_queue, 1);
     }}},
    {"max-queue-bytes",
     {setting_form::value, "bytes of those messages, at most",
      [](const settings& s) { return shown(s.machine.max_queue_bytes); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.max_queue_bytes, 1);
     }}},
    {"overflow",
     {setting_form::value, "a full queue: reject, drop-oldest or drop-newest",
      [](const settings& s) { return shown(s.machine.overflow); },
     [](const caf::config_value& x, settings& s) -> caf::error {
       auto text = caf::get_if<std::string>(&x);
       auto parsed = parse_overflow_policy(text ? *text : caf::to_string(x));
       if (!parsed)
         return parsed.error();
       s.machine.overflow = *parsed;
       return {};
     }}},
    {"confirm-timeout",
     {setting_form::value, "a message sent for confirmation and written waits this long for it, 0: no limit",
      [](const settings& s) { return shown(s.machine.confirm_timeout); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.confirm_timeout);
     }}},
    {"max-resends",
     {setting_form::value, "times such a message is written again on a later link",
      [](const settings& s) { return shown(s.machine.max_resends); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.max_resends, 0);
     }}},
    {"max-inbox",
     {setting_form::value, "messages received and not yet handled at most; more stop the reading, 0: no bound",
      [](const settings& s) { return shown(s.machine.max_inbox); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.max_inbox, 0);
     }}},
    {"send-rate",
     {setting_form::value, "messages sent per second at most, 0: no limit",
      [](const settings& s) { return shown(s.machine.send_rate); },
     [](const caf::config_value& x, settings& s) {
       return set_real(x, s.machine.send_rate, 0.0, 1e9);
     }}},
    {"send-burst",
     {setting_form::value, "messages that may go at once under send-rate",
      [](const settings& s) { return shown(s.machine.send_burst); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.send_burst, 1);
     }}},
    {"tcp-nodelay",
     {setting_form::value, "TCP_NODELAY on the socket, true or false",
      [](const settings& s) { return shown(s.machine.tcp_nodelay); },
     [](const caf::config_value& x, settings& s) {
       return set_flag(x, s.machine.tcp_nodelay);
     }}},
    {"min-uptime",
     {setting_form::value, "a link up less than this counts as a failed attempt (backoff follows)",
      [](const settings& s) { return shown(s.machine.min_uptime); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.min_uptime);
     }}},
    {"heartbeat",
     {setting_form::value, "a data message sent when nothing was sent for heartbeat-interval",
      [](const settings& s) { return shown(s.machine.heartbeat); },
     [](const caf::config_value& x, settings& s) {
       return set_text(x, s.machine.heartbeat);
     }}},
    {"heartbeat-interval",
     {setting_form::value, "how long without sending before the heartbeat goes",
      [](const settings& s) { return shown(s.machine.heartbeat_interval); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.heartbeat_interval);
     }}},
    {"liveness-timeout",
     {setting_form::value, "no message received this long: the peer is dead, reconnect; 0: no limit",
      [](const settings& s) { return shown(s.machine.liveness_timeout); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.liveness_timeout);
     }}},
    {"local-address",
     {setting_form::value, "the IP address to connect from",
      [](const settings& s) { return shown(s.machine.local_address); },
     [](const caf::config_value& x, settings& s) -> caf::error {
       if (auto err = set_text(x, s.machine.local_address))
         return err;
       return detail::check_local_address(s.machine.local_address);
     }}},
    {"connect-timeout",
     {setting_form::value, "bounds the TCP connect to each address of the name",
      [](const settings& s) { return shown(s.machine.connect_timeout); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.connect_timeout);
     }}},
    {"connect-attempt-delay",
     {setting_form::value, "the next address of the name is tried this long after the last while it is pending",
      [](const settings& s) { return shown(s.machine.connect_attempt_delay); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.connect_attempt_delay);
     }}},
    {"proxy",
     {setting_form::value, "http://, https://, socks5:// or socks5h://[user:password@]host:port, or none; empty: the environment's (http_proxy, no_proxy, ...)",
      [](const settings& s) { return shown(s.machine.proxy); },
     [](const caf::config_value& x, settings& s) -> caf::error {
       if (auto err = set_text(x, s.machine.proxy))
         return err;
       if (s.machine.proxy.empty())
         return {};
       if (auto parsed = detail::parse_proxy(s.machine.proxy); !parsed)
         return parsed.error();
       return {};
     }}},
    {"max-redirects",
     {setting_form::value, "redirects followed within one attempt, 0: refuse them",
      [](const settings& s) { return shown(s.machine.max_redirects); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.machine.max_redirects, 0);
     }}},
    {"header-file",
     {setting_form::value, "a file of Name: value lines, read again before every attempt (tokens rotated on disk)",
      [](const settings& s) { return shown(s.machine.header_file); },
     [](const caf::config_value& x, settings& s) {
       return set_text(x, s.machine.header_file);
     }}},
    {"request-timeout",
     {setting_form::value, "how long the request provider may take before every attempt",
      [](const settings& s) { return shown(s.machine.request_timeout); },
     [](const caf::config_value& x, settings& s) {
       return set_duration(x, s.machine.request_timeout);
     }}},
    {"io-threads",
     {setting_form::value, "threads that run the connections",
      [](const settings& s) { return shown(s.io_threads); },
     [](const caf::config_value& x, settings& s) {
       return set_count(x, s.io_threads, 1);
     }}},
    {"metrics-address",
     {setting_form::value, "serve Prometheus metrics (/metrics) and a live status page (/) on HOST:PORT, or on 127.0.0.1 given a port alone; empty: off",
      [](const settings& s) { return shown(s.metrics_address); },
     [](const caf::config_value& x, settings& s) {
       if (auto err = set_text(x, s.metrics_address))
         return err;
       return s.metrics_address.empty()
                ? caf::error{}
                : check_metrics_address(s.metrics_address);
     }}},
    {"metrics-per-machine",
     {setting_form::flag, "add metrics series per machine, labelled by id and host",
      [](const settings& s) { return shown(s.metrics_per_machine); },
     [](const caf::config_value& x, settings& s) {
       return set_flag(x, s.metrics_per_machine);
     }}},
  };
  return result;
}

} // namespace

caf::expected<overflow_policy> parse_overflow_policy(const std::string& text) {
  for (auto x : {overflow_policy::reject, overflow_policy::drop_oldest,
                 overflow_policy::drop_newest})
    if (text == to_string(x))
      return x;
  return make_error(errc::invalid_option,
                    quoted(text)
                      + " is not an overflow policy (reject, drop-oldest, "
                        "drop-newest)");
}

void settings::apply_to(caf::actor_system_config& cfg) const {
  cfg.set("wsm.io-threads", io_threads);
  if (!metrics_address.empty())
    cfg.set("wsm.metrics-address", metrics_address);
  cfg.set("wsm.metrics-per-machine", metrics_per_machine);
}

std::vector<setting_description> describe_settings() {
  settings defaults;
  std::vector<setting_description> result;
  for (auto& [key, x] : setters())
    result.push_back({key, x.form, x.help, x.default_of(defaults)});
  return result;
}

std::vector<std::string> settings_keys() {
  std::vector<std::string> result;
  for (auto& entry : setters())
    result.push_back(entry.first);
  return result;
}

caf::error apply_settings(const caf::settings& content, settings& result) {
  auto group = content.find("wsm");
  if (group == content.end())
    return {};
  auto entries = caf::get_if<caf::settings>(&group->second);
  if (entries == nullptr)
    return make_error(errc::invalid_option, "wsm must be a group");
  auto& table = setters();
  for (auto& [key, value] : *entries) {
    auto i = table.find(key);
    if (i == table.end())
      return make_error(errc::invalid_option, "unknown key wsm." + key);
    if (auto err = i->second.apply(value, result))
      return bad_key(key, describe(err));
  }
  return {};
}

} // namespace wsm
