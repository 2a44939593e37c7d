#include "vocabulary/wording.hpp"

#include <chrono>

namespace wsm::detail {

std::string quoted(const std::string& x) {
  return "'" + x + "'";
}

std::string in_milliseconds(caf::timespan x) {
  return std::to_string(
           std::chrono::duration_cast<std::chrono::milliseconds>(x).count())
         + "ms";
}

} // namespace wsm::detail
