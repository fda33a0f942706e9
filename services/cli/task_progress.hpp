// The progress bar of `proofmesh submit --watch`, fed by a job's events (over SSE from the
// gateway, or from the Redis stream): each result event carries the tasks done and still open,
// so the bar is done / (done + open). Open tasks grow as proofs unlock verifications, so the
// bar can step back; it never claims more than is known. On a terminal it is one line, redrawn;
// into a file or pipe (a CI log) it is a line per tenth of the way, so logs stay short. Each
// problem's closed rounds and its end print as lines of their own above the bar, and
// print_selection() writes the final selection from the job's result.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <unistd.h>
#include <string>

namespace proofmesh::cli {

class task_progress {
public:
  explicit task_progress(std::FILE* out) : out_(out), tty_(::isatty(::fileno(out)) == 1) {}

  void on_event(const std::string& type, const std::string& data) {
    nlohmann::json e = nlohmann::json::parse(data, nullptr, false);
    if (!e.is_object()) return;
    if (type == "result" || e.value("type", "") == "result") {
      done_ = e.value("done", done_);
      open_ = e.value("open", open_);
      if (e.value("status", "") == "failed") ++failed_;
      draw();
    } else if (type == "round" || type == "problem_done") {
      line(problem_line(type, e));
    } else if (type == "started" || e.value("type", "") == "started") {
      std::fprintf(out_, "%sstarted%s", tty_ ? "\r" : "",
                   e.value("replayed", 0) > 0 ? " (resumed)\n" : "\n");
    }
  }

  void finish(const std::string& outcome, const std::string& id) {
    std::fprintf(out_, "%sjob %s %s\n", tty_ ? "\n" : "", id.c_str(), outcome.c_str());
  }

  /// The final selection of a job's result: per problem, its status and its best proof.
  void print_selection(const nlohmann::json& result) {
    if (!result.contains("problems") || !result["problems"].is_array()) return;
    std::fprintf(out_, "final selection (%lld of %zu solved):\n",
                 static_cast<long long>(result.value("solved", 0)), result["problems"].size());
    for (const nlohmann::json& p : result["problems"]) {
      std::string text = "  " + p.value("problem_id", std::string("?")) + ": " +
                         p.value("status", std::string("?"));
      if (p.contains("best") && p["best"].is_object()) {
        const nlohmann::json& b = p["best"];
        std::string proof = b.value("proof", std::string());
        proof = proof.substr(0, proof.find('\n')).substr(0, 60);
        text += ", proof #" + std::to_string(b.value("proof_id", 0)) + " mean " +
                number(b.value("meanscore", 0.0)) + " over " +
                std::to_string(b.value("verifications", 0)) + " verifications: " + proof;
      } else {
        text += ", no proof (" + p.value("reason", std::string()) + ")";
      }
      std::fprintf(out_, "%s\n", text.c_str());
    }
    std::fflush(out_);
  }

private:
  static std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
  }

  static std::string problem_line(const std::string& type, const nlohmann::json& e) {
    const std::string problem = e.value("problem", std::string("?"));
    const auto best = [&](const nlohmann::json& v) {
      return v.is_number() ? number(v.get<double>()) : std::string("-");
    };
    if (type == "round") {
      return problem + ": round " + std::to_string(e.value("round", 0)) + " closed, pool " +
             std::to_string(e.value("pool", 0)) + ", best mean " +
             best(e.contains("best_meanscore") ? e["best_meanscore"] : nlohmann::json());
    }
    std::string out = problem + ": " + e.value("status", std::string("?")) + " after " +
                      std::to_string(e.value("rounds", 0)) + " rounds";
    if (e.contains("best") && e["best"].is_object()) {
      out += ", best proof #" + std::to_string(e["best"].value("proof_id", 0)) + " mean " +
             best(e["best"].value("meanscore", nlohmann::json())) + " over " +
             std::to_string(e["best"].value("verifications", 0)) + " verifications";
    }
    return out;
  }

  // A line of its own, above the bar (which redraws after it).
  void line(const std::string& text) {
    std::fprintf(out_, "%s%s\n", tty_ ? "\r\033[K" : "", text.c_str());
    if (tty_ && done_ + open_ > 0) {
      last_tenth_ = -1;
      draw();
    }
    std::fflush(out_);
  }

  void draw() {
    const int64_t total = done_ + open_;
    const int width = 30;
    const int filled = total > 0 ? static_cast<int>(width * done_ / total) : 0;
    if (!tty_) {
      const int64_t tenth = total > 0 ? 10 * done_ / total : 0;
      if (tenth == last_tenth_) return;
      last_tenth_ = tenth;
    }
    std::fprintf(out_, "%s[%s%s] %lld/%lld tasks", tty_ ? "\r" : "", std::string(filled, '#').c_str(),
                 std::string(width - filled, '-').c_str(), static_cast<long long>(done_),
                 static_cast<long long>(total));
    if (failed_ > 0) std::fprintf(out_, " (%lld retried)", static_cast<long long>(failed_));
    if (!tty_) std::fputc('\n', out_);
    std::fflush(out_);
  }

  std::FILE* out_;
  bool tty_;
  int64_t done_ = 0, open_ = 0, failed_ = 0;
  int64_t last_tenth_ = -1;
};

} // namespace proofmesh::cli
