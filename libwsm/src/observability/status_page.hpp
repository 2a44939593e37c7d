#pragma once

namespace wsm::detail {

/// The live status page served at `/`: plain HTML, CSS and a little
/// JavaScript, nothing fetched from elsewhere. It loads `/machines.json`
/// (every machine, the timeline), then follows `/events` (a server-sent
/// event per change of state) and refreshes the counters every two seconds.
const char* status_page_html() noexcept;

} // namespace wsm::detail
