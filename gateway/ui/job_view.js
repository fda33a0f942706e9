// A job: each problem's progress live from the job's events (rounds, pool, best mean score,
// status), the best mean score per round as a chart, and once the job ends its result: the
// meta-verifier's agreement, dead letters with their reasons, the final selection. Cancel and
// export act through the API; every failure shows what the API said.
import {api, events} from "./api.js";
import {roundsChart} from "./charts.js";
import {age, badge, bar, download, errorBox, fill, h, keep, score} from "./dom.js";

function problemIds(spec) {
  return (spec.problems || []).map((p, i) => ({
                                     id: p.problem_idx !== undefined ? String(p.problem_idx) :
                                                                       `p${i}`,
                                     question: p.question || ""
                                   }));
}

export function jobView(root, ctx, jobId) {
  const st = {
    job: null,
    problems: new Map(),
    done: 0,
    open: 0,
    failures: [],
    result: null,
    error: null,
    events: 0
  };
  const head = h("div", {});
  const body = h("div", {});
  fill(root, head, body);
  const problem = (id) => {
    if (!st.problems.has(id)) st.problems.set(id, {id, question: "", rounds: new Map(), pool: 0});
    return st.problems.get(id);
  };

  function on({data: e}) {
    st.events++;
    if (e.type === "round") {
      const p = problem(e.problem);
      if ("best_meanscore" in e) p.rounds.set(e.round, e.best_meanscore);
      if ("pool" in e) p.pool = e.pool;
      p.round = Math.max(p.round || 0, e.round);
    } else if (e.type === "problem_done") {
      Object.assign(
          problem(e.problem),
          {status: e.status, reason: e.reason, pool: e.pool, best: e.best, round: e.rounds});
    } else if (e.type === "result") {
      st.done = e.done;
      st.open = e.open;
      if (e.error) st.failures = [...st.failures.slice(-19), {task: e.task, error: e.error}];
    } else if (e.type === "completed" || e.type === "cancelled") {
      if (st.job) st.job.status = e.type;
      st.open = 0;  // what was open was withdrawn
      loadResult();
    } else if (e.type === "started" && st.job && st.job.status === "queued") {
      st.job.status = "running";
    } else if (e.type === "cancel_requested" && st.job) {
      st.job.cancel_requested = true;
    }
    schedule();
  }

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      render();
    }, 250);
  }

  async function loadResult() {
    try {
      st.result = await api(`/v1/jobs/${jobId}/result`, {signal: ctx.signal});
      for (const p of st.result.problems) {
        // A problem still searching when its job was cancelled ends with the job.
        const status =
            p.status === "running" && st.result.status === "cancelled" ? "cancelled" : p.status;
        Object.assign(
            problem(p.problem_id), {status, reason: p.reason, pool: p.pool_size, round: p.rounds});
      }
    } catch (e) {
      if (e.name !== "AbortError" && e.code !== "job_not_finished") st.error = e;
    }
    schedule();
  }

  async function cancel() {
    if (!confirm(`Cancel ${jobId}?`)) return;
    try {
      await api(`/v1/jobs/${jobId}`, {method: "DELETE", signal: ctx.signal});
      st.job.cancel_requested = true;
    } catch (e) {
      st.error = e;
    }
    render();
  }

  // The page's parts, made once; render() changes only what changed (dom.js keep()).
  const parts = {
    badge: h("span", {}),
    stats: h("span", {}),
    error: h("div", {}),
    rows: h("tbody", {}),
    chart: h("div", {}),
    meta: h("div", {}),
    dead: h("div", {}),
  };
  const cancelButton = h("button", {id: "cancel", class: "danger", onclick: cancel}, "Cancel");
  const exportButton =
      h("button", {
        id: "export",
        onclick: () => download(`${jobId}.result.json`, JSON.stringify(st.result, null, 2))
      },
        "Export result");
  const rowOf = new Map();
  let built = false;

  function build() {
    built = true;
    fill(
        head, h("h1", {}, "Job ", h("span", {id: "job-id"}, jobId), " ", parts.badge),
        h("div", {class: "row"},
          h("div", {}, h("span", {class: "muted"}, "created "), age(st.job.created_at_ms)),
          h("div", {}, h("span", {class: "muted"}, "tasks "), parts.stats),
          h("div", {}, cancelButton, " ", exportButton)),
        parts.error);
    fill(
        body, h("h2", {}, "Problems"),
        h("table", {id: "problems"},
          h("thead", {},
            h("tr", {}, h("th", {}, "Problem"), h("th", {}, "Question"), h("th", {}, "Status"),
              h("th", {class: "num"}, "Round"), h("th", {class: "num"}, "Pool"),
              h("th", {class: "num"}, "Best mean score"), h("th", {class: "num"}, "Meta agreed"))),
          parts.rows),
        h("div", {class: "row"},
          h("div", {class: "card"}, h("h2", {}, "Best mean score per round"), parts.chart),
          h("div", {class: "card", id: "meta"}, h("h2", {}, "Meta-verifier agreement"),
            parts.meta)),
        h("h2", {}, "Dead letters"), parts.dead);
  }

  function problemCells(p, r) {
    const best = r && r.best ? r.best : p.best;
    const pool = `#/job/${jobId}/problem/${encodeURIComponent(p.id)}`;
    return [
      h("td", {}, h("a", {href: pool}, p.id)),
      h("td", {class: "question", title: p.question}, p.question.slice(0, 90)),
      h("td", {}, p.status ? badge(p.status) : h("span", {class: "muted"}, "running")),
      h("td", {class: "num"}, p.round || 0), h("td", {class: "num"}, p.pool || 0),
      h("td", {class: "num best"},
        best ? h("a", {href: `${pool}/proof/${best.proof_id}`}, score(best.meanscore)) :
               score([...p.rounds.values()].filter((x) => x !== null).pop())),
      h("td", {class: "num meta"},
        r && r.meta_verification && r.meta_verification.judged ?
            `${r.meta_verification.agreed}/${r.meta_verification.judged}` :
            "–")
    ];
  }

  function render() {
    const j = st.job;
    if (!j) return;
    if (!built) build();
    const finished = j.status === "completed" || j.status === "cancelled";
    const cancelling = j.cancel_requested && !finished;
    keep(
        parts.badge, `${j.status}/${cancelling}`,
        () => [badge(j.status), cancelling ? h("span", {class: "badge"}, " cancelling") : null]);
    const total = st.done + st.open;
    keep(
        parts.stats, `${st.done}/${st.open}`,
        () => [`${st.done} done, ${st.open} open`, total > 0 ? bar(st.done / total) : null]);
    cancelButton.disabled = finished || !!j.cancel_requested;
    exportButton.disabled = !st.result;
    keep(parts.error, st.error ? st.error.message : "", () => st.error ? errorBox(st.error) : null);
    const results = new Map((st.result ? st.result.problems : []).map((p) => [p.problem_id, p]));
    for (const p of st.problems.values()) {
      if (!rowOf.has(p.id)) {
        rowOf.set(p.id, h("tr", {"data-problem": p.id}));
        parts.rows.append(rowOf.get(p.id));
      }
      const r = results.get(p.id);
      const key = JSON.stringify([
        p.status, p.round, p.pool, p.best, [...p.rounds.entries()], p.question,
        r ? [r.best, r.meta_verification] : null
      ]);
      keep(rowOf.get(p.id), key, () => problemCells(p, r));
    }
    const series =
        [...st.problems.values()].map((p) => ({name: p.id, points: [...p.rounds.entries()]}));
    keep(parts.chart, JSON.stringify(series), () => roundsChart(series));
    keep(
        parts.meta, st.result ? "result" : "",
        () => st.result ? metaSummary(st.result) : h("p", {class: "muted"}, "When the job ends."));
    const dead = st.result ?
        st.result.problems.flatMap(
            (p) => p.dead_letters.map((d) => ({...d, problem: p.problem_id}))) :
        [];
    keep(
        parts.dead, st.result ? `result/${dead.length}` : `failures/${st.failures.length}`,
        () => st.result ?
            (dead.length === 0 ?
                 h("p", {class: "muted", id: "dead-letters"}, "None.") :
                 h("table", {id: "dead-letters"},
                   h("tbody", {},
                     dead.map(
                         (d) =>
                             h("tr", {}, h("td", {}, d.problem), h("td", {}, h("code", {}, d.task)),
                               h("td", {}, d.reason)))))) :
            h("p", {class: "muted"},
              st.failures.length ?
                  `${st.failures.length} failed attempts so far (retried); the last: ${
                      st.failures[st.failures.length - 1].error}` :
                  "When the job ends; no failed attempts so far."));
  }

  function metaSummary(result) {
    let judged = 0, agreed = 0, dropped = 0;
    for (const p of result.problems) {
      judged += p.meta_verification.judged;
      agreed += p.meta_verification.agreed;
      dropped += p.counts.ratings_dropped;
    }
    return h(
        "p", {},
        judged === 0 ? "No rating was meta-verified." :
                       `${agreed} of ${judged} meta-verifications found the rating fair ` +
                `(${Math.round((100 * agreed) / judged)}%); ${dropped} ratings dropped.`);
  }

  (async () => {
    try {
      st.job = await api(`/v1/jobs/${jobId}`, {signal: ctx.signal});
      try {
        const spec = await api(`/v1/jobs/${jobId}/spec`, {signal: ctx.signal});
        for (const p of problemIds(spec)) problem(p.id).question = p.question;
      } catch (e) {
        if (e.code !== "job_not_started") throw e;  // queued: problems show as events come
      }
      render();
      if (st.job.status === "completed" || st.job.status === "cancelled") loadResult();
      await events(jobId, on, ctx.signal);
    } catch (e) {
      if (e.name === "AbortError") return;
      fill(head, h("h1", {}, "Job ", jobId), errorBox(e));
    }
  })();
}
