#include "actors/roles/role_result.hpp"

#include "actors/roles/output_parser.hpp"

#include <cmath>

namespace proofmesh::roles {

transport::task_result_msg make_result(const transport::task_msg& task,
                                       const engine::completion& done, uint32_t prompt_tokens,
                                       uint32_t elapsed_ms) {
  return make_result(task, done.text, done.finish == engine::finish_reason::finish_reason_stop,
                     prompt_tokens, static_cast<uint32_t>(done.ids.size()), elapsed_ms);
}

transport::task_result_msg make_result(const transport::task_msg& task, const std::string& text,
                                       bool stopped, uint32_t prompt_tokens,
                                       uint32_t completion_tokens, uint32_t elapsed_ms) {
  using namespace transport;
  task_result_msg r{.task_id = task.task_id,
                    .status = task_status::task_status_unparseable,
                    .prompt_tokens = prompt_tokens,
                    .completion_tokens = completion_tokens,
                    .elapsed_ms = elapsed_ms};
  if (std::holds_alternative<complete_input>(task.input)) { // raw: the text is the result
    r.status = task_status::task_status_ok;
    r.output = complete_output{text, stopped ? "stop" : "length"};
    return r;
  }
  if (!stopped) {
    r.status = task_status::task_status_truncated; // counted apart: the search reports them
    return r;
  }
  const std::string& done_text = text;
  switch (task.task_role()) {
    case role::role_generator:
      if (auto g = parse_generation(done_text); g && std::isfinite(g->self_eval_score)) {
        r.output = generate_output{std::move(g->solution), std::move(g->self_eval),
                                   static_cast<float>(g->self_eval_score)};
      }
      break;
    case role::role_verifier:
      if (auto v = parse_verification(done_text); v && std::isfinite(v->score)) {
        r.output = verify_output{std::move(v->rating), static_cast<float>(v->score)};
      }
      break;
    case role::role_meta_verifier:
      if (auto m = parse_verification(done_text); m && std::isfinite(m->score)) {
        r.output = meta_verify_output{std::move(m->rating), static_cast<float>(m->score)};
      }
      break;
  }
  if (!std::holds_alternative<std::monostate>(r.output)) {
    r.status = task_status::task_status_ok;
  }
  return r;
}

} // namespace proofmesh::roles
