// `proofmesh parse generation|verification|meta-verification [--json]`: one raw model output on
// stdin, parsed exactly as the mesh parses it (actors/roles/output_parser, the reference's rules
// quirks included), so users can see why an output of their model or prompts does not count.
// Rules of the road: a parsed output exits 0; one the reference would drop exits 1 and says why;
// bad flags or stdin past the limit exit 2. With --json the answer is one line:
//   {"ok": true, "solution", "self_eval", "self_eval_score"}   (generation)
//   {"ok": true, "score", "rating"}                            (verification, meta-verification)
//   {"ok": false, "error": "..."}
#include "actors/common/error.hpp"
#include "actors/roles/output_parser.hpp"
#include "services/cli/command.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace proofmesh::cli {

namespace {

struct parse_flags {
  std::string kind;
  bool json = false;
};

// Why the reference would drop the output: what the parser looked for and did not find.
std::string why_generation_fails(std::string_view output) {
  const size_t think = output.rfind("</think>");
  const std::string_view answer = think == std::string_view::npos ? output : output.substr(think);
  if (answer.find("Self Evaluation") == std::string_view::npos) {
    return "no \"## Self Evaluation\" section after the last </think>";
  }
  return "no \"## Solution\" section before the self-evaluation";
}

std::string why_verification_fails(std::string_view output) {
  if (output.rfind("</think>") == std::string_view::npos) {
    return "no </think>: the reference expects a reasoning model's output";
  }
  return "no \\boxed{...} score that reads as a number after the last </think>";
}

} // namespace

command_fn add_parse_command(CLI::App& app) {
  auto f = std::make_shared<parse_flags>();
  app.add_option("kind", f->kind, "generation, verification or meta-verification")->required();
  app.add_flag("--json", f->json, "one JSON line instead of text");
  return [f] {
    if (f->kind != "generation" && f->kind != "verification" && f->kind != "meta-verification") {
      throw input_error("kind must be generation, verification or meta-verification, got \"" +
                        f->kind + "\"");
    }
    const std::string output = read_stdin(size_t{16} << 20);
    nlohmann::json answer;
    if (f->kind == "generation") {
      if (auto g = roles::parse_generation(output)) {
        answer = {{"ok", true}, {"solution", g->solution}, {"self_eval", g->self_eval},
                  {"self_eval_score", g->self_eval_score}};
      } else {
        answer = {{"ok", false}, {"error", why_generation_fails(output)}};
      }
    } else if (auto v = roles::parse_verification(output)) { // meta-verification: same rules
      answer = {{"score", v->score}, {"rating", v->rating}};
      answer["ok"] = true;
    } else {
      answer = {{"ok", false}, {"error", why_verification_fails(output)}};
    }
    const auto dump = [](const nlohmann::json& j) {
      return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    if (f->json) {
      std::cout << dump(answer) << "\n";
    } else if (!answer["ok"].get<bool>()) {
      std::cout << "not parsed: " << answer["error"].get<std::string>() << "\n";
    } else if (f->kind == "generation") {
      std::cout << "self_eval_score: " << dump(answer["self_eval_score"]) << "\n== solution\n"
                << answer["solution"].get<std::string>() << "\n== self_eval\n"
                << answer["self_eval"].get<std::string>() << "\n";
    } else {
      std::cout << "score: " << dump(answer["score"]) << "\n== rating\n"
                << answer["rating"].get<std::string>() << "\n";
    }
    return answer["ok"].get<bool>() ? 0 : 1;
  };
}

} // namespace proofmesh::cli
