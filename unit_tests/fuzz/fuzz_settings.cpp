// libFuzzer target: a config file, as `[wsm]` groups are read by every app.
// Nothing may crash; a refused file's error names the file; an accepted
// one gives options a machine can be spawned with.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

#include "wsm/error.hpp"
#include "wsm/settings.hpp"

namespace {

void require(bool condition) {
  if (!condition)
    std::abort();
}

/// One file per process, rewritten for each input.
const std::string& scratch_file() {
  static const std::string path = "/tmp/wsm-fuzz-settings-"
                                  + std::to_string(getpid()) + ".ini";
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& path = scratch_file();
  {
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out.write(reinterpret_cast<const char*>(data),
              static_cast<std::streamsize>(size));
  }
  auto content = wsm::read_ini_file(path);
  if (!content) {
    require(wsm::describe(content.error()).find(path) != std::string::npos);
    return 0;
  }
  wsm::settings result;
  if (auto err = wsm::apply_settings(*content, result)) {
    require(!wsm::describe(err).empty());
    return 0;
  }
  // Accepted values are within the bounds the machine relies on.
  require(result.machine.max_queue > 0);
  require(result.machine.retry_delay.count() >= 0);
  require(result.machine.backoff_jitter >= 0 && result.machine.backoff_jitter <= 1);
  require(result.io_threads > 0);
  return 0;
}
