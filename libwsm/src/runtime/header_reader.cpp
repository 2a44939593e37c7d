// The header reader: reads `options::header_file` for machines before each
// attempt, on a thread of its own, where blocking on a disk is allowed (a
// machine's actor never does).

#include "runtime/runtime.hpp"

#include <string>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/spawn_options.hpp>

#include "machine/machine_impl.hpp"
#include "wsm/settings.hpp"

namespace wsm::detail {

namespace {

/// Answers `(header_file_atom, path)` with the file's headers, or with the
/// error `read_header_file` gives (the file and the line that is wrong).
class header_reader : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](header_file_atom,
         const std::string& path) -> caf::result<request_update> {
        auto read = read_header_file(path);
        if (!read)
          return std::move(read.error());
        return request_update{std::move(*read), {}};
      },
    };
  }
};

} // namespace

caf::actor spawn_header_reader(caf::actor_system& sys) {
  // Hidden, as the broker and the relay: the system's end does not wait
  // for it (the runtime module ends it after the last machine).
  return sys.spawn<header_reader, caf::detached + caf::hidden>();
}

} // namespace wsm::detail
