#pragma once

// Metrics and a live status page over HTTP, for the machines of one actor
// system. Set `wsm.metrics-address` (in the actor system's configuration:
// `--wsm.metrics-address=HOST:PORT` on a CAF command line, `metrics-address`
// in group `[wsm]` of an INI file, `--metrics-address` for every wsm app)
// and the system serves, on that address:
//
//   /              a status page: every machine, its state as it changes
//                  (server-sent events), the last changes as a timeline
//   /metrics       Prometheus' text format: machines by state, connects,
//                  disconnects by cause, messages and bytes, undelivered by
//                  reason, queue depth, read pauses, ping round trips
//   /machines.json the page's table as JSON
//   /events        the page's event stream (text/event-stream)
//
// `wsm.metrics-per-machine=true` adds series per machine (labelled by id
// and host; never a URL, which can carry credentials).

#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

namespace wsm {

/// Checks a `metrics-address` value: `HOST:PORT`, `[IPv6]:PORT`, or a port
/// alone (`9464`, `:9464`), which listens on 127.0.0.1. Port 0 picks a free
/// one. The error names what is wrong.
caf::error check_metrics_address(const std::string& text);

/// Where the metrics of `sys` are served, as `HOST:PORT` with the port the
/// system listens on (the chosen one when 0 was given); empty when metrics
/// are off; an error naming the address and the reason when the system
/// could not listen there (the port is taken, the address is not this
/// machine's). Metrics stay off then, and the machines run as ever.
caf::expected<std::string> metrics_endpoint(const caf::actor_system& sys);

} // namespace wsm
