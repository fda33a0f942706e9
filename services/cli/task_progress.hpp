// The progress bar of `proofmesh submit --watch`, fed by a job's events (over SSE from the
// gateway, or from the Redis stream): each result event carries the tasks done and still open,
// so the bar is done / (done + open). Open tasks grow as proofs unlock verifications, so the
// bar can step back; it never claims more than is known. On a terminal it is one line, redrawn;
// into a file or pipe (a CI log) it is a line per tenth of the way, so logs stay short.
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
    } else if (type == "started" || e.value("type", "") == "started") {
      std::fprintf(out_, "%sstarted%s", tty_ ? "\r" : "",
                   e.value("replayed", 0) > 0 ? " (resumed)\n" : "\n");
    }
  }

  void finish(const std::string& outcome, const std::string& id) {
    std::fprintf(out_, "%sjob %s %s\n", tty_ ? "\n" : "", id.c_str(), outcome.c_str());
  }

private:
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
