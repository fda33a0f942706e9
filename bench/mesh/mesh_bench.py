#!/usr/bin/env python3
"""bench/mesh: what the mesh itself costs per task, through the whole path
gateway -> Redis -> coordinator -> worker (the real engine) -> Redis -> gateway -> client.

It starts `proofmesh up` on loopback with a scripted tiny model (so every output parses, as a
real model's would), then measures with max_tokens 1, so the engine's own work is as small as it
gets and what remains is the mesh:
- latency: one-task jobs, one at a time: POST /v1/jobs, then the job's SSE stream until
  `completed`. Per task, end to end, and the engine's own time for it (the worker reports it);
  the overhead is the difference. p50 and p99.
- throughput: one job of many one-task proofs, and several such jobs at once: tasks per second
  from POST to `completed`, and how busy the engine slots were.
- completions under load: one-token chat completions (POST /v1/chat/completions, answered
  whole), one at a time, on an idle mesh and then behind a job whose tasks fill every slot and
  leave a backlog queued: what a person waits for while a search runs.
The peer is the engine alone: its per-task time is printed beside the end-to-end time, and the
ratio says what the mesh adds. Standard library only; nothing is asserted, it prints figures.
Usage: mesh_bench.py BUILD_DIR [--latency-jobs N] [--throughput-tasks N] [--generators N]
                     [--slots N] [--backend cpu|cuda]
"""
import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

