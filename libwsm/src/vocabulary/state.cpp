#include "wsm/state.hpp"

namespace wsm {

const char* to_string(state x) noexcept {
  switch (x) {
    case state::connecting:
      return "CONNECTING";
    case state::connected:
      return "CONNECTED";
    case state::disconnected:
      return "DISCONNECTED";
    case state::waiting:
      return "WAITING";
  }
  return "UNKNOWN";
}

} // namespace wsm
