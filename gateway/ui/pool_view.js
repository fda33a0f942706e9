// A problem's pool: its score histogram (one call, whatever the pool's size) and its proofs a
// page at a time, by proof id, each linking to its own page.
import {api} from "./api.js";
import {histogram} from "./charts.js";
import {errorBox, fill, h, score} from "./dom.js";

const PAGE = 50;

export function poolView(root, ctx, jobId, problemId, after = 0) {
  const chart = h("div", {class: "card", id: "histogram"}, h("p", {class: "muted"}, "Loading…"));
  const list = h("div", {});
  fill(
      root, h("h1", {}, h("a", {href: `#/job/${jobId}`}, jobId), " / ", problemId),
      h("div", {class: "row"}, chart), h("h2", {}, "Proofs"), list);
  const base = `/v1/jobs/${jobId}/pool/${encodeURIComponent(problemId)}`;

  api(`${base}/scores`, {signal: ctx.signal})
      .then((s) => fill(chart, h("h2", {}, `Mean scores of ${s.total} proofs`), histogram(s.bins)))
      .catch((e) => {
        if (e.name !== "AbortError") fill(chart, errorBox(e));
      });

  const here = (a) =>
      `#/job/${jobId}/problem/${encodeURIComponent(problemId)}${a ? `?after=${a}` : ""}`;
  api(`${base}?after=${after}&limit=${PAGE}`, {signal: ctx.signal})
      .then((page) => {
        fill(
            list,
            page.proofs.length === 0 ?
                h("p", {class: "muted"}, "No proofs pooled yet.") :
                h("table", {id: "pool"},
                  h("thead", {},
                    h("tr", {}, h("th", {class: "num"}, "Proof"), h("th", {class: "num"}, "Round"),
                      h("th", {class: "num"}, "Mean score"), h("th", {class: "num"}, "Ratings"),
                      h("th", {class: "num"}, "Self-eval"), h("th", {}, "From"),
                      h("th", {}, "Begins"))),
                  h("tbody", {}, page.proofs.map((p) => {
                    const ratings =
                        Object.values(p.score2ratings || {}).reduce((n, l) => n + l.length, 0);
                    return h(
                        "tr", {"data-proof": p.proof_id},
                        h("td", {class: "num"},
                          h("a", {
                            href: `#/job/${jobId}/problem/${encodeURIComponent(problemId)}/proof/${
                                p.proof_id}`
                          },
                            p.proof_id)),
                        h("td", {class: "num"}, p.round_idx),
                        h("td", {class: "num"}, score(p.meanscore)),
                        h("td", {class: "num"}, ratings),
                        h("td", {class: "num"}, score(p.self_eval && p.self_eval.self_eval_score)),
                        h("td", {}, (p.dep_proof_ids || []).join(", ")),
                        h("td", {class: "muted"}, String(p.proof || "").slice(0, 80)));
                  }))),
            h("div", {class: "pager"},
              h("a", {href: here(Math.max(0, after - PAGE)), hidden: after === 0}, "← previous"),
              h("span", {class: "muted"},
                `${Math.min(page.total, after + 1)}–${Math.min(page.total, after + PAGE)} of ${
                    page.total}`),
              page.next_after ? h("a", {href: here(page.next_after)}, "next →") : null));
      })
      .catch((e) => {
        if (e.name !== "AbortError") fill(list, errorBox(e));
      });
}
