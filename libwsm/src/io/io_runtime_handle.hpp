#pragma once

// The I/O runtime as the rest of the library holds it: opaque, so that no
// Asio header leaks out of the few files that run it (io_runtime.hpp).

#include <cstddef>
#include <memory>

namespace wsm::detail {

/// The Asio contexts that run the connections of an actor system, one per
/// I/O thread, and their threads.
class io_runtime;

/// Starts an I/O runtime on `threads` threads.
std::shared_ptr<io_runtime> start_io_runtime(size_t threads);

/// Stops the contexts and joins their threads; what is still on them is
/// abandoned. Idempotent.
void stop_io_runtime(io_runtime& io);

} // namespace wsm::detail
