// `proofmesh export ID --format reference [--out DIR]`: a finished job in the reference's file
// formats, for the tools people already have around main.py. Rules of the road:
// - DIR/proof_pool/<job id>/<problem_idx>.jsonl: each problem's pool, one proof per line in
//   proof_id order, in main.py's pool schema (<proof_pool_dirname>/<source_name>/...);
// - DIR/outputs.jsonl: one line per problem, in the job's order, shaped like
//   ../shared/dsm2/outputs/*.jsonl: {question, problem_idx, model_prediction: {proof,
//   average_automatic_rating}} with the final selection's proof and mean score (a problem with
//   no proof gets "" and 0.0, so a grader still sees every problem);
// - through the gateway (pages of 64 proofs) or straight from Redis with --queue; the job must
//   be finished (completed or cancelled).
#include "actors/common/error.hpp"
#include "services/cli/command.hpp"
#include "services/cli/job_flags.hpp"
#include "actors/transport/redis_keys.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::cli {

namespace {

using nlohmann::json;
namespace pt = proofmesh::transport;

// Where a job's pieces come from: the gateway or Redis, the same answers.
struct job_reader {
  std::function<json()> spec;
  std::function<json()> result;
  /// Up to a page of pooled proofs with proof_id > after, in id order; empty at the end.
  std::function<json(const std::string& problem, int64_t after)> pool_page;
};

json parsed(const std::string& text, const std::string& what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error(what + " is not JSON");
  return j;
}

job_reader via_gateway(const gateway_target& to, const std::string& id) {
  const std::string base = "/v1/jobs/" + id;
  return {
      .spec = [=] { return parsed(gateway_call(to, "GET", base + "/spec").body, "the spec"); },
      .result = [=] { return parsed(gateway_call(to, "GET", base + "/result").body, "the result"); },
      .pool_page =
          [=](const std::string& problem, int64_t after) {
            return parsed(gateway_call(to, "GET", base + "/pool/" + problem + "?after=" +
                                                      std::to_string(after) + "&limit=64")
                              .body,
                          "a pool page")["proofs"];
          },
  };
}

job_reader via_redis(std::shared_ptr<pt::redis_client> redis, const std::string& id) {
  auto get = [=](std::vector<std::string> args, const std::string& what) {
    pt::redis_reply r = redis->command(args);
    if (r.is_nil()) throw input_error("job " + id + " has no " + what + " (not finished?)");
    return parsed(r.str, what);
  };
  return {
      .spec = [=] { return get({"HGET", keys::job(id), "spec"}, "spec"); },
      .result = [=] { return get({"GET", keys::job_result(id)}, "result"); },
      .pool_page =
          [=](const std::string& problem, int64_t after) {
            std::vector<std::string> args = {"HMGET", keys::job_pool(id, problem)};
            for (int64_t i = after + 1; i <= after + 64; ++i) args.push_back(std::to_string(i));
            json out = json::array();
            for (const pt::redis_reply& r : redis->command(args).elements) {
              if (!r.is_nil()) out.push_back(parsed(r.str, "a pool record"));
            }
            return out;
          },
  };
}

} // namespace

command_fn add_export_command(CLI::App& app) {
  auto f = std::make_shared<job_flags>();
  auto format = std::make_shared<std::string>("reference");
  auto out_dir = std::make_shared<std::string>("export");
  add_transport_flags(app, *f);
  app.add_option("id", f->id, "job id")->required();
  app.add_option("--format", *format, "reference (the only one)");
  app.add_option("--out", *out_dir, "directory to write (default ./export)");
  return [f, format, out_dir] {
    const std::string id = with_job_id(f->id);
    if (*format != "reference") throw input_error("--format must be reference");
    job_reader read = f->via_queue()
                          ? via_redis(std::make_shared<pt::redis_client>(parse_queue_url(f->queue)),
                                      id)
                          : via_gateway(f->target(), id);
    const json result = read.result(); // first: an unfinished job stops here, writing nothing
    const json spec = read.spec();
    std::map<std::string, json> selection;
    for (const json& p : result.value("problems", json::array())) {
      selection[p.value("problem_id", "")] = p;
    }
    const std::filesystem::path root(*out_dir);
    std::filesystem::create_directories(root / "proof_pool" / id);
    std::ofstream outputs(root / "outputs.jsonl");
    int64_t proofs = 0;
    const json problems = spec.value("problems", json::array());
    for (size_t i = 0; i < problems.size(); ++i) {
      std::string problem_idx = "p";
      problem_idx += std::to_string(i);
      problem_idx = problems[i].value("problem_idx", problem_idx);
      std::ofstream pool(root / "proof_pool" / id / (problem_idx + ".jsonl"));
      for (int64_t after = 0;;) {
        const json page = read.pool_page(problem_idx, after);
        if (page.empty()) break;
        for (const json& record : page) {
          pool << record.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
          after = std::max<int64_t>(after, record.value("proof_id", after));
          ++proofs;
        }
      }
      const json& chosen = selection[problem_idx];
      const bool has = chosen.contains("best") && chosen["best"].is_object();
      nlohmann::ordered_json line;
      line["question"] = problems[i].value("question", "");
      line["problem_idx"] = problem_idx;
      line["model_prediction"]["proof"] = has ? chosen["best"].value("proof", "") : "";
      line["model_prediction"]["average_automatic_rating"] =
          has ? chosen["best"].value("meanscore", 0.0) : 0.0;
      outputs << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
    if (!outputs) throw std::runtime_error("could not write " + (root / "outputs.jsonl").string());
    std::cerr << "exported " << proofs << " pooled proofs of " << problems.size()
              << " problems to " << root.string() << "\n";
    return 0;
  };
}

} // namespace proofmesh::cli
