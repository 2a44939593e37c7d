// Built as C++23 where the compiler offers it (libwsm/CMakeLists.txt): the
// one function that needs `resize_and_overwrite`, in a file that includes
// nothing else, so the rest of the library stays C++17.

#include "session/uninitialized_resize.hpp"

namespace wsm::detail {

void resize_uninitialized(std::string& text, size_t size) {
#if defined(__cpp_lib_string_resize_and_overwrite)
  text.resize_and_overwrite(size, [](char*, size_t n) noexcept { return n; });
#else
  text.resize(size);
#endif
}

} // namespace wsm::detail
