// bench/pipeline: one search job run twice on the same engine and the same hardware, staged as
// the reference runs it (a barrier after every stage and every round, across all problems) and
// streaming as the coordinator runs it (each task the moment it is unlocked, each problem at
// its own pace). It prints both makespans and their ratio. Rules of the road:
// - The search is our proof_search state machine with the `release` preset scaled down (fewer
//   proofs, verifications and rounds, the same shape: no meta-verification, one proof per
//   refinement, refinements from the top of the pool).
// - Every task really runs on the engine, for a length drawn from the real proofs' lengths in
//   ../shared/dsm2/outputs (--lengths: characters / 4 tokens, by proof_lengths.sh; divided by
//   --scale so a small machine finishes), set as its max_tokens with no stop token: both runs
//   do the same tokens.
// - The outputs themselves are not parsed (a random model writes gibberish): each finished task
//   is answered with a result that is a function of its task id alone (a distinct proof text,
//   a score of 0, 0.5 or 1), so both runs build the same pools and issue the same tasks.
// - The engine is the batch engine itself, stepped on this thread (no actors, no sockets: what
//   is measured is the orchestration, not the mesh). --model DIR, or --shape llama-3.2-1b for
//   random weights of that shape on the GPU.
// - Nothing here is timed inside a test; the figure goes to docs/PERFORMANCE.md with its command.
#include "actors/engine/cuda/cuda_runner.hpp"
#include "actors/engine/runtime/engine_config.hpp"
#include "actors/engine/scheduling/batch_engine.hpp"
#include "actors/engine/weights/weight_store.hpp"
#include "actors/common/fnv1a.hpp"
#include "actors/pipeline/proof_search.hpp"
#include "bench/engine/bench_model.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

namespace pe = proofmesh::engine;
namespace pp = proofmesh::pipeline;
namespace pt = proofmesh::transport;
using clock_type = std::chrono::steady_clock;

struct bench_flags {
  std::string model;
  std::string shape; // instead of a model: random weights of a benchmark shape
  std::string backend = "cpu";
  std::string lengths; // token lengths, one per line
  int problems = 4;
  int proofs = 8;
  int verifications = 8;
  int refinements = 4;
  int rounds = 3;
  int slots = 32;
  int scale = 64;
  bool by_problem = false; // lengths drawn per problem (then ±50% per task), not per task
};

uint64_t hash_of(const std::string& s) {
  const uint64_t h = proofmesh::fnv1a(s);
  return h ^ (h >> 29);
}

// Token lengths, one per line (bench/pipeline/proof_lengths.sh writes the real proofs').
std::vector<int32_t> read_lengths(const std::string& path) {
  std::vector<int32_t> out;
  std::ifstream in(path);
  for (int64_t v = 0; in >> v;) {
    if (v > 0 && v < (1 << 20)) out.push_back(static_cast<int32_t>(v));
  }
  return out;
}

// What a worker would have answered, from the task id alone.
pt::task_result_msg answer(const pt::task_msg& t) {
  pt::task_result_msg r{.task_id = t.task_id};
  const uint64_t h = hash_of(t.task_id);
  if (std::holds_alternative<pt::generate_input>(t.input)) {
    r.output = pt::generate_output{"proof " + t.task_id, "eval", (h % 3) / 2.0f};
  } else if (std::holds_alternative<pt::verify_input>(t.input)) {
    const float scores[] = {0.0f, 0.5f, 0.5f, 1.0f}; // a pass needs every rating at 1: rare
    r.output = pt::verify_output{"rating", scores[h % 4]};
  } else {
    r.output = pt::meta_verify_output{"fair", 1.0f};
  }
  return r;
}

// The stage a task belongs to, in the reference's order: round, then gen < verify < meta.
std::pair<int32_t, int32_t> stage_of(const pt::task_msg& t) {
  const size_t r = t.task_id.find("/r");
  const int32_t round = std::atoi(t.task_id.c_str() + r + 2);
  return {round, static_cast<int32_t>(t.input.index())};
}

