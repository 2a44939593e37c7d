#include "wsm/options.hpp"

namespace wsm {

const char* to_string(overflow_policy x) noexcept {
  switch (x) {
    case overflow_policy::reject:
      return "reject";
    case overflow_policy::drop_oldest:
      return "drop-oldest";
    case overflow_policy::drop_newest:
      return "drop-newest";
  }
  return "unknown";
}

} // namespace wsm