SCRIPT = ("</think>\n## Solution\nBy the scripted argument, the claim holds.\n"
          "## Self Evaluation\nHere is my evaluation of the solution: sound.\n\\boxed{1}")


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Gateway:
    def __init__(self, port, key):
        self.port, self.key = port, key

    def post_job(self, job):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("POST", "/v1/jobs", json.dumps(job),
                  {"Authorization": "Bearer " + self.key, "Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        c.close()
        if r.status != 202:
            raise RuntimeError("POST /v1/jobs: %d %s" % (r.status, body[:200]))
        return json.loads(body)["id"]

    def chat(self):
        """One chat completion of one token, answered whole; returns its seconds."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        body = {"model": "proofmesh-generator", "max_tokens": 1,
                "messages": [{"role": "user", "content": "Say yes."}]}
        t0 = time.perf_counter()
        c.request("POST", "/v1/chat/completions", json.dumps(body),
                  {"Authorization": "Bearer " + self.key, "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            raise RuntimeError("POST /v1/chat/completions: %d" % r.status)
        return time.perf_counter() - t0

    def events(self, job_id):
        """Yields (type, data) of the job's SSE stream until its last event."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        c.request("GET", "/v1/jobs/%s/events" % job_id,
                  headers={"Authorization": "Bearer " + self.key})
        r = c.getresponse()
        if r.status != 200:
            raise RuntimeError("events: %d" % r.status)
        kind, data = "", ""
        while True:
            line = r.fp.readline()
            if not line:
                break
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
            elif line == "" and data:
                yield kind, json.loads(data)
                if kind in ("completed", "cancelled"):
                    break
                kind, data = "", ""
        c.close()


def one_task_job(n=1):
    """A job of n one-token generations: n proofs, split over problems of at most 1,000 each
    (a job's limit is 1,024 proofs per problem)."""
    problems = (n + 999) // 1000
    return {"problems": [{"question": "Prove that %d = %d." % (i, i)} for i in range(problems)],
            "strategy": "quick",
            # One round, and no re-run of a round that pooled nothing: a one-token output is
            # cut at the length limit, so nothing is ever pooled, and each task runs once.
            "params": {"num_proofs": n // problems, "verifications_per_proof": 0,
                       "max_tokens": 1, "max_rounds": 1, "empty_round_retries": 0}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--latency-jobs", type=int, default=200)
    ap.add_argument("--throughput-tasks", type=int, default=2000)
    ap.add_argument("--parallel-jobs", type=int, default=8)
    ap.add_argument("--generators", type=int, default=2)
    ap.add_argument("--slots", type=int, default=16)
    ap.add_argument("--backend", default="cpu", help="the workers' backend: cpu or cuda")
    ap.add_argument("--completions", type=int, default=20,
                    help="chat completions timed, idle and under a job's backlog")
    ap.add_argument("--backlog-tasks", type=int, default=2000)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="mesh-bench-")
    with open(os.path.join(tmp, "script.txt"), "w") as f:
        f.write(SCRIPT)
    subprocess.run([build + "/proofmesh", "model", "init", "--arch", "llama", "--out",
                    tmp + "/model", "--script-file", tmp + "/script.txt"], check=True,
                   stderr=subprocess.DEVNULL)
    base = 20000 + random.randrange(20000)
    up = subprocess.Popen(
        [build + "/proofmesh", "up", "--model", tmp + "/model", "--log-dir", tmp + "/mesh",
         "--redis-port", str(base), "--base-port", str(base + 1), "--gateway-port",
         str(base + 4), "--generators", str(args.generators), "--verifiers", "0",
         "--meta-verifiers", "0", "--slots", str(args.slots), "--backend", args.backend],
        stdout=open(tmp + "/up.out", "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            if "mesh up" in open(tmp + "/up.out").read():
                break
            if up.poll() is not None:
                sys.exit("proofmesh up failed:\n" + open(tmp + "/up.out").read())
            time.sleep(0.1)
        gw = Gateway(base + 4, open(tmp + "/mesh/api.key").read().strip())
        cores = os.cpu_count()
        print("== bench/mesh: %d generator(s) x %d slots, scripted tiny model on the %s backend, "
              "max_tokens 1, %d cores, loopback" % (args.generators, args.slots, args.backend,
                                                    cores))

        # Latency: one one-task job at a time.
        e2e, engine = [], []
        for i in range(args.latency_jobs + 10):
            t0 = time.perf_counter()
            job = gw.post_job(one_task_job())
            elapsed = None
            for kind, data in gw.events(job):
                if kind == "result":
                    elapsed = data.get("elapsed_ms", 0)
            t1 = time.perf_counter()
            if i >= 10:  # the first ones warm caches and connections
                e2e.append((t1 - t0) * 1000.0)
                engine.append(float(elapsed))
        overhead = [a - b for a, b in zip(e2e, engine)]
        print("latency, %d one-task jobs in sequence (POST to `completed` over SSE):"
              % args.latency_jobs)
        print("  %-34s %9s %9s" % ("", "p50 ms", "p99 ms"))
        print("  %-34s %9.2f %9.2f" % ("mesh, end to end", percentile(e2e, 50),
                                       percentile(e2e, 99)))
        print("  %-34s %9.2f %9.2f" % ("peer: the engine alone (worker)", percentile(engine, 50),
                                       percentile(engine, 99)))
        print("  %-34s %9.2f %9.2f" % ("overhead of the mesh", percentile(overhead, 50),
                                       percentile(overhead, 99)))
        print("  ratio end to end / engine alone at p50: %.1fx"
              % (percentile(e2e, 50) / max(percentile(engine, 50), 0.001)))

        # Throughput: one big job, then several at once.
        for jobs in (1, args.parallel_jobs):
            job = one_task_job(args.throughput_tasks // jobs)
            per_job = len(job["problems"]) * job["params"]["num_proofs"]
            t0 = time.perf_counter()
            ids = [gw.post_job(job) for _ in range(jobs)]
            busy_ms = 0.0
            for job in ids:
                for kind, data in gw.events(job):
                    if kind == "result":
                        busy_ms += data.get("elapsed_ms", 0)
            wall = time.perf_counter() - t0
            tasks = per_job * jobs
            slots = args.generators * args.slots
            print("throughput, %d job(s) x %d tasks: %.0f tasks/s; engine slots busy %.0f%% of "
                  "the time (%d slots)" % (jobs, per_job, tasks / wall,
                                          100.0 * busy_ms / 1000.0 / (wall * slots), slots))

        # Completions, idle, then behind a job's backlog (tasks of 64 tokens, queued past the
        # slots).
        idle = [gw.chat() for _ in range(args.completions)]
        job = one_task_job(args.backlog_tasks)
        job["params"]["max_tokens"] = 64
        backlog = gw.post_job(job)
        time.sleep(1.0)  # its tasks are out and queued
        loaded = [gw.chat() for _ in range(args.completions)]
        for _ in gw.events(backlog):
            pass
        print("completions (1 token, answered whole), %d idle and %d behind a job of %d tasks "
              "on %d slots:" % (len(idle), len(loaded), args.backlog_tasks,
                                args.generators * args.slots))
        print("  %-34s %9s %9s" % ("", "p50 ms", "p99 ms"))
        for name, xs in (("idle mesh", idle), ("under the job's backlog", loaded)):
            print("  %-34s %9.2f %9.2f" % (name, 1000 * percentile(xs, 50),
                                           1000 * percentile(xs, 99)))
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=120)


if __name__ == "__main__":
    main()
