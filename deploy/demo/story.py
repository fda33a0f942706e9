#!/usr/bin/env python3
"""The scripted search of `make demo`, told from the gateway's own answers: what round 1 found,
what the refinement prompts carried, the round that passed, a rating meta-verification dropped,
and the final selection. Exits 1 (saying which part is missing) when the job did not play the
story out, so a change that breaks it is seen. Usage: story.py GATEWAY_URL API_KEY JOB_ID"""
import json
import sys
import urllib.request

gateway, key, job = sys.argv[1], sys.argv[2], sys.argv[3]


def get(path):
    req = urllib.request.Request(gateway + path, headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def excerpt(text, n=150):
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def ratings(p):
    return [(float(s), r) for s, rs in p.get("score2ratings", {}).items() for r in rs]


result = get(f"/v1/jobs/{job}/result")
problem = result["problems"][0]
pid = problem["problem_id"]
pool, after = [], 0
while True:
    page = get(f"/v1/jobs/{job}/pool/{pid}?after={after}&limit=256")
    pool += page["proofs"]
    if "next_after" not in page:
        break
    after = page["next_after"]
by_id = {p["proof_id"]: p for p in pool}
first = min(p["round_idx"] for p in pool)
missing = []

print(f"problem {pid}: {problem['status']} after {problem['rounds']} rounds, "
      f"{len(pool)} distinct proofs pooled")
round1 = [p for p in pool if p["round_idx"] == first]
best1 = max(p["meanscore"] for p in round1)
passed1 = best1 > 0.99999
print(f"  round 1: {len(round1)} distinct proofs, best mean score {best1:.3f}: "
      + ("one passed" if passed1 else "none passed"))
if passed1:
    missing.append("round 1 found a passing proof")

best = problem.get("best")
winner = by_id.get(best["proof_id"]) if best else None
if not winner or winner["round_idx"] == first or problem["status"] != "solved":
    missing.append("no later round passed")
else:
    deps = winner["dep_proof_ids"]
    named = ", ".join(map(str, deps))
    print(f"  round {winner['round_idx'] - first + 1}: proof {winner['proof_id']} was written from "
          f"a refinement prompt that carried {'proofs' if len(deps) > 1 else 'proof'} {named} "
          "with the analyses of its ratings:")
    for d in deps:
        for s, r in ratings(by_id[d])[:2]:
            print(f"    - proof {d}, scored {s:g}: \"{excerpt(r['rating'], 110)}\"")
    print(f"    it scored {winner['meanscore']:.3f} over {len(ratings(winner))} ratings: passed")

dropped = [(p, r) for p in pool for r in p.get("dropped_ratings", [])]
if not dropped:
    missing.append("meta-verification dropped no rating")
else:
    p, r = dropped[0]
    judged = r["quality"][0]["quality"] if r.get("quality") else ""
    print(f"  meta-verification dropped {len(dropped)} rating(s); e.g. on proof {p['proof_id']} "
          f"the score {r['score']:g} (\"{excerpt(r['rating'], 70)}\"), judged: "
          f"\"{excerpt(judged, 80)}\"")

if winner:
    print(f"  final selection: proof {winner['proof_id']} (mean score {winner['meanscore']:.3f}):")
    for line in winner["proof"].strip().splitlines():
        print("    | " + line)
if missing:
    print("the scripted story did not play out: " + "; ".join(missing), file=sys.stderr)
    sys.exit(1)
