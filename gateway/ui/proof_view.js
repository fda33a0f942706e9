// A proof: its text with the math rendered, its ratings grouped by score (highest first), each
// analysis readable with the meta-verifier's judgements beside it, the ratings meta-verification
// dropped, and the proofs it was refined from as links.
import {api} from "./api.js";
import {errorBox, fill, h, score} from "./dom.js";
import {mathText} from "./math.js";

function scoreClass(s) {
  return s >= 1 ? "s1" : s > 0 ? "s05" : "s0";
}

function rating(r, s, dropped) {
  return h(
      "div", {class: `rating ${scoreClass(s)}${dropped ? " dropped" : ""}`},
      h("div", {class: "meta"}, `score ${s}`, dropped ? " · dropped by meta-verification" : "",
        (r.quality || []).length ?
            ` · meta-verified: ${(r.quality || []).map((q) => q.score).join(", ")}` :
            ""),
      mathText(r.rating || "", "analysis"),
      (r.quality || [])
          .map(
              (q, i) =>
                  h("details", {},
                    h("summary", {class: "meta"}, `meta-verification ${i + 1}: ${q.score}`),
                    mathText(q.quality || "", "analysis"))));
}

export function proofView(root, ctx, jobId, problemId, proofId) {
  const pool = `#/job/${jobId}/problem/${encodeURIComponent(problemId)}`;
  fill(root, h("p", {class: "muted"}, "Loading…"));
  api(`/v1/jobs/${jobId}/pool/${encodeURIComponent(problemId)}?after=${proofId - 1}&limit=1`,
      {signal: ctx.signal})
      .then((page) => {
        const p = page.proofs[0];
        if (!p || p.proof_id !== proofId) {
          fill(
              root,
              errorBox({code: "proof_not_found", message: `no proof ${proofId} in ${problemId}`}));
          return;
        }
        const groups =
            Object.entries(p.score2ratings || {}).sort((a, b) => Number(b[0]) - Number(a[0]));
        fill(
            root,
            h("h1", {}, h("a", {href: `#/job/${jobId}`}, jobId), " / ",
              h("a", {href: pool}, problemId), " / proof ",
              h("span", {id: "proof-id"}, p.proof_id)),
            h("div", {class: "row"},
              h("div", {}, h("span", {class: "muted"}, "mean score "),
                h("b", {id: "meanscore"}, score(p.meanscore))),
              h("div", {}, h("span", {class: "muted"}, "round "), p.round_idx),
              h("div", {}, h("span", {class: "muted"}, "self-evaluation "),
                score(p.self_eval && p.self_eval.self_eval_score)),
              h("div", {id: "deps"}, h("span", {class: "muted"}, "refined from "),
                (p.dep_proof_ids || []).length === 0 ?
                    "none (a first-round proof)" :
                    p.dep_proof_ids.map(
                        (d, i) =>
                            [i ? ", " : "", h("a", {href: `${pool}/proof/${d}`}, `proof ${d}`)]))),
            h("h2", {}, "Proof"), mathText(p.proof || "", "proof"),
            p.self_eval && p.self_eval.self_eval ?
                [h("h2", {}, "Self-evaluation"), mathText(p.self_eval.self_eval, "proof")] :
                null,
            h("h2", {}, "Ratings"),
            groups.length === 0 ? h("p", {class: "muted"}, "None.") :
                                  groups.map(
                                      ([s, list]) =>
                                          h("section", {class: "score-group", "data-score": s},
                                            h("h2", {}, `Score ${s} (${list.length})`),
                                            list.map((r) => rating(r, Number(s), false)))),
            (p.dropped_ratings || []).length ?
                [
                  h("h2", {}, "Dropped ratings"),
                  p.dropped_ratings.map((r) => rating(r, r.score, true))
                ] :
                null);
      })
      .catch((e) => {
        if (e.name !== "AbortError") fill(root, errorBox(e));
      });
}
