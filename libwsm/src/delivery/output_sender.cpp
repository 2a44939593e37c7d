#include "delivery/output_sender.hpp"

#include <caf/local_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/make_message.hpp>
#include <caf/unit.hpp>

#include "delivery/subscriber_list.hpp"
#include "wsm/messages.hpp"

namespace wsm::detail {

output_sender output_sender::of_current(caf::local_actor* self) {
  // A promise only for a request: one for every plain output would copy
  // and release its references for nothing.
  auto element = self->current_mailbox_element();
  if (element == nullptr || !element->mid.is_request())
    return {self->current_sender(), {}};
  return {self->current_sender(), self->make_response_promise()};
}

void output_sender::written() {
  if (asked())
    receipt.deliver(caf::unit);
}

void output_sender::give_back(caf::local_actor* self, std::string payload,
                              const std::string& reason, errc code) {
  if (asked()) {
    receipt.deliver(make_error(code, reason));
    return;
  }
  deliver(self, sender,
          caf::make_message(undelivered{std::move(payload), reason}));
}

} // namespace wsm::detail