struct run_figures {
  double seconds = 0;
  int64_t tasks = 0;
  int64_t tokens = 0;
  int64_t stages = 0;
  int64_t steps = 0; // engine steps: tokens / steps is the mean batch the GPU ran
};

run_figures run(const bench_flags& f, bool staged, const std::vector<int32_t>& lengths,
                pe::model_runner& runner, const pe::scheduler_config& config) {
  pe::batch_engine engine(runner, nullptr, config);
  pp::search_params params = pp::strategy_preset("release");
  params.num_proofs = f.proofs;
  params.verifications_per_proof = f.verifications;
  params.best_proofs = f.refinements;
  params.refinements = f.refinements;
  params.max_rounds = f.rounds;
  std::vector<std::unique_ptr<pp::proof_search>> searches;
  std::deque<std::pair<size_t, pt::task_msg>> held; // staged: waiting for their stage
  std::map<pe::request_id, std::pair<size_t, pt::task_msg>> running;
  run_figures fig;
  auto submit = [&](size_t problem, pt::task_msg t) {
    // A prompt of realistic shape: a shared template prefix, then the task's own tokens.
    std::vector<int32_t> prompt(32, 7);
    const uint64_t h = hash_of(t.task_id);
    for (int i = 0; i < 16; ++i) prompt.push_back(static_cast<int32_t>(100 + (h >> (i * 3)) % 200));
    // Per task: a draw from the real lengths. Per problem: the problem draws its length once
    // (problems differ: the real proofs run from 1.9k to 29.7k characters), each task then
    // 50% to 150% of it.
    int64_t length = lengths[hash_of(t.task_id + "#len") % lengths.size()];
    if (f.by_problem) {
      const std::string problem = t.task_id.substr(0, t.task_id.find("/r"));
      length = lengths[hash_of(problem + "#len") % lengths.size()] *
               static_cast<int64_t>(50 + hash_of(t.task_id + "#len") % 101) / 100;
    }
    length = std::max<int64_t>(1, length / f.scale);
    fig.tokens += length;
    ++fig.tasks;
    const pe::request_id id = engine.submit(
        {.prompt = prompt, .max_tokens = static_cast<int32_t>(length),
         .sampling = {.temperature = 1.0f, .top_p = 0.95f, .seed = h}});
    running.emplace(id, std::make_pair(problem, std::move(t)));
  };
  auto offer = [&](size_t problem, std::vector<pt::task_msg> tasks) {
    for (pt::task_msg& t : tasks) {
      if (staged) {
        held.emplace_back(problem, std::move(t));
      } else {
        submit(problem, std::move(t));
      }
    }
  };
  const auto start = clock_type::now();
  for (int p = 0; p < f.problems; ++p) {
    std::string problem_id = "p"; // += : GCC 12's false -Wrestrict on "lit" + to_string
    problem_id += std::to_string(p);
    searches.push_back(pp::proof_search::make(
        {.job_id = "bench", .problem_id = problem_id, .question = "Q", .params = params}));
    offer(static_cast<size_t>(p), searches.back()->start().send);
  }
  while (true) {
    if (staged && running.empty() && !held.empty()) {
      // The barrier: nothing runs; release the earliest stage still waiting, all of it.
      std::pair<int32_t, int32_t> first = stage_of(held.front().second);
      for (const auto& [p, t] : held) first = std::min(first, stage_of(t));
      std::deque<std::pair<size_t, pt::task_msg>> later;
      for (auto& [p, t] : held) {
        if (stage_of(t) == first) {
          submit(p, std::move(t));
        } else {
          later.emplace_back(p, std::move(t));
        }
      }
      held.swap(later);
      ++fig.stages;
    }
    if (running.empty()) break; // every search is done
    ++fig.steps;
    for (pe::engine_event& e : engine.step()) {
      if (!e.finished) continue;
      auto it = running.find(e.id);
      if (it == running.end()) continue;
      const auto [problem, task] = it->second;
      running.erase(it);
      offer(problem, searches[problem]->on_result(answer(task)).send);
    }
  }
  fig.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  for (const auto& s : searches) {
    if (!s->done()) throw std::runtime_error("a search did not finish");
  }
  return fig;
}

} // namespace

