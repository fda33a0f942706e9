#include "gateway/ui_files.hpp"

#include "gateway/api_error.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace proofmesh::gateway {

using enum transport::api_code;

namespace fs = std::filesystem;

namespace {

constexpr size_t max_files = 512;
constexpr size_t max_bytes = size_t{16} << 20;

const char* type_of(const std::string& ext) {
  static const std::map<std::string, const char*> types = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"}, {".png", "image/png"}, {".woff2", "font/woff2"},
      {".woff", "font/woff"}, {".ttf", "font/ttf"}};
  auto it = types.find(ext);
  return it == types.end() ? nullptr : it->second;
}

// ui beside the binary (the build tree), else share/proofmesh/ui beside its bin (an install).
std::string default_ui_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "ui";
  for (const fs::path& p : {exe.parent_path() / "ui",
                            exe.parent_path().parent_path() / "share" / "proofmesh" / "ui"}) {
    if (fs::is_directory(p, ec)) return p.string();
  }
  return (exe.parent_path() / "ui").string();
}

} // namespace

ui_files::ui_files(const ui_files_params& params)
    : ui_dir_(params.ui_dir.empty() ? default_ui_dir() : params.ui_dir) {
  load(ui_dir_, "/ui/", true, 0);
  if (!params.katex_dir.empty()) load(params.katex_dir, "/ui/katex/", false, 0);
}

void ui_files::load(const std::string& dir, const std::string& prefix, bool ours, int depth) {
  std::error_code ec;
  if (depth > 2 || !fs::is_directory(dir, ec)) return;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (e.is_directory(ec)) { // follows links: Debian's KaTeX fonts folder is one
      load(e.path().string(), prefix + name + "/", ours, depth + 1);
      continue;
    }
    const char* type = type_of(e.path().extension().string());
    if (type == nullptr || !e.is_regular_file(ec) || files_.size() >= max_files) continue;
    const auto size = static_cast<size_t>(e.file_size(ec));
    if (ec || bytes_ + size > max_bytes) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    bytes_ += size;
    files_[prefix + name] = {.body = body.str(), .type = type, .ours = ours};
  }
}

std::optional<http_answer> ui_files::serve(const std::string& path) const {
  if (path == "/ui") { // relative links resolve against /ui/, not /
    return http_answer{.status = 301, .body = "", .content_type = "text/plain",
                       .headers = {{"Location", "/ui/"}}};
  }
  if (path.rfind("/ui/", 0) != 0) return std::nullopt;
  auto it = files_.find(path == "/ui/" ? "/ui/index.html" : path);
  if (it == files_.end()) {
    throw api_error(api_code_file_not_found,
                    files_.empty() ? "the dashboard is not installed (--ui-dir " + ui_dir_ + ")"
                                   : "no such file: " + path);
  }
  http_answer a{.body = it->second.body, .content_type = it->second.type};
  a.headers.emplace_back("Cache-Control", it->second.ours ? "no-cache" : "public, max-age=86400");
  a.headers.emplace_back("X-Content-Type-Options", "nosniff");
  a.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                         "img-src 'self' data:; font-src 'self'; frame-ancestors 'none'");
  return a;
}

} // namespace proofmesh::gateway
