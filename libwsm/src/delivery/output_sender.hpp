#pragma once

// Who hears how an output ends: one record for the machine, which keeps an
// output until its frame is written, and for the pool member, which keeps
// it until its machine's receipt comes.

#include <string>

#include <caf/actor_control_block.hpp>
#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>

#include "wsm/error.hpp"

namespace wsm::detail {

/// The sender of an output, and its receipt if the output came as a request.
struct output_sender {
  caf::strong_actor_ptr sender;
  /// Answered when the frame is written, if the output came as a request.
  caf::response_promise receipt;

  /// The sender of the message `self` is handling now.
  static output_sender of_current(caf::local_actor* self);

  /// Whether the output came as a request, not yet answered.
  bool asked() const {
    return receipt.pending() && !receipt.async();
  }

  /// The frame was written: a request is answered (with nothing).
  void written();

  /// The output will never be written: a request is answered with an error
  /// of `code` (`errc::undelivered`, or `errc::machine_quit`) saying
  /// `reason`; a plain sender gets `undelivered{payload, reason}`.
  void give_back(caf::local_actor* self, std::string payload,
                 const std::string& reason, errc code = errc::undelivered);
};

} // namespace wsm::detail
