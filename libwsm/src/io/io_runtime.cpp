#include "io/io_runtime.hpp"

#include "io/io_runtime_handle.hpp"

namespace wsm::detail {

std::shared_ptr<io_runtime> start_io_runtime(size_t threads) {
  return std::make_shared<io_runtime>(threads);
}

void stop_io_runtime(io_runtime& io) {
  io.stop();
}

} // namespace wsm::detail
