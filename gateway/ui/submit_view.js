// Submit: paste problems (one per line, or JSON: a job object, the reference's inputs array, or
// JSONL) or load the reference's inputs file, pick a strategy, override parameters; the API's
// errors show as it said them, and a queued job opens its page.
import {api} from "./api.js";
import {errorBox, fill, h} from "./dom.js";

const STRATEGIES = ["quick", "reference", "release", "paper-heavy", "self-refine"];

// The problems the text holds, as the API's problem objects.
function problemsOf(text) {
  const t = text.trim();
  if (!t) return [];
  try {
    const j = JSON.parse(t);
    if (Array.isArray(j)) return j;
    if (j && Array.isArray(j.problems)) return j.problems;
  } catch (_) { /* not one JSON value */
  }
  const lines = t.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines.every((l) => l.startsWith("{"))) {
    try {
      return lines.map((l) => JSON.parse(l));
    } catch (_) { /* not JSONL: plain lines */
    }
  }
  return lines.map((question) => ({question}));
}

function asProblem(p) {
  if (typeof p !== "object" || p === null) return p;  // the API says what is wrong with it
  const out = {question: p.question};
  if (p.problem_idx !== undefined) out.problem_idx = String(p.problem_idx);
  return out;
}

export function submitView(root, ctx) {
  const problems = h(
      "textarea", {id: "problems", rows: 10, placeholder: "One problem per line, or JSON / JSONL"});
  const file = h("input", {id: "inputs-file", type: "file", accept: ".json,.jsonl,.txt"});
  file.addEventListener("change", async () => {
    if (file.files[0]) problems.value = await file.files[0].text();
  });
  const strategy = h("select", {id: "strategy"}, STRATEGIES.map((s) => h("option", {value: s}, s)));
  const params =
      h("textarea", {id: "params", rows: 4, placeholder: "{\"num_proofs\": 8, \"max_rounds\": 3}"});
  const out = h("div", {id: "submit-result"});
  const button = h("button", {id: "submit", type: "submit"}, "Submit");
  const form = h("form", {},
    h("label", { class: "field", for: "problems" }, "Problems"), problems,
    h("div", {}, h("span", { class: "muted" }, "or the reference's inputs file: "), file),
    h("label", { class: "field", for: "strategy" }, "Strategy"), strategy,
    h("label", { class: "field", for: "params" }, "Parameter overrides (JSON object)"), params,
    h("p", {}, button), out);
        form.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          let overrides = {};
          if (params.value.trim()) {
            try {
              overrides = JSON.parse(params.value);
            } catch (e) {
              fill(out, errorBox({code: "invalid_json", message: `parameters: ${e.message}`}));
              return;
            }
          }
          const body = {
            problems: problemsOf(problems.value).map(asProblem),
            strategy: strategy.value
          };
          if (Object.keys(overrides).length) body.params = overrides;
          button.disabled = true;
          try {
            const job = await api("/v1/jobs", {method: "POST", body, signal: ctx.signal});
            location.hash = `#/job/${job.id}`;
          } catch (e) {
            if (e.name !== "AbortError") fill(out, errorBox(e));
          } finally {
            button.disabled = false;
          }
        });
        fill(root, h("h1", {}, "Submit a job"), form);
      }
