// `proofmesh submit`, `status` and `result`. Rules of the road:
// - Through the REST gateway by default (--gateway, PROOFMESH_GATEWAY; --api-key,
//   PROOFMESH_API_KEY): what people and services use, with tenants and limits.
// - Straight to Redis with --queue redis://[:PASSWORD@]HOST[:PORT] (PROOFMESH_REDIS_PASSWORD also
//   sets the password): the path for batch producers (data pipelines, cron jobs) that skip HTTP.
//   The job gets its id here, and is checked exactly as the coordinator will check it.
// - submit reads FILE as a job object, the reference's inputs format, or JSONL of problems
//   (actors/pipeline/job_request.hpp), applies the flags, prints the job id, and with --watch
//   follows the job's events with a progress bar until it ends ("job <id> completed").
#include "actors/common/error.hpp"
#include "actors/common/random_hex.hpp"
#include "actors/common/text_file.hpp"
#include "actors/pipeline/job_request.hpp"
#include "actors/pipeline/job_spec.hpp"
#include "actors/transport/job_queue.hpp"
#include "services/cli/command.hpp"
#include "services/cli/gateway_client.hpp"
#include "services/cli/job_flags.hpp"
#include "services/cli/task_progress.hpp"
#include "actors/transport/redis_keys.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace keys = proofmesh::transport::redis_keys;

namespace proofmesh::cli {

namespace {

using nlohmann::json;
namespace pt = proofmesh::transport;

// The Redis path's --watch: the job's events stream, read directly.
std::string watch_queue(pt::redis_client& redis, const std::string& id, task_progress& bar) {
  std::string last = "0";
  for (;;) {
    pt::redis_reply r = redis.command({"XREAD", "COUNT", "100", "BLOCK", "1000", "STREAMS",
                                       keys::job_events(id), last});
    for (const pt::redis_reply& stream : r.elements) {
      for (const pt::redis_reply& entry : stream.elements.at(1).elements) {
        last = entry.elements.at(0).str;
        const std::string& data = entry.elements.at(1).elements.at(1).str;
        const std::string type =
            json::parse(data, nullptr, false).value("type", std::string());
        bar.on_event(type, data);
        if (type == "completed" || type == "cancelled") return type;
      }
    }
  }
}

} // namespace

command_fn add_submit_command(CLI::App& app) {
  auto f = std::make_shared<job_flags>();
  add_transport_flags(app, *f);
  app.add_option("file", f->file, "job JSON, reference inputs JSON, or JSONL of problems")
      ->required();
  app.add_option("--strategy", f->strategy,
                 "reference (default), release, paper-heavy, self-refine or quick");
  app.add_option("--param", f->params,
                 "KEY=VALUE: any search parameter (README), e.g. --param max_rounds=3");
  app.add_option("--num-proofs", f->num_proofs, "proofs per problem");
  app.add_option("--verifications", f->verifications, "verifications per proof");
  app.add_option("--max-tokens", f->max_tokens, "tokens per completion");
  app.add_flag("--watch", f->watch, "follow the job's progress until it ends");
  app.add_option("--idempotency-key", f->idempotency_key,
                 "a repeat with the same key names the same job (and so the same seeds)");
  return [f] {
    json job = pipeline::job_from_text(read_text_file(f->file, size_t{64} << 20));
    if (!job.contains("params")) job["params"] = json::object();
    if (!f->strategy.empty()) job["strategy"] = f->strategy;
    if (f->num_proofs > 0) job["params"]["num_proofs"] = f->num_proofs;
    if (f->verifications >= 0) job["params"]["verifications_per_proof"] = f->verifications;
    if (f->max_tokens > 0) job["params"]["max_tokens"] = f->max_tokens;
    for (const std::string& kv : f->params) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw input_error("--param wants KEY=VALUE: " + kv);
      json value = json::parse(kv.substr(eq + 1), nullptr, false);
      if (value.is_discarded()) value = kv.substr(eq + 1);
      job["params"][kv.substr(0, eq)] = value;
    }
    task_progress bar(stderr);
    if (f->via_queue()) {
      if (!job.contains("id")) job["id"] = "job-" + random_hex(32); // as the gateway names them
      const std::string body = job.dump();
      pipeline::parse_job_spec(body); // the coordinator's own check, before it reaches the queue
      pt::redis_client redis(parse_queue_url(f->queue));
      pt::job_queue queue(redis, {.consumer = "submit"});
      queue.add(body);
      const std::string id = job["id"];
      std::cout << id << std::endl;
      if (f->watch) {
        bar.finish(watch_queue(redis, id, bar), id);
        pt::redis_reply r = redis.command({"GET", keys::job_result(id)});
        if (!r.is_nil()) bar.print_selection(json::parse(r.str, nullptr, false));
      }
      return 0;
    }
    const gateway_target to = f->target();
    std::vector<std::pair<std::string, std::string>> headers;
    if (!f->idempotency_key.empty()) headers.emplace_back("Idempotency-Key", f->idempotency_key);
    gateway_reply r = gateway_call(to, "POST", "/v1/jobs", job.dump(), headers);
    const std::string id = json::parse(r.body).at("id");
    std::cout << id << std::endl;
    if (f->watch) {
      const std::string outcome = follow_events(
          to, "/v1/jobs/" + id + "/events",
          [&](const std::string& type, const std::string& data) { bar.on_event(type, data); });
      bar.finish(outcome, id);
      bar.print_selection(
          json::parse(gateway_call(to, "GET", "/v1/jobs/" + id + "/result").body, nullptr, false));
    }
    return 0;
  };
}

command_fn add_status_command(CLI::App& app) {
  auto f = std::make_shared<job_flags>();
  add_transport_flags(app, *f);
  app.add_option("id", f->id, "job id")->required();
  return [f] {
    const std::string id = with_job_id(f->id);
    if (!f->via_queue()) { // {id, status, created_at_ms, problems, tasks_done, ...}
      std::cout << gateway_call(f->target(), "GET", "/v1/jobs/" + id).body << "\n";
      return 0;
    }
    pt::redis_client redis(parse_queue_url(f->queue));
    pt::redis_reply r = redis.command({"HGET", keys::job(id), "status"});
    if (r.is_nil()) {
      throw input_error("no job " + id + " (it may still be queued)");
    }
    std::cout << r.str << "\n";
    return 0;
  };
}

command_fn add_result_command(CLI::App& app) {
  auto f = std::make_shared<job_flags>();
  add_transport_flags(app, *f);
  app.add_option("id", f->id, "job id")->required();
  return [f] {
    const std::string id = with_job_id(f->id);
    if (!f->via_queue()) {
      std::cout << gateway_call(f->target(), "GET", "/v1/jobs/" + id + "/result").body << "\n";
      return 0;
    }
    pt::redis_client redis(parse_queue_url(f->queue));
    pt::redis_reply r = redis.command({"GET", keys::job_result(id)});
    if (r.is_nil()) {
      throw input_error("job " + id + " has no result yet");
    }
    std::cout << r.str << "\n";
    return 0;
  };
}

} // namespace proofmesh::cli
