#include "services/coordinator/job_actor.hpp"

#include "services/coordinator/problem_actor.hpp"

#include <nlohmann/json.hpp>

#include <memory>

namespace proofmesh::coordinator {

namespace pp = proofmesh::pipeline;

std::string job_result_json(const std::string& job_id, const std::string& status,
                            const std::vector<std::string>& summaries) {
  nlohmann::json problems = nlohmann::json::array();
  int64_t solved = 0;
  for (const std::string& s : summaries) {
    problems.push_back(nlohmann::json::parse(s));
    if (problems.back().value("status", "") == "solved") ++solved;
  }
  return nlohmann::json{{"id", job_id}, {"status", status}, {"solved", solved},
                        {"problems", problems}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

job_actor::behavior_type job_actor_impl(job_pointer self, std::string job_id, pp::job_spec spec,
                                        coordinator_sink sink, std::shared_ptr<const loop_waker> waker) {
  job_state& st = self->state;
  st.job_id = job_id;
  const job_actor me = caf::actor_cast<job_actor>(self);
  std::vector<std::string> order; // problem ids as the job lists them
  for (const pp::job_problem& p : spec.problems) {
    order.push_back(p.problem_id);
    // Linked: a problem that dies takes its job down with it, and the other way round.
    st.problems.emplace(p.problem_id,
                        self->spawn<caf::linked>(problem_actor_impl,
                                                 problem_actor_params{.job_id = job_id,
                                                                      .problem = p,
                                                                      .params = spec.params,
                                                                      .job = me,
                                                                      .sink = sink,
                                                                      .waker = waker}));
  }
  return {
      [=](result_atom, const std::string& problem_id, const std::string& bytes) {
        auto it = self->state.problems.find(problem_id);
        if (it != self->state.problems.end()) self->send(it->second, result_atom::value, bytes);
      },
      [=](replayed_atom) {
        for (const auto& [id, problem] : self->state.problems) {
          self->send(problem, replayed_atom::value);
        }
      },
      [=](problem_done_atom, const std::string& problem_id, const std::string& summary) {
        job_state& s = self->state;
        s.summaries[problem_id] = summary;
        if (s.reported || s.summaries.size() != s.problems.size()) return;
        s.reported = true;
        std::vector<std::string> in_order;
        for (const std::string& id : order) in_order.push_back(s.summaries.at(id));
        self->send(sink, job_done_atom::value, s.job_id,
                   job_result_json(s.job_id, "completed", in_order));
        waker->notify();
      },
      [=](summary_atom, const std::string& status) -> caf::result<std::string> {
        // Every problem's summary as it stands, gathered, then one answer.
        auto rp = self->make_response_promise<std::string>();
        auto got = std::make_shared<std::map<std::string, std::string>>();
        const size_t want = self->state.problems.size();
        for (const auto& [id, problem] : self->state.problems) {
          self->request(problem, caf::infinite, summary_atom::value)
              .then([=, id = id](const std::string& summary) mutable {
                (*got)[id] = summary;
                if (got->size() != want) return;
                std::vector<std::string> in_order;
                for (const std::string& pid : order) in_order.push_back(got->at(pid));
                rp.deliver(job_result_json(self->state.job_id, status, in_order));
              });
        }
        return rp;
      },
  };
}

} // namespace proofmesh::coordinator
