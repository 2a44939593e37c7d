#pragma once

// The machine's link while the broker holds the connection itself.

#include <memory>
#include <string>
#include <utility>

#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/make_message.hpp>
#include <caf/message_id.hpp>

#include "wsm/transport.hpp"

namespace wsm::detail::fsm {

/// A connection as messages to the broker that holds it: what a machine
/// talks to until the broker hands over the connection itself, and always
/// with a broker that does not (the tests' fakes).
class broker_link final : public wsm::link {
public:
  broker_link(broker_actor broker, uint64_t connection, caf::actor_addr machine)
    : broker_(std::move(broker)),
      connection_(connection),
      machine_(std::move(machine)) {
  }

  void write(std::shared_ptr<const std::string> payload, bool text) override {
    send(write_atom::value, connection_, *payload, text);
  }

  void ping(const std::string& payload) override {
    if (payload.empty())
      send(ping_atom::value, connection_);
    else
      send(ping_atom::value, connection_, payload);
  }

  void close() override {
    send(close_atom::value, connection_);
  }

  void abort() override {
    send(abort_atom::value, connection_);
  }

  void pause_reading() override {
    send(pause_atom::value, connection_);
  }

  void resume_reading() override {
    send(resume_atom::value, connection_);
  }

private:
  /// Sends as the machine, as its own sends would be (the broker learns
  /// nothing from the sender, but the sequence a test sees is the same).
  template <class... Ts>
  void send(Ts&&... xs) {
    if (broker_)
      broker_->enqueue(caf::actor_cast<caf::strong_actor_ptr>(machine_),
                       caf::make_message_id(),
                       caf::make_message(std::forward<Ts>(xs)...), nullptr);
  }

  broker_actor broker_;
  uint64_t connection_;
  caf::actor_addr machine_;
};

} // namespace wsm::detail::fsm
