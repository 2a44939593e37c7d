#include "wsm/config.hpp"

#include <caf/config_option_adder.hpp>

#include "runtime.hpp"
#include "wsm/error.hpp"
#include "wsm/machine.hpp"
#include "wsm/messages.hpp"
#include "wsm/transport.hpp"

namespace wsm {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<output>("wsm::output");
  cfg.add_message_type<input>("wsm::input");
  cfg.add_message_type<command>("wsm::command");
  cfg.add_message_type<status>("wsm::status");
  cfg.add_message_type<undelivered>("wsm::undelivered");
  cfg.add_message_type<header>("wsm::header");
  cfg.add_message_type<connect_request>("wsm::connect_request");
  cfg.add_message_type<disconnect_info>("wsm::disconnect_info");
  cfg.add_message_type<link_info>("wsm::link_info");
  cfg.add_message_type<tls_options>("wsm::tls_options");
  cfg.add_message_type<deflate_options>("wsm::deflate_options");
  cfg.add_message_type<stats>("wsm::stats");
}

void init(caf::actor_system_config& cfg) {
  add_message_types(cfg);
  cfg.load<detail::runtime_module>();
}

config::config() {
  wsm::init(*this);
  add_error_category(caf::atom("wsm"),
                     [](uint8_t code, caf::atom_value,
                        const caf::message& context) {
                       return "wsm: " + describe(caf::error{
                                code, caf::atom("wsm"), context});
                     });
  opt_group{custom_options_, "wsm"}.add<size_t>(
    "io-threads", "threads that run the shared Asio context (default 1)");
}

} // namespace wsm
