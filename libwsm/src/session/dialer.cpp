// Resolving and racing the addresses of a name (see dialer.hpp).

#include "session/dialer.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>

#include "vocabulary/wording.hpp"

namespace wsm::detail {

dialer::dialer(executor_type executor, dial_target target)
  : executor_(executor),
    resolver_(executor),
    stagger_(executor),
    target_(std::move(target)) {
}

template <class F>
void dialer::guarded(const char* what, F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    finish(disconnect_info{close_cause::internal_error,
                           std::string{what} + ": internal error: " + e.what()},
           socket_type{executor_});
  } catch (...) {
    finish(disconnect_info{close_cause::internal_error,
                           std::string{what}
                             + ": internal error: an exception of unknown type"},
           socket_type{executor_});
  }
}

void dialer::start(handler done) {
  done_ = std::move(done);
  // An address needs no lookup, and no hop through Asio's resolver thread.
  beast::error_code not_an_address;
  auto address = net::ip::make_address(target_.host, not_an_address);
  if (!not_an_address) {
    auto port = static_cast<unsigned short>(std::stoul(target_.port));
    return on_resolve({}, tcp::resolver::results_type::create(
                            tcp::endpoint{address, port}, target_.host,
                            target_.port));
  }
  resolver_.async_resolve(target_.host, target_.port,
                          [self = shared_from_this()](
                            beast::error_code ec,
                            tcp::resolver::results_type results) {
    self->guarded("resolve", [&] { self->on_resolve(ec, std::move(results)); });
  });
}

void dialer::cancel() {
  finished_ = true;
  // What the handler holds (its session) is not the dialer's to keep.
  done_ = nullptr;
  beast::error_code ignored;
  resolver_.cancel();
  stagger_.cancel();
  for (auto& x : attempts_)
    x->socket.close(ignored);
}

void dialer::finish(std::optional<disconnect_info> failure,
                    socket_type socket) {
  if (finished_)
    return;
  auto done = std::move(done_);
  cancel();
  // Called last: the handler may let go of the dialer.
  done(std::move(failure), std::move(socket));
}

void dialer::on_resolve(beast::error_code ec,
                        tcp::resolver::results_type results) {
  if (finished_)
    return; // cancelled while the answer was on its way
  if (ec)
    return finish(disconnect_info{close_cause::network,
                                  "resolve " + target_.host + ": "
                                    + ec.message()},
                  socket_type{executor_});
  std::vector<tcp::endpoint> found;
  for (auto& entry : results)
    found.push_back(entry.endpoint());
  if (!target_.local_address.empty()) {
    // Only addresses of the local address's family can be reached from it.
    auto local = net::ip::make_address(target_.local_address);
    local_ = tcp::endpoint{local, 0};
    found.erase(std::remove_if(found.begin(), found.end(),
                               [&](const tcp::endpoint& x) {
                                 return x.address().is_v4() != local.is_v4();
                               }),
                found.end());
    if (found.empty())
      return finish(disconnect_info{close_cause::network,
                                    "connect: " + target_.host + " has no "
                                      + (local.is_v4() ? "IPv4" : "IPv6")
                                      + " address to reach from local_address "
                                      + target_.local_address},
                    socket_type{executor_});
  }
  endpoints_ = interleave_families(std::move(found));
  start_next_address();
}

std::vector<tcp::endpoint>
dialer::interleave_families(std::vector<tcp::endpoint> xs) {
  if (xs.empty())
    return xs;
  auto first_v4 = xs.front().address().is_v4();
  std::vector<tcp::endpoint> preferred;
  std::vector<tcp::endpoint> other;
  for (auto& x : xs)
    (x.address().is_v4() == first_v4 ? preferred : other).push_back(x);
  std::vector<tcp::endpoint> result;
  for (size_t i = 0; i < std::max(preferred.size(), other.size()); ++i) {
    if (i < preferred.size())
      result.push_back(preferred[i]);
    if (i < other.size())
      result.push_back(other[i]);
  }
  return result;
}

void dialer::start_next_address() {
  if (next_endpoint_ == endpoints_.size())
    return;
  auto endpoint = endpoints_[next_endpoint_++];
  auto next = std::make_shared<attempt>(executor_);
  attempts_.push_back(next);
  ++pending_;
  beast::error_code ec;
  next->socket.open(endpoint.protocol(), ec);
  if (!ec && local_)
    next->socket.bind(*local_, ec);
  if (ec) {
    // Fails like a connect that was refused: the next address may do.
    return net::post(executor_, [self = shared_from_this(), next, ec] {
      self->guarded("connect", [&] { self->on_address_connected(next, ec); });
    });
  }
  next->socket.async_connect(endpoint, [self = shared_from_this(),
                                        next](beast::error_code ec) {
    self->guarded("connect", [&] { self->on_address_connected(next, ec); });
  });
  next->timer.expires_after(target_.connect_timeout);
  next->timer.async_wait([next](beast::error_code ec) {
    if (ec || next->done)
      return;
    next->timed_out = true;
    beast::error_code ignored;
    next->socket.close(ignored); // its connect completes, aborted
  });
  if (next_endpoint_ < endpoints_.size()) {
    stagger_.expires_after(target_.connect_attempt_delay);
    stagger_.async_wait([self = shared_from_this(),
                         armed = next_endpoint_](beast::error_code ec) {
      // Started already because the one before failed: nothing to do.
      if (!ec && !self->finished_ && self->next_endpoint_ == armed)
        self->guarded("connect", [&] { self->start_next_address(); });
    });
  }
}

void dialer::on_address_connected(const std::shared_ptr<attempt>& which,
                                  beast::error_code ec) {
  if (which->done)
    return;
  which->done = true;
  which->timer.cancel();
  if (finished_)
    return; // another address won, or the dial was cancelled
  if (pending_ > 0)
    --pending_;
  if (ec) {
    last_error_ = which->timed_out ? "timed out after "
                                       + in_milliseconds(target_.connect_timeout)
                                   : ec.message();
    if (next_endpoint_ < endpoints_.size())
      return start_next_address(); // now rather than after the delay
    if (pending_ == 0)
      finish(disconnect_info{close_cause::network, "connect: " + last_error_},
             socket_type{executor_});
    return;
  }
  // The first address to connect wins; finish closes the others.
  auto socket = std::move(which->socket);
  finish(std::nullopt, std::move(socket));
}

} // namespace wsm::detail
