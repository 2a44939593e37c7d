#pragma once

// Growing a message's string without zero-filling the room: the kernel's
// copy of the bytes is then the first and only write to it.

#include <cstddef>
#include <string>

namespace wsm::detail {

/// Sets `text`'s size to `size`; new bytes are left uninitialized (the
/// caller overwrites them, or shrinks the string to what it wrote) where
/// the standard library can (C++23's `resize_and_overwrite`), else zeroed.
void resize_uninitialized(std::string& text, size_t size);

} // namespace wsm::detail
