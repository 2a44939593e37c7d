// The session's member functions, one file per operation in impl/, compiled
// here once for each stream: `ws://` and `wss://`. The broker sees only
// the class (session.hpp).

#include "session/session.hpp"

#include "session/impl/calls.hpp"
#include "session/impl/connecting.hpp"
#include "session/impl/open_link.hpp"
#include "session/impl/reading.hpp"

namespace wsm::detail {

template class session<plain_stream>;
template class session<tls_stream>;

} // namespace wsm::detail