int main(int argc, char** argv) {
  bench_flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") f.model = v;
    else if (k == "--shape") f.shape = v;
    else if (k == "--backend") f.backend = v;
    else if (k == "--lengths") f.lengths = v;
    else if (k == "--problems") f.problems = std::stoi(v);
    else if (k == "--proofs") f.proofs = std::stoi(v);
    else if (k == "--verifications") f.verifications = std::stoi(v);
    else if (k == "--refinements") f.refinements = std::stoi(v);
    else if (k == "--rounds") f.rounds = std::stoi(v);
    else if (k == "--slots") f.slots = std::stoi(v);
    else if (k == "--scale") f.scale = std::stoi(v);
    else if (k == "--lengths-by") f.by_problem = v == "problem";
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (f.model.empty() == f.shape.empty() || f.lengths.empty()) {
    std::fprintf(stderr, "usage: pipeline_bench --model DIR | --shape llama-3.2-1b "
                         "[--backend cpu|cuda] [--problems N]"
                         " [--proofs N] [--verifications N] [--refinements N] [--rounds N]"
                         " [--slots N] [--scale N] [--lengths-by task|problem] --lengths FILE\n");
    return 2;
  }
  const std::vector<int32_t> lengths = read_lengths(f.lengths);
  if (lengths.empty()) {
    std::fprintf(stderr, "no lengths in %s\n", f.lengths.c_str());
    return 2;
  }
  const pe::model_config config =
      f.shape.empty() ? pe::load_model_config(f.model) : proofmesh::bench::bench_shape(f.shape);
  std::unique_ptr<pe::weight_source> weights;
  if (f.shape.empty()) {
    weights = std::make_unique<pe::weight_store>(pe::weight_store::open(f.model));
  } else {
    weights = std::make_unique<proofmesh::bench::random_weights>();
  }
  const pe::engine_config engine{.backend = f.backend == "cuda"
                                                ? pe::engine_backend::engine_backend_cuda
                                                : pe::engine_backend::engine_backend_cpu,
                                 .max_running = f.slots};
  std::unique_ptr<pe::model_runner> runner = pe::make_runner(engine, config, *weights);
  const int64_t per_sequence = (std::min<int64_t>(config.max_position_embeddings, 8192) + 15) / 16;
  pe::scheduler_config sched = pe::scheduler_config_for(engine);
  sched.total_blocks = f.slots * per_sequence;
  std::printf("bench/pipeline: release shape scaled down: %d problems, %d proofs, %d "
              "verifications each, %d refinements, %d rounds; %s backend, %d slots; lengths per "
              "%s from %zu real proofs / %d\n",
              f.problems, f.proofs, f.verifications, f.refinements, f.rounds, f.backend.c_str(),
              f.slots, f.by_problem ? "problem" : "task", lengths.size(), f.scale);
  bench_flags small = f; // warm-up: kernels load, graphs are captured, caches settle
  small.problems = 1;
  small.rounds = 1;
  run(small, false, lengths, *runner, sched);
  const run_figures staged = run(f, true, lengths, *runner, sched);
  const run_figures streaming = run(f, false, lengths, *runner, sched);
  std::printf("%-10s %10s %8s %10s %8s %10s\n", "mode", "makespan", "tasks", "tokens", "stages",
              "mean batch");
  for (const auto& [name, r] : {std::pair<const char*, const run_figures&>{"staged", staged},
                                {"streaming", streaming}}) {
    std::printf("%-10s %9.2fs %8lld %10lld %8lld %10.1f\n", name, r.seconds,
                static_cast<long long>(r.tasks), static_cast<long long>(r.tokens),
                static_cast<long long>(r.stages),
                static_cast<double>(r.tokens) / static_cast<double>(std::max<int64_t>(1, r.steps)));
  }
  std::printf("streaming is %.2fx faster than staged (target 1.5x)%s\n",
              staged.seconds / streaming.seconds,
              staged.tokens == streaming.tokens ? "" : "  [WARNING: the runs did different work]");
  return 0;
}
