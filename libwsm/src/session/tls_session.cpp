// The session's member functions compiled for `wss://`, in a translation
// unit of its own so that it builds beside plain_session.cpp: together they
// were the longest file of the build.

#include "session/session.hpp"

#include "session/impl/calls.hpp"
#include "session/impl/connecting.hpp"
#include "session/impl/open_link.hpp"
#include "session/impl/reading.hpp"

namespace wsm::detail {

template class session<tls_stream>;

} // namespace wsm::detail
