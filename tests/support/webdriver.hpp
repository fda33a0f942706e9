// A real headless Chromium driven through chromedriver's W3C WebDriver protocol (plain HTTP and
// JSON, so our test HTTP client suffices): open a page, find elements, type, click, run a script,
// wait for a condition, save a screenshot. Debian's chromium and chromium-driver, installed by
// deploy/setup.sh. Rules of the road: every wait has a deadline and says what it waited for; the
// browser is closed (the session deleted) before chromedriver is stopped, so no Chromium is left.
#pragma once

#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace proofmesh::testing {

inline bool have_chromium() {
  return std::filesystem::exists("/usr/bin/chromium") &&
         std::filesystem::exists("/usr/bin/chromedriver");
}

class browser {
public:
  /// Starts chromedriver and a headless Chromium (1280×1000) with its profile in `profile_dir`.
  browser(const std::string& profile_dir, const std::string& log_file) {
    port_ = free_port();
    driver_ = std::make_unique<child_process>(
        std::vector<std::string>{"/usr/bin/chromedriver", "--port=" + std::to_string(port_)},
        log_file);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (http_call(port_, "GET", "/status", "", {}, std::chrono::seconds(2)).status != 200) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no chromedriver");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const nlohmann::json caps = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:chromeOptions",
             {{"binary", "/usr/bin/chromium"},
              {"args", {"--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--window-size=1280,1000",
                        "--user-data-dir=" + profile_dir}}}}}}}}};
    session_ = call("POST", "/session", caps)["sessionId"];
  }
  ~browser() {
    if (!session_.empty()) {
      http_call(port_, "DELETE", "/session/" + session_, "", {}, std::chrono::seconds(10));
    }
  }
  browser(const browser&) = delete;
  browser& operator=(const browser&) = delete;

  void open(const std::string& url) { command("POST", "/url", {{"url", url}}); }

  /// The element's WebDriver id; throws if none matches now.
  std::string find(const std::string& css) {
    nlohmann::json v = command("POST", "/element", {{"using", "css selector"}, {"value", css}});
    return v.begin().value().get<std::string>();
  }
  void type(const std::string& css, const std::string& text) {
    command("POST", "/element/" + find(css) + "/value", {{"text", text}});
  }
  /// A live page may replace the element between finding and clicking it: then it is found
  /// again (a few times), as a person would look again.
  void click(const std::string& css) {
    for (int attempt = 0;; ++attempt) {
      try {
        command("POST", "/element/" + find(css) + "/click", nlohmann::json::object());
        return;
      } catch (const std::runtime_error& e) {
        if (attempt >= 4 || std::string(e.what()).find("stale element") == std::string::npos) {
          throw;
        }
      }
    }
  }
  /// Runs `script` (a function body: `return …;`) in the page.
  nlohmann::json run(const std::string& script) {
    return command("POST", "/execute/sync", {{"script", script}, {"args", nlohmann::json::array()}});
  }
  /// Until `script` returns something truthy; returns it, or throws naming `what`.
  nlohmann::json wait_for(const std::string& what, const std::string& script,
                          std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      nlohmann::json v = run(script);
      if (!v.is_null() && v != false && v != "" && v != 0) return v;
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("timed out waiting for " + what + "; the page says: " +
                                 run("return document.body.innerText.slice(0, 600);").dump());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  void screenshot(const std::string& png_file) {
    const std::string b64 = command("GET", "/screenshot", nullptr);
    std::ofstream(png_file, std::ios::binary) << decode_base64(b64);
  }

private:
  nlohmann::json command(const std::string& method, const std::string& path,
                         const nlohmann::json& body) {
    return call(method, "/session/" + session_ + path, body);
  }
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body) {
    http_reply r = http_call(port_, method, path, body.is_null() ? "" : body.dump(), {},
                             std::chrono::seconds(60));
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || j.is_discarded() || !j.contains("value")) {
      throw std::runtime_error("WebDriver " + method + " " + path + ": HTTP " +
                               std::to_string(r.status) + " " + r.body.substr(0, 400));
    }
    return j["value"];
  }
  static std::string decode_base64(const std::string& in) {
    std::string out;
    int bits = 0, acc = 0;
    for (char c : in) {
      int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
      if (v < 0) continue;
      acc = (acc << 6) | v;
      if ((bits += 6) >= 8) {
        bits -= 8;
        out += static_cast<char>((acc >> bits) & 0xff);
      }
    }
    return out;
  }

  int port_ = 0;
  std::unique_ptr<child_process> driver_;
  std::string session_;
};

} // namespace proofmesh::testing
