// The dashboard's one page: the API key form, and a router from the location's hash to a view.
// Each view gets a context whose signal aborts its requests and streams, and whose timers stop,
// when the user goes elsewhere.
import {api, key} from "./api.js";
import {errorBox, fill, h} from "./dom.js";
import {jobView} from "./job_view.js";
import {jobsView} from "./jobs_view.js";
import {poolView} from "./pool_view.js";
import {proofView} from "./proof_view.js";
import {submitView} from "./submit_view.js";

const view = document.getElementById("view");
let current = null;

function context() {
  const controller = new AbortController();
  const timers = [];
  return {
    signal: controller.signal,
    every(fn, ms) {
      timers.push(setInterval(fn, ms));
    },
    close() {
      controller.abort();
      timers.forEach(clearInterval);
    },
  };
}

function route() {
  if (current) current.close();
  current = context();
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query || "");
  const parts = (path || "/").split("/").filter(Boolean).map(decodeURIComponent);
  if (!key.get()) {
    fill(
        view, h("h1", {}, "proofmesh"),
        h("p", {id: "need-key"}, "Enter an API key above. It is kept for this tab only."));
    return;
  }
  if (parts.length === 0) return jobsView(view, current);
  if (parts[0] === "submit") return submitView(view, current);
  if (parts[0] === "job" && parts.length === 2) return jobView(view, current, parts[1]);
  if (parts[0] === "job" && parts[2] === "problem" && parts.length === 4) {
    return poolView(view, current, parts[1], parts[3], Number(params.get("after") || 0));
  }
  if (parts[0] === "job" && parts[2] === "problem" && parts[4] === "proof" && parts.length === 6) {
    return proofView(view, current, parts[1], parts[3], Number(parts[5]));
  }
  fill(view, errorBox({code: "not_found", message: `no page ${location.hash}`}));
}

async function checkKey() {
  const state = document.getElementById("key-state");
  if (!key.get()) {
    state.textContent = "";
    return;
  }
  try {
    await api("/v1/jobs?limit=1");
    state.textContent = "✓";
    state.className = "ok";
  } catch (e) {
    state.replaceChildren(errorBox(e));
  }
}

document.getElementById("key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = document.getElementById("key-input");
  key.set(input.value.trim());
  input.value = "";
  checkKey();
  route();
});
window.addEventListener("hashchange", route);
checkKey();
route();
