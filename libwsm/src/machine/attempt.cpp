// Each attempt's request: the header file and the request provider, the
// governor's slot, redirects, and which refusals are worth a retry.

#include "machine/machine_state.hpp"

#include <algorithm>

#include "request/url.hpp"
#include "vocabulary/wording.hpp"
#include "wsm/error.hpp"

namespace wsm::detail::fsm {

/// Whether a refused handshake redirects.
bool is_redirect(uint16_t status) {
  return status == 301 || status == 302 || status == 303 || status == 307
         || status == 308;
}

/// A refused handshake is worth retrying if the server may change its mind;
/// so is a redirect that could not be followed, when redirects are.
bool is_retryable(const options& opts, const disconnect_info& info) {
  if (info.cause != close_cause::handshake_rejected)
    return true;
  auto code = info.http_status;
  return code >= 500 || code == 429
         || (opts.max_redirects > 0 && is_redirect(code))
         || std::find(opts.retryable_statuses.begin(),
                      opts.retryable_statuses.end(), code)
              != opts.retryable_statuses.end();
}

/// Asks the broker to open the connection of the current attempt.
void open_connection(machine_self self) {
  auto& st = self->state;
  self->send(st.broker, open_atom::value, st.connection.id,
             st.current_request());
}

/// The attempt fails before anything went on the wire (its request could
/// not be made): the backoff follows, as after any failed attempt.
void fail_attempt(machine_self self, std::string reason) {
  enter_waiting(self, disconnect_info{close_cause::closed_by_machine,
                                      std::move(reason)});
}

/// Books this host a slot with the governor (if any), then opens.
void book_slot(machine_self self) {
  auto& st = self->state;
  if (!st.governor)
    return open_connection(self);
  // The governor books a slot for this host; the attempt waits for it in
  // CONNECTING. Its answer, like a timer, belongs to this attempt only.
  auto generation = st.generation;
  self
    ->request(st.governor, caf::infinite, slot_atom::value,
              st.current_request().host + ":" + st.current_request().port)
    .then(
      [=](caf::timespan wait) {
        if (self->state.generation != generation)
          return;
        if (wait.count() == 0)
          open_connection(self);
        else
          arm_timer(self, slot_timer_atom{}, wait);
      },
      [=](caf::error&) {
        // No governor any more (shutting down): go ahead.
        if (self->state.generation == generation)
          open_connection(self);
      });
}

/// Sets `headers` on `request`: each replaces those of its name.
void set_headers(connect_request& request, const std::vector<header>& headers) {
  for (auto& h : headers) {
    auto& have = request.headers;
    have.erase(std::remove_if(have.begin(), have.end(),
                              [&](const header& x) {
                                return detail::same_header_name(
                                  x.name, h.name.c_str());
                              }),
               have.end());
    have.push_back(h);
  }
}

/// The attempt's request from the provider's answer and the header file's
/// headers, or what is wrong with them.
caf::expected<connect_request>
make_attempt_request(machine_self self, const request_update& answer,
                     const std::vector<header>& from_file) {
  auto& st = self->state;
  connect_request result = st.request();
  if (!answer.url.empty()) {
    auto made = detail::make_connect_request(answer.url, st.opts(),
                                             detail::tls_files::leave_to_node);
    if (!made)
      return std::move(made.error());
    result = std::move(*made);
  }
  for (auto& h : answer.headers)
    if (auto err = detail::check_header(h))
      return err;
  set_headers(result, from_file);
  set_headers(result, answer.headers);
  return result;
}

/// Makes the attempt's request: the header file read again, the request
/// provider asked (bounded by request_timeout); then the slot and the open.
/// Anything wrong fails the attempt, retried with backoff.
void prepare_request(machine_self self) {
  auto& st = self->state;
  auto& path = st.opts().header_file;
  if (path.empty())
    return ask_request_provider(self, {});
  // Read by the header reader, where blocking is allowed: the machine's
  // actor never waits on a disk. Bounded like the request provider.
  if (!st.header_reader)
    return fail_attempt(self, "header file '" + path + "': nothing reads it");
  auto generation = st.generation;
  self
    ->request(st.header_reader, st.opts().request_timeout,
              header_file_atom::value, path)
    .then(
      [=](request_update& from_file) {
        if (self->state.generation == generation)
          ask_request_provider(self, std::move(from_file.headers));
      },
      [=](caf::error& err) {
        if (self->state.generation != generation)
          return;
        auto& st = self->state;
        fail_attempt(self,
                     err == caf::sec::request_timeout
                       ? "header file '" + st.opts().header_file
                           + "': not read within "
                           + detail::in_milliseconds(st.opts().request_timeout)
                       : describe(err));
      });
}

/// The rest of the attempt's request: the request provider asked (if
/// any), its answer and the header file's headers set; then the slot and
/// the open.
void ask_request_provider(machine_self self, std::vector<header> from_file) {
  auto& st = self->state;
  auto use = [=](const request_update& answer,
                 const std::vector<header>& file_headers) {
    auto made = make_attempt_request(self, answer, file_headers);
    if (!made)
      return fail_attempt(self, "request provider: " + describe(made.error()));
    self->state.attempt_request = std::make_shared<const connect_request>(
      std::move(*made));
    book_slot(self);
  };
  if (!st.opts().request_provider) {
    if (!from_file.empty())
      use(request_update{}, from_file);
    else
      book_slot(self);
    return;
  }
  auto generation = st.generation;
  self
    ->request(st.opts().request_provider, st.opts().request_timeout,
              request_atom::value, st.last.attempt)
    .then(
      [=](request_update& answer) {
        if (self->state.generation == generation)
          use(answer, from_file);
      },
      [=](caf::error& err) {
        if (self->state.generation != generation)
          return;
        fail_attempt(self,
                     "request provider: "
                       + (err == caf::sec::request_timeout
                            ? "no answer within "
                                + detail::in_milliseconds(
                                  self->state.opts().request_timeout)
                            : describe(err)));
      });
}

/// Whether a name and a port are those of the request: the same origin, to
/// which credentials may go.
bool same_origin(const connect_request& x, const connect_request& y) {
  return x.host == y.host && x.port == y.port;
}

/// The server redirects the attempt: the next request goes where it says,
/// within the same attempt (no new CONNECTING), unless the cap is reached
/// or the redirect is not acceptable, which fails the attempt.
void follow_redirect(machine_self self, const disconnect_info& info) {
  auto& st = self->state;
  auto fail_with = [&](std::string why) {
    auto failed = info;
    failed.reason = std::move(why);
    enter_waiting(self, failed);
  };
  if (info.location.empty())
    return fail_with(info.reason + " without a Location");
  if (st.redirects_followed >= st.opts().max_redirects)
    return fail_with("too many redirects ("
                     + std::to_string(st.opts().max_redirects) + ")");
  auto& from = st.current_request();
  auto target = detail::resolve_redirect(from.url, info.location);
  if (!target)
    return fail_with(describe(target.error()));
  auto next = detail::make_connect_request(*target, st.opts(),
                                           detail::tls_files::leave_to_node);
  if (!next)
    return fail_with("redirect: " + describe(next.error()));
  if (from.secure && !next->secure)
    return fail_with("redirect from wss:// to " + next->url
                     + " refused: it would drop TLS");
  auto is_authorization = [](const header& h) {
    return detail::same_header_name(h.name, "Authorization");
  };
  auto& headers = next->headers;
  if (same_origin(from, *next)) {
    // The URL's credentials, if any, still go to the same origin.
    if (std::none_of(headers.begin(), headers.end(), is_authorization))
      for (auto& h : from.headers)
        if (is_authorization(h))
          headers.push_back(h);
  } else {
    headers.erase(std::remove_if(headers.begin(), headers.end(),
                                 is_authorization),
                  headers.end());
  }
  ++st.redirects_followed;
  st.last.redirects.push_back(next->url);
  st.attempt_request = std::make_shared<const connect_request>(
    std::move(*next));
  // A connection of its own, so that late events of the last one are
  // told apart; no slot to book again within the attempt.
  adopt_connection(self);
  open_connection(self);
}

} // namespace wsm::detail::fsm
