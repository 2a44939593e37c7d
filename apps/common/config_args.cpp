#include "config_args.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>

#include <caf/config_value.hpp>

#include "wsm/error.hpp"
#include "wsm/settings.hpp"
#include "wsm/json.hpp"
#include "wsm/version.hpp"

namespace wsm_apps {

namespace {

/// Writes a value the way a person would type it on a command line.
std::string as_argument(const caf::config_value& x) {
  if (auto text = caf::get_if<std::string>(&x))
    return *text;
  return caf::to_string(x);
}

/// Returns the value of `--config=FILE` or `--config FILE`, or "".
std::string find_config_option(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--config=", 9) == 0)
      return argv[i] + 9;
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc)
      return argv[i + 1];
  }
  return {};
}

} // namespace

caf::expected<std::vector<std::string>>
config_file_args(const std::string& path, const std::string& group) {
  auto content = wsm::read_ini_file(path);
  if (!content)
    return content.error();
  std::vector<std::string> result;
  auto i = content->find(group);
  if (i == content->end())
    return result;
  auto entries = caf::get_if<caf::settings>(&i->second);
  if (entries == nullptr)
    return wsm::make_error(wsm::errc::invalid_option,
                           path + ": " + group + " must be a group");
  for (auto& [key, value] : *entries) {
    if (auto list = caf::get_if<caf::config_value::list>(&value)) {
      for (auto& item : *list)
        result.push_back("--" + key + "=" + as_argument(item));
    } else if (auto text = caf::get_if<std::string>(&value);
               text != nullptr && text->empty()) {
      // `--key=` is a missing value to CLI11; `--key ""` is an empty one.
      result.push_back("--" + key);
      result.emplace_back();
    } else {
      result.push_back("--" + key + "=" + as_argument(value));
    }
  }
  return result;
}

int parse_command_line(CLI::App& app, int argc, char** argv,
                       const std::string& group) {
  // An app whose --json makes its stderr JSON lines says its usage
  // errors that way too, when asked for them.
  auto json = app.get_option_no_throw("--json") != nullptr
              && std::any_of(argv + 1, argv + argc, [](const char* x) {
                   return std::string{x} == "--json";
                 });
  auto fail = [&](const std::string& problem) {
    if (json)
      std::cerr << wsm::json_object{}
                     .text("event", "error")
                     .text("message", app.get_name() + ": " + problem)
                     .str()
                << '\n';
    else
      std::cerr << app.get_name() << ": " << problem << '\n';
    return exit_usage;
  };
  // Every app says which libwsm it runs on.
  app.set_version_flag("--version", app.get_name() + " "
                                      + wsm::library_version());
  std::vector<std::string> args;
  if (auto path = find_config_option(argc, argv); !path.empty()) {
    auto from_file = config_file_args(path, group);
    if (!from_file)
      return fail(wsm::describe(from_file.error()));
    for (auto& arg : *from_file) {
      if (arg.rfind("--", 0) != 0)
        continue; // the empty value after its option
      auto name = arg.substr(0, arg.find('='));
      if (app.get_option_no_throw(name) == nullptr)
        return fail(path + ": unknown key " + group + "." + name.substr(2));
    }
    args = std::move(*from_file);
  }
  args.insert(args.end(), argv + 1, argv + argc);
  std::reverse(args.begin(), args.end()); // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::Success& e) { // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(e.what());
  }
  return -1;
}

} // namespace wsm_apps
