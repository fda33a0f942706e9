// `proofmesh submit`, `status` and `result`, straight to Redis: the path for batch producers
// (data pipelines, cron jobs) that skip HTTP. Rules of the road:
// - --queue is redis://[:PASSWORD@]HOST[:PORT] (PROOFMESH_REDIS_PASSWORD also sets the password).
// - submit reads FILE as one of: a job object ({"problems": [...], ...}); the reference's inputs
//   format (a JSON array of {question, problem_idx, ...}); or JSONL, one {question, problem_idx?}
//   per line. It builds the job, checks it exactly as the coordinator will (parse_job_spec), and
//   XADDs it; a bad file never reaches the queue. It prints the job id.
// - --watch follows the job's events stream and draws a progress bar on stderr until it ends.
#include "actors/common/error.hpp"
#include "actors/common/text_file.hpp"
#include "actors/pipeline/job_request.hpp"
#include "actors/pipeline/job_spec.hpp"
#include "actors/transport/job_queue.hpp"
#include "services/cli/command.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>

namespace proofmesh::cli {

namespace {

using nlohmann::json;
namespace pt = proofmesh::transport;

pt::redis_client_params parse_queue_url(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) {
    throw input_error("--queue must look like redis://[:password@]host[:port]");
  }
  std::string rest = url.substr(scheme.size());
  pt::redis_client_params p{.max_attempts = 3};
  if (const char* env = std::getenv("PROOFMESH_REDIS_PASSWORD")) {
    p.password = env;
  }
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    p.password = auth.rfind(':', 0) == 0 ? auth.substr(1) : auth;
    rest = rest.substr(at + 1);
  }
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    rest = rest.substr(0, slash);
  }
  if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      throw input_error("--queue: bad port \"" + port + "\"");
    }
    p.port = std::stoi(port);
    rest = rest.substr(0, colon);
  }
  if (!rest.empty()) {
    p.host = rest;
  }
  return p;
}

struct queue_flags {
  std::string queue = "redis://127.0.0.1:6379";
  std::string file;
  std::string id;
  bool watch = false;
  int32_t num_proofs = 0, verifications = -1, max_tokens = 0;
};

void add_queue_flag(CLI::App& app, queue_flags& f) {
  app.add_option("--queue", f.queue, "redis://[:password@]host[:port] (default local)");
}

std::string new_job_id() {
  std::random_device rd;
  std::ostringstream s;
  s << "job-" << std::hex << ((static_cast<uint64_t>(rd()) << 32) | rd());
  return s.str();
}

void watch(pt::redis_client& redis, const std::string& id) {
  std::string last = "0";
  int64_t results = 0;
  for (;;) {
    pt::redis_reply r = redis.command({"XREAD", "COUNT", "100", "BLOCK", "1000", "STREAMS",
                                       "job:" + id + ":events", last});
    for (const pt::redis_reply& stream : r.elements) {
      for (const pt::redis_reply& entry : stream.elements.at(1).elements) {
        last = entry.elements.at(0).str;
        json event = json::parse(entry.elements.at(1).elements.at(1).str, nullptr, false);
        if (event.value("type", "") == "result") ++results;
        std::fprintf(stderr, "\r[%-30s] %lld tasks done", std::string(std::min<int64_t>(30, results / 2 + 1), '#').c_str(),
                     static_cast<long long>(results));
        if (event.value("type", "") == "completed") {
          std::fprintf(stderr, "\njob %s completed\n", id.c_str());
          return;
        }
      }
    }
  }
}

} // namespace

command_fn add_submit_command(CLI::App& app) {
  auto f = std::make_shared<queue_flags>();
  add_queue_flag(app, *f);
  app.add_option("file", f->file, "job JSON, reference inputs JSON, or JSONL of problems")
      ->required();
  app.add_option("--num-proofs", f->num_proofs, "proofs per problem");
  app.add_option("--verifications", f->verifications, "verifications per proof");
  app.add_option("--max-tokens", f->max_tokens, "tokens per completion");
  app.add_flag("--watch", f->watch, "follow the job's progress until it completes");
  return [f] {
    json job = pipeline::job_from_text(read_text_file(f->file, size_t{64} << 20));
    if (!job.contains("id")) job["id"] = new_job_id();
    if (!job.contains("params")) job["params"] = json::object();
    if (f->num_proofs > 0) job["params"]["num_proofs"] = f->num_proofs;
    if (f->verifications >= 0) job["params"]["verifications_per_proof"] = f->verifications;
    if (f->max_tokens > 0) job["params"]["max_tokens"] = f->max_tokens;
    const std::string body = job.dump();
    pipeline::parse_job_spec(body); // the coordinator's own check, before it reaches the queue
    pt::redis_client redis(parse_queue_url(f->queue));
    pt::job_queue queue(redis, {.consumer = "submit"});
    queue.add(body);
    std::cout << job["id"].get<std::string>() << "\n";
    if (f->watch) watch(redis, job["id"]);
    return 0;
  };
}

command_fn add_status_command(CLI::App& app) {
  auto f = std::make_shared<queue_flags>();
  add_queue_flag(app, *f);
  app.add_option("id", f->id, "job id")->required();
  return [f] {
    pt::redis_client redis(parse_queue_url(f->queue));
    pt::redis_reply r = redis.command({"HGET", "job:" + f->id, "status"});
    if (r.is_nil()) {
      throw input_error("no job " + f->id + " (it may still be queued)");
    }
    std::cout << r.str << "\n";
    return 0;
  };
}

command_fn add_result_command(CLI::App& app) {
  auto f = std::make_shared<queue_flags>();
  add_queue_flag(app, *f);
  app.add_option("id", f->id, "job id")->required();
  return [f] {
    pt::redis_client redis(parse_queue_url(f->queue));
    pt::redis_reply r = redis.command({"GET", "job:" + f->id + ":result"});
    if (r.is_nil()) {
      throw input_error("job " + f->id + " has no result yet");
    }
    std::cout << r.str << "\n";
    return 0;
  };
}

} // namespace proofmesh::cli
