#pragma once

/// Everything a user of libwsm needs.
#include "wsm/atoms.hpp"
#include "wsm/base64.hpp"
#include "wsm/config.hpp"
#include "wsm/error.hpp"
#include "wsm/governor.hpp"
#include "wsm/machine.hpp"
#include "wsm/messages.hpp"
#include "wsm/metrics.hpp"
#include "wsm/node_tls.hpp"
#include "wsm/options.hpp"
#include "wsm/pool.hpp"
#include "wsm/settings.hpp"
#include "wsm/spawner.hpp"
#include "wsm/state.hpp"
#include "wsm/json.hpp"
#include "wsm/status_json.hpp"
