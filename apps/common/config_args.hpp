#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/expected.hpp>

namespace wsm_apps {

/// Exit status for a bad command line or config file.
constexpr int exit_usage = 2;

/// Reads group `group` of a CAF INI file as command-line arguments
/// (`key=value` becomes `--key=value`; a list gives one argument per item),
/// so that an app declares each option once, for its command line, and a
/// config file can set any of them. Errors name the file and the line.
caf::expected<std::vector<std::string>>
config_file_args(const std::string& path, const std::string& group);

/// Parses the command line with `app`, after the arguments that group
/// `group` of the file given by `--config` holds, so the command line wins
/// (options should take their last value). Adds `--version` (the app's
/// name and `wsm::library_version()`). Returns -1 when the program should
/// go on, else its exit status: 0 after `--help` or `--version`,
/// `exit_usage` after a problem, which is printed as one line on stderr.
int parse_command_line(CLI::App& app, int argc, char** argv,
                       const std::string& group);

} // namespace wsm_apps
