// The session's member functions, one file per operation in impl/, compiled
// here for `ws://`; tls_session.cpp compiles them for `wss://` beside it.
// The broker sees only the class (session.hpp).

#include "session/session.hpp"

#include "session/impl/calls.hpp"
#include "session/impl/connecting.hpp"
#include "session/impl/open_link.hpp"
#include "session/impl/reading.hpp"

namespace wsm::detail {

template class session<plain_stream>;

} // namespace wsm::detail
