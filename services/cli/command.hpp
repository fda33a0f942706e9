// The CLI's subcommands. Each registers its flags on a CLI11 subcommand and returns the function
// that runs it; main() parses once and runs the one the user picked. Rules of the road: bad flags,
// files or values throw input_error (or CLI11's ParseError) and main turns them into a one-line
// message and exit code 2. Other tools call these commands, so their flags and output are stable.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace proofmesh::cli {

using command_fn = std::function<int()>;

command_fn add_model_command(CLI::App& app);
command_fn add_generate_command(CLI::App& app);
command_fn add_tokenize_command(CLI::App& app);
command_fn add_submit_command(CLI::App& app);
command_fn add_status_command(CLI::App& app);
command_fn add_result_command(CLI::App& app);
command_fn add_up_command(CLI::App& app);
command_fn add_parse_command(CLI::App& app);
command_fn add_export_command(CLI::App& app);

/// Reads all of stdin, refusing more than `limit` bytes.
std::string read_stdin(size_t limit);

} // namespace proofmesh::cli
