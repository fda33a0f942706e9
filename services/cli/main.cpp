// proofmesh: the command-line entry point (model init, generate, tokenize).
#include "actors/common/error.hpp"
#include "actors/transport/redis_client.hpp"
#include "services/cli/command.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

namespace proofmesh::cli {

std::string read_stdin(size_t limit) {
  std::string data;
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    data.append(buf, got);
    if (data.size() > limit) {
      throw input_error("stdin is larger than " + std::to_string(limit >> 20) + " MiB");
    }
  }
  return data;
}

} // namespace proofmesh::cli

int main(int argc, char** argv) {
  using namespace proofmesh;
  CLI::App app{"proofmesh: self-verifiable mathematical reasoning, served"};
  app.set_version_flag("--version", "proofmesh 0.1.0");
  app.require_subcommand(1);
  std::map<CLI::App*, cli::command_fn> commands;
  auto* model = app.add_subcommand("model", "manage models");
  model->require_subcommand(1);
  commands[model] = cli::add_model_command(*model);
  auto* generate = app.add_subcommand("generate", "generate text from a model");
  commands[generate] = cli::add_generate_command(*generate);
  auto* tokenize = app.add_subcommand("tokenize", "tokenize stdin with a tokenizer.json");
  commands[tokenize] = cli::add_tokenize_command(*tokenize);
  auto* submit = app.add_subcommand("submit", "submit a proof job (through the gateway, or --queue)");
  commands[submit] = cli::add_submit_command(*submit);
  auto* status = app.add_subcommand("status", "a job's status");
  commands[status] = cli::add_status_command(*status);
  auto* result = app.add_subcommand("result", "a job's result JSON");
  commands[result] = cli::add_result_command(*result);
  auto* up = app.add_subcommand(
      "up", "run the whole mesh on this machine (Redis, gateway, coordinator, workers)");
  commands[up] = cli::add_up_command(*up);
  auto* parse = app.add_subcommand("parse", "parse one model output on stdin as the mesh does");
  commands[parse] = cli::add_parse_command(*parse);
  auto* exported = app.add_subcommand(
      "export", "write a job's proof pools and final proofs in the reference's file formats");
  commands[exported] = cli::add_export_command(*exported);
  try {
    // CLI11 reports a mistyped command as "a subcommand is required"; name it instead.
    auto known = app.get_subcommands([](CLI::App*) { return true; });
    bool is_known = argc > 1 && std::any_of(known.begin(), known.end(), [&](CLI::App* sub) {
      return sub->get_name() == argv[1];
    });
    if (argc > 1 && argv[1][0] != '-' && !is_known) {
      throw input_error(std::string("unknown command \"") + argv[1] +
                        "\" (model, generate, tokenize, submit, status, result, up, parse, export)");
    }
    app.parse(argc, argv);
    for (auto& [sub, run] : commands) {
      if (sub->parsed()) {
        return run();
      }
    }
    return 2;
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::cerr << "proofmesh: error: " << what.substr(0, what.find('\n')) << "\n";
    return 2;
  } catch (const input_error& e) {
    std::cerr << "proofmesh: error: " << e.what() << "\n";
    return 2;
  } catch (const transport::redis_unavailable& e) {
    std::cerr << "proofmesh: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "proofmesh: internal error: " << e.what() << "\n";
    return 1;
  }
}
