#!/usr/bin/env python3
"""Prints bench/engine's table from the ours-*.jsonl and peer-*.jsonl files in the folder given."""
import json
import pathlib
import sys

TARGETS = {  # issue #13's targets, where it sets one
    ("llama-3-8b", "decode", 1): ("tok/s", 240),
    ("llama-3.2-1b", "decode", 1): ("tok/s", 1150),
    ("llama-3-8b", "decode", 256): ("tok/s", 25000),
    ("llama-3-8b", "offline", 256): ("tok/s", 18000),
    ("llama-3-8b", "offline_fp8", 256): ("tok/s", 24000),
}


def rows(folder, prefix):
    out = {}
    for path in sorted(folder.glob(f"{prefix}-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.startswith("{"):
                r = json.loads(line)
                out[(r["model"], r["case"], r["bs"])] = r
    return out


def fmt(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def main():
    d = pathlib.Path(sys.argv[1])
    ours, peer = rows(d, "ours"), rows(d, "peer")
    print(f"\n{'model':13} {'case':13} {'bs':>4} {'proofmesh':>10} {'peer':>10} {'ratio':>6} "
          f"{'roofline':>9} {'of roof':>8} {'target':>8}  unit / notes")
    for key in sorted(ours, key=lambda k: (k[0], k[1] != "decode", k[1], k[2])):
        model, case, bs = key
        # The FP8 cache's offline row stands against the same peer as the bf16 one.
        r, p = ours[key], peer.get((model, "offline", bs) if case == "offline_fp8" else key, {})
        target = TARGETS.get(key, (None, None))[1]
        if case == "fanout":
            # One 4K prefill, from the same case: ours against transformers' (target 105 ms, 8B).
            speed = p.get("one_prefill_ms") and p["one_prefill_ms"] / r["one_prefill_ms"]
            print(f"{model:13} {'prefill_4k':13} {1:>4} {r['one_prefill_ms']:>10.1f} "
                  f"{fmt(p.get('one_prefill_ms')):>10} {fmt(speed, '.2f'):>6} {'':>9} {'':>8} "
                  f"{'105' if model == 'llama-3-8b' else '-':>8}  ms for one 4,096-token prompt "
                  f"(lower is better; ratio: peer / ours)")
            ratio = p.get("ratio") and p["ratio"] / r["ratio"]
            print(f"{model:13} {case:13} {bs:>4} {r['ratio']:>10.3f} {fmt(p.get('ratio'), '.3f'):>10} "
                  f"{fmt(ratio, '.1f'):>6} {'':>9} {'':>8} {'1.1':>8}  64-sample prefill / one "
                  f"prefill (lower is better; ours {r['fanout_prefill_ms']:.1f} ms vs "
                  f"{r['one_prefill_ms']:.1f} ms)")
            continue
        ptok = p.get("tok_s")
        ratio = ptok and r["tok_s"] / ptok
        roof = r.get("roofline_tok_s")
        of_roof = roof and 100 * r["tok_s"] / roof
        notes = "tok/s"
        if case in ("offline", "offline_fp8"):
            if case == "offline_fp8" and (model, "offline", bs) in ours:
                b = ours[(model, "offline", bs)]
                notes += (f"; FP8 KV cache: {r['tok_s'] / b['tok_s']:.2f}x our bf16 cache, "
                          f"{r.get('kv_blocks', '-')} blocks vs {b.get('kv_blocks', '-')}, "
                          f"{r['preemptions']} preemptions vs {b['preemptions']}")
            notes += (f"; TTFT p50 {r['ttft_ms_p50']:.0f} ms vs {fmt(p.get('ttft_ms_p50'), '.0f')}, "
                      f"TPOT p50 {r['tpot_ms_p50']:.2f} ms vs {fmt(p.get('tpot_ms_p50'), '.2f')}; "
                      f"peer ran {p.get('out', '-')} out")
        elif case in ("decode_eager", "decode_greedy"):
            notes += ("; CUDA graphs off" if case == "decode_eager" else "; greedy, no top-p") + \
                " (ours vs ours with graphs and top-p)"
            g = ours.get((model, "decode", bs))
            ptok = g and g["tok_s"]
            ratio = ptok and r["tok_s"] / ptok
        else:
            if case == "decode_long":  # the target is 80% of its own roofline (weights + KV)
                target = roof and int(0.8 * roof)
                notes += f"; context {r.get('ctx', '-')}"
            notes += f"; TPOT {r['tpot_ms']:.2f} ms vs {fmt(p.get('tpot_ms'), '.2f')}"
            if p.get("peer"):
                notes += f"; peer: {p['peer']}"
        print(f"{model:13} {case:13} {bs:>4} {r['tok_s']:>10.1f} {fmt(ptok):>10} "
              f"{fmt(ratio, '.2f'):>6} {fmt(roof, '.0f'):>9} {fmt(of_roof, '.1f'):>7}% "
              f"{fmt(target, 'd'):>8}  {notes}")
    for path in sorted(d.glob("peer-*.jsonl")):
        for line in path.read_text().splitlines():
            if '"transformers-error"' in line:
                print("peer error:", line)


if __name__ == "__main__":
    main()
