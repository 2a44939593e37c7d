// A market-data feed client of the kind the seed's examples use: it is the
// machine's session gate, so on every connect it subscribes (a fresh
// connection knows nothing of the last one's subscriptions) before
// anything queued goes out, and it prints each trade as it comes.
//
//   machine ──(gate_atom, epoch)──▶ client    after every CONNECTED
//   client ──output subscribe──▶ machine      first on the new link
//   client ──(nothing: ready)──▶ machine      then the queue goes
//
// The feed speaks the Coinbase Exchange style: the client sends
//   {"type":"subscribe","product_ids":["BTC-USD"],"channels":["matches"]}
// and receives messages like
//   {"type":"match","product_id":"BTC-USD","side":"buy","size":"0.01","price":"43000.10",...}
//
// Usage: wsm-example-feed URL [--product=BTC-USD] [--trades=N]
// (--trades=N quits after N trades; 0, the default, runs until killed)

#include <iostream>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <CLI/CLI.hpp>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "wsm/wsm.hpp"

namespace json = boost::json;

namespace {

struct feed_state {
  std::string product;
  size_t wanted = 0;
  size_t trades = 0;
  bool quitting = false;
  static inline const char* name = "feed-client";
};

using feed_actor = caf::stateful_actor<feed_state>;

std::string subscribe_message(const std::string& product) {
  json::object message{{"type", "subscribe"},
                       {"product_ids", json::array{json::string{product}}},
                       {"channels", json::array{"matches"}}};
  return json::serialize(message);
}

/// Returns the string field `key` of `x`, or "?" if there is none.
std::string field(const json::object& x, const char* key) {
  auto i = x.find(key);
  if (i == x.end() || !i->value().is_string())
    return "?";
  return std::string{i->value().get_string()};
}

caf::behavior feed_client(feed_actor* self, std::string product,
                          size_t wanted) {
  self->state.product = std::move(product);
  self->state.wanted = wanted;
  self->set_down_handler([=](const caf::down_msg&) {
    std::cout << "DONE after " << self->state.trades << " trades"
                    << std::endl;
    self->quit();
  });
  return {
    [=](const wsm::status& x) {
      auto& st = self->state;
      if (st.quitting)
        return; // how the link ends after we asked to quit is of no interest
      std::cout << "STATE " << wsm::to_string(x.state)
                      << (x.error.empty() ? "" : ": " + x.error) << std::endl;
      if (x.state == wsm::state::connecting && x.epoch == 0)
        self->monitor(self->current_sender()); // watch the machine end
    },
    [=](wsm::gate_atom, uint64_t) {
      // Asked by the machine on every connect: the subscribe goes out
      // first, ahead of anything queued, and takes no room in the queue;
      // returning says the session is ready.
      auto machine = caf::actor_cast<wsm::machine_actor>(self->current_sender());
      self->send(machine, wsm::output{subscribe_message(self->state.product),
                                      wsm::frame_format::text});
    },
    [=](const wsm::input& x) {
      auto& st = self->state;
      if (st.quitting)
        return; // what still arrives while the link closes is not wanted
      json::error_code ec;
      auto parsed = json::parse(x.payload, ec);
      if (ec || !parsed.is_object()) {
        std::cout << "not JSON: " << x.payload << std::endl;
        return;
      }
      auto& message = parsed.get_object();
      auto type = field(message, "type");
      if (type == "subscriptions") {
        std::cout << "SUBSCRIBED " << st.product << std::endl;
      } else if (type == "match" || type == "last_match") {
        std::cout << "TRADE " << field(message, "product_id") << " "
                        << field(message, "side") << " "
                        << field(message, "size") << " @ "
                        << field(message, "price") << std::endl;
        if (++st.trades == st.wanted && !st.quitting) {
          st.quitting = true;
          self->send(caf::actor_cast<wsm::machine_actor>(
                       self->current_sender()),
                     wsm::command::quit);
        }
      }
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  std::string url;
  std::string product = "BTC-USD";
  size_t trades = 0;
  CLI::App app{"Prints the trades of a market-data feed, resubscribing on "
               "every connection.",
               "wsm-example-feed"};
  app.add_option("URL", url, "the feed's ws:// URL")->required();
  app.add_option("--product", product, "the product to follow")
    ->capture_default_str();
  app.add_option("--trades", trades, "quit after this many trades (0: never)")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  wsm::config cfg;
  caf::actor_system sys{cfg};
  auto client = sys.spawn(feed_client, product, trades);
  wsm::options opts;
  opts.retry_delay = std::chrono::milliseconds(200);
  // The client subscribes on every connect as the machine's gate: the
  // machine holds it (a strong reference) as long as it lives.
  opts.gate = client;
  auto machine = wsm::spawn_machine(sys, url, opts, client);
  if (!machine) {
    std::cerr << "wsm-example-feed: " << wsm::describe(machine.error()) << '\n';
    caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
    return 2;
  }
  // Holding the handle keeps the client alive until it ends by itself: an
  // actor that nobody references may vanish before its last message.
  caf::scoped_actor{sys}->wait_for(client);
  return 0;
}
