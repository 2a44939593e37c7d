#include "delivery/subscriber_list.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/local_actor.hpp>
#include <caf/mailbox_element.hpp>

namespace wsm::detail {

void deliver(caf::local_actor* self, const caf::strong_actor_ptr& dest,
             caf::message content) {
  if (dest)
    dest->enqueue(self->ctrl(), caf::make_message_id(), std::move(content),
                  self->context());
}

void subscriber_list::add(caf::local_actor* self, const caf::actor& who) {
  if (!who
      || std::any_of(entries_.begin(), entries_.end(),
                     [&](const subscriber_entry& x) { return x.handle == who; }))
    return;
  self->monitor(who);
  entries_.push_back(subscriber_entry{who});
}

void subscriber_list::remove(const caf::actor_addr& who) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const subscriber_entry& x) {
                                  return x.handle.address() == who;
                                }),
                 entries_.end());
}

void subscriber_list::fan_out(caf::local_actor* self,
                              const caf::message& content) const {
  for (auto& x : entries_)
    deliver(self, caf::actor_cast<caf::strong_actor_ptr>(x.handle), content);
}

} // namespace wsm::detail
