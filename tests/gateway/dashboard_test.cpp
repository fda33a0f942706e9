// The dashboard in a real browser: headless Chromium (through chromedriver) against a real
// gateway, Redis, coordinator and workers. A wrong key shows the API's error; with a good one the
// page submits a job, watches it complete live, opens the pool (its histogram and pages) and the
// best proof, whose math KaTeX has rendered, with its ratings grouped by score; a bad submit
// shows the API's error; a long job is cancelled from its page. Screenshots go to
// build/screenshots/dashboard/ for a person to look at.
// Nothing asserts a time.
#include "actors/engine/model/model_init.hpp"
#include "tests/gateway/mesh_fixture.hpp"
#include "tests/support/webdriver.hpp"

namespace proofmesh {
namespace {

using namespace testing; // the fixture's names

// A generator whose proof has inline and display math, and scores itself 1.
const char* math_proof =
    "</think>\n## Solution\nLet $a = 2m$ and $b = 2n$ be even. Then\n$$a + b = 2(m + n),$$\n"
    "so $a + b$ is even, since $m + n \\in \\mathbb{Z}$.\n## Self Evaluation\nHere is my "
    "evaluation of the solution: sound.\n\nBased on my evaluation, the final overal score "
    "should be:\n\\boxed{1}";

class dashboard_test : public mesh_fixture {
protected:
  std::string shots() {
    const std::string dir = std::string(PM_BUILD_DIR) + "/screenshots/dashboard";
    std::filesystem::create_directories(dir);
    return dir;
  }
  std::string url(const std::string& hash = "") {
    return "http://127.0.0.1:" + std::to_string(port_) + "/ui/" + hash;
  }
};

TEST_F(dashboard_test, a_job_submitted_from_the_page_completes_and_its_best_proof_renders) {
  ASSERT_TRUE(have_chromium()) << "deploy/setup.sh installs chromium and chromium-driver";
  start_gateway();
  const std::string generator = dir_.str("math-generator");
  engine::init_random_model({.out_dir = generator, .script = math_proof});
  start_mesh({.generator_model = generator});
  browser b(dir_.str("chromium-profile"), dir_.str("chromedriver.log"));

  // The files, KaTeX's among them, come from the gateway itself.
  http_reply katex = http_call(port_, "GET", "/ui/katex/katex.min.js");
  ASSERT_EQ(katex.status, 200) << "is libjs-katex installed?";
  EXPECT_EQ(http_call(port_, "GET", "/ui/no-such.js").status, 404);
  EXPECT_EQ(http_call(port_, "GET", "/ui/../keys.json").status, 404);

  // A wrong key: the API's error, as it said it.
  b.open(url());
  b.wait_for("the key form", "return document.querySelector('#need-key') !== null;");
  b.type("#key-input", "key-wrong");
  b.click("#key-form button");
  EXPECT_EQ(b.wait_for("the error", "const e = document.querySelector('#key-state .error');"
                                    "return e && e.dataset.code;"),
            "invalid_api_key");
  b.screenshot(shots() + "/1-wrong-key.png");

  b.type("#key-input", "key-alpha");
  b.click("#key-form button");
  b.wait_for("the jobs page", "return document.querySelector('#no-jobs, #jobs') !== null;");

  // A bad submit (no problems) shows the API's error; a good one opens the job's page.
  b.run("location.hash = '#/submit'; return true;");
  b.wait_for("the submit form", "return document.querySelector('#problems') !== null;");
  b.click("#submit");
  EXPECT_EQ(b.wait_for("the submit error",
                       "const e = document.querySelector('#submit-result .error');"
                       "return e && e.dataset.code;"),
            "invalid_request");
  b.screenshot(shots() + "/2-submit-error.png");
  b.type("#problems", "Prove that the sum of two even integers is even.\n"
                      "Prove that $\\sqrt{2}$ is irrational.");
  b.type("#params", R"({"num_proofs": 3, "verifications_per_proof": 2, "max_rounds": 1})");
  b.click("#submit");
  const std::string job = b.wait_for("the job's page",
                                     "return location.hash.startsWith('#/job/') && "
                                     "document.querySelector('#job-id')?.textContent;");
  b.wait_for("the job to complete",
             "return document.querySelector('h1 .badge.completed') !== null && "
             "!document.querySelector('#export').disabled;", std::chrono::seconds(120));
  EXPECT_EQ(b.run("return document.querySelectorAll('#problems tbody tr').length;"), 2);
  EXPECT_NE(b.run("return document.querySelector('#meta').innerText;").get<std::string>().find(
                "meta-verifications"),
            std::string::npos);
  b.screenshot(shots() + "/3-job.png");
  // The page's live view agrees with the API's result.
  http_reply result = call("GET", "/v1/jobs/" + job + "/result");
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(json::parse(result.body)["status"], "completed");

  // The pool: a histogram of its mean scores and a page of its proofs.
  b.run("location.hash = '#/job/" + job + "/problem/p0'; return true;");
  b.wait_for("the pool", "return document.querySelectorAll('#pool tbody tr').length > 0 && "
                         "document.querySelector('#histogram svg rect') !== null;");
  b.screenshot(shots() + "/4-pool.png");

  // The best proof: math rendered by KaTeX, ratings by score, each analysis readable.
  b.run("location.hash = '#/job/" + job + "'; return true;");
  b.wait_for("the best proof's link", "return document.querySelector('td.best a') !== null;");
  b.click("td.best a");
  b.wait_for("the proof", "return document.querySelector('#proof-id') !== null;");
  EXPECT_GE(b.run("return document.querySelectorAll('.proof .katex').length;").get<int>(), 4);
  EXPECT_EQ(b.run("return document.querySelectorAll('.proof .katex-display').length;"), 1);
  const std::string tex = b.run("return [...document.querySelectorAll('.proof annotation')]"
                                ".map(a => a.textContent).join(' | ');");
  EXPECT_NE(tex.find("a + b = 2(m + n),"), std::string::npos) << tex;
  EXPECT_EQ(b.run("return document.querySelectorAll('.proof .katex-error').length;"), 0);
  EXPECT_EQ(b.run("return document.querySelector('.score-group').dataset.score;"), "0.5");
  EXPECT_NE(b.run("return document.querySelector('.rating .analysis').innerText;")
                .get<std::string>()
                .find("one step is thin"),
            std::string::npos);
  b.screenshot(shots() + "/5-proof.png");

  // A long job cancelled from its page (the page's confirm answered yes).
  http_reply long_job = call("POST", "/v1/jobs",
                             R"({"problems": [{"question": "Prove it."}], "strategy": "quick",
                                 "params": {"num_proofs": 256, "max_rounds": 20}})");
  ASSERT_EQ(long_job.status, 202) << long_job.body;
  const std::string long_id = json::parse(long_job.body)["id"];
  b.run("location.hash = '#/job/" + long_id + "'; return true;");
  b.wait_for("the cancel button", "const c = document.querySelector('#cancel');"
                                  "return c && !c.disabled;");
  b.run("window.confirm = () => true; return true;");
  b.click("#cancel");
  b.wait_for("the job to be cancelled", "return document.querySelector('h1 .badge.cancelled');",
             std::chrono::seconds(120));
  b.screenshot(shots() + "/7-cancelled.png");

  // The jobs page lists it, completed.
  b.run("location.hash = '#/'; return true;");
  EXPECT_EQ(b.wait_for("the job's row", "const r = document.querySelector('tr[data-job=\"" + job +
                                            "\"] .badge'); return r && r.textContent;"),
            "completed");
  b.screenshot(shots() + "/6-jobs.png");
}

} // namespace
} // namespace proofmesh
