#include "machine/machine_setup.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_serializer.hpp>

namespace wsm::detail {

namespace {

/// Setups by their serialized bytes, held weakly: a setup goes with the
/// last machine that uses it, its entry at the next sweep.
struct setup_cache {
  std::mutex mutex;
  std::map<std::vector<char>, std::weak_ptr<const machine_setup>> setups;
  /// Size at which expired entries are next swept.
  size_t sweep_at = 64;

  void sweep() {
    for (auto i = setups.begin(); i != setups.end();)
      i = i->second.expired() ? setups.erase(i) : std::next(i);
    sweep_at = std::max<size_t>(64, setups.size() * 2);
  }
};

setup_cache cache;

} // namespace

std::shared_ptr<const machine_setup>
share_setup(caf::actor_system& sys, connect_request request, options opts) {
  if (opts.gate || opts.request_provider)
    return std::make_shared<const machine_setup>(
      machine_setup{std::move(request), std::move(opts)});
  // Every field, header values included, so that only equal setups meet.
  std::vector<char> key;
  caf::binary_serializer sink{sys, key};
  if (sink(request, opts))
    return std::make_shared<const machine_setup>(
      machine_setup{std::move(request), std::move(opts)});
  std::lock_guard<std::mutex> guard{cache.mutex};
  auto& entry = cache.setups[std::move(key)];
  // One held already: no setup is built, not even for a moment.
  if (auto shared = entry.lock())
    return shared;
  auto setup = std::make_shared<const machine_setup>(
    machine_setup{std::move(request), std::move(opts)});
  entry = setup;
  if (cache.setups.size() >= cache.sweep_at)
    cache.sweep();
  return setup;
}

} // namespace wsm::detail
