#include "wsm/version.hpp"

namespace wsm {

const char* library_version() noexcept {
  return version;
}

} // namespace wsm
