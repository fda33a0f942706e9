// The dashboard's static files, read once at start-up and served from memory: ours (gateway/ui,
// installed with the gateway) under /ui/, and Debian's KaTeX (libjs-katex) under /ui/katex/.
// Rules of the road:
// - Only what was read at start-up is served: a request's path is looked up in the table, never
//   joined to a folder, so nothing outside the two folders can be reached.
// - At most 512 files and 16 MiB in all, regular files with a known extension only; the type is
//   the extension's. A missing folder is a warning at start-up and a 404 on request.
// - Our files are revalidated on each load (no-cache: an upgrade shows at once); KaTeX's are
//   cached for a day. Every page carries a Content-Security-Policy of 'self' only: nothing is
//   fetched from elsewhere, and a proof's text cannot bring a script in.
#pragma once

#include "gateway/http_server.hpp"

#include <map>
#include <optional>
#include <string>

namespace proofmesh::gateway {

struct ui_files_params {
  std::string ui_dir;    // ours; "" : the default (ui beside the binary, or share/proofmesh/ui)
  std::string katex_dir = "/usr/share/javascript/katex";
};

class ui_files {
public:
  explicit ui_files(const ui_files_params& params);

  /// The answer for a GET of `path` under /ui; nullopt when the path is not the dashboard's.
  /// Throws api_error not_found for a file it does not have.
  std::optional<http_answer> serve(const std::string& path) const;

  size_t size() const { return files_.size(); }
  const std::string& ui_dir() const { return ui_dir_; }

private:
  struct file {
    std::string body;
    std::string type;
    bool ours = true;
  };
  void load(const std::string& dir, const std::string& prefix, bool ours, int depth);

  std::string ui_dir_;
  std::map<std::string, file> files_; // by request path: "/ui/app.js", "/ui/katex/fonts/..."
  size_t bytes_ = 0;
};

} // namespace proofmesh::gateway
