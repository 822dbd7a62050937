#!/usr/bin/env python3
"""Two `pagewise serve` replicas on two loopback ports, one shared-prefix chat workload sent twice:
once spread round-robin, once by prefix (as the Gateway API Inference Extension's approximate prefix
scorer does), the replicas restarted in between so both runs start with empty caches. The prefix
cache hit rate of each run is read from the replicas' own /metrics:

    hit rate = sum(vllm:prefix_cache_hits_total) / sum(vllm:prefix_cache_queries_total) over both replicas

and prefix routing must beat round-robin clearly (--min-gain). The KV pools are kept small
(--kv-cache-memory) so that one replica cannot keep every group's prefix: round-robin sends every
group to both replicas and they evict each other's prefixes; routing by prefix gives each replica half
of the groups.

The prefix router follows the extension's scheme (pkg/epp/.../approximateprefix: hashing.go, indexer):
the request's messages, as JSON, are cut into blocks of block_size_tokens x 4 characters; block i's
hash covers its characters and block i-1's hash (the first is seeded with the model name), so equal
hashes mean equal prefixes; an index remembers, per replica and LRU-bounded, which block hashes it was
sent. A request goes to the replica holding the longest run of its leading blocks; with no match (or
a tie) to the replica with the fewest requests in flight, then the fewest sent. It hashes with
BLAKE2b-64 where the extension uses xxHash64 (only equality matters here; the standard library has
no xxHash).

    python3 scripts/test_prefix_routing.py --pagewise .build/release/pagewise

Standard library only. Prints both hit rates; exits 1 when prefix routing does not win by --min-gain.
"""
import argparse
import collections
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import free_port, wait_healthy  # noqa: E402

NAME = "smol"
CHARS_PER_TOKEN = 4  # the extension's averageCharactersPerToken


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def post(url, body, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Replicas:
    """`count` servers, each with its own small KV pool; stopped with SIGTERM."""

    def __init__(self, binary, model, count, kv_memory, threads):
        self.procs, self.bases = [], []
        log = open(os.environ.get("PAGEWISE_SERVER_LOG", os.devnull), "a")
        for _ in range(count):
            port = free_port()
            args = [binary, "serve", "--model", model, "--port", str(port), "--served-model-name", NAME,
                    "--threads", str(threads), "--max-num-seqs", "4", "--max-model-len", "512",
                    "--kv-cache-memory", kv_memory, "--grace-period", "5"]
            self.procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT))
            self.bases.append(f"http://127.0.0.1:{port}")
        start = time.monotonic()
        for proc, base in zip(self.procs, self.bases):
            try:
                wait_healthy(proc, base, timeout=max(0.0, 180 - (time.monotonic() - start)), name=f"replica {base}")
            except RuntimeError:
                self.stop()
                raise

    def metric(self, base, name):
        total = 0.0
        for line in get(base + "/metrics").splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def block_hashes(messages, block_tokens, max_blocks, model=NAME):
    """The extension's chained block hashes of a chat request (a trailing partial block counts too)."""
    text = json.dumps(messages, separators=(",", ":")).encode()
    size = block_tokens * CHARS_PER_TOKEN
    if len(text) < size:
        return []
    text = text[:size * max_blocks]
    previous = hashlib.blake2b(model.encode(), digest_size=8).digest()
    hashes = []
    for i in range(0, len(text), size):
        previous = hashlib.blake2b(text[i:i + size] + previous, digest_size=8).digest()
        hashes.append(previous)
    return hashes


class PrefixRouter:
    """Longest indexed prefix wins; ties and misses go to the least busy replica."""

    def __init__(self, count, block_tokens, capacity_blocks, max_blocks=256):
        self.block_tokens, self.max_blocks = block_tokens, max_blocks
        self.index = [collections.OrderedDict() for _ in range(count)]  # per replica: block hash -> None, LRU order
        self.capacity = capacity_blocks
        self.in_flight = [0] * count
        self.sent = [0] * count
        self.lock = threading.Lock()

    def pick(self, messages):
        hashes = block_hashes(messages, self.block_tokens, self.max_blocks)
        with self.lock:
            def matched(r):
                n = 0
                for h in hashes:
                    if h not in self.index[r]:
                        break
                    n += 1
                return n
            scores = [matched(r) for r in range(len(self.index))]
            r = min(range(len(self.index)), key=lambda i: (-scores[i], self.in_flight[i], self.sent[i], i))
            for h in hashes:
                self.index[r][h] = None
                self.index[r].move_to_end(h)
            while len(self.index[r]) > self.capacity:
                self.index[r].popitem(last=False)
            self.in_flight[r] += 1
            self.sent[r] += 1
            return r

    def done(self, r):
        with self.lock:
            self.in_flight[r] -= 1


class RoundRobin:
    def __init__(self, count):
        self.count, self.next, self.sent = count, 0, [0] * count
        self.lock = threading.Lock()

    def pick(self, messages):
        with self.lock:
            r = self.next
            self.next = (self.next + 1) % self.count
            self.sent[r] += 1
            return r

    def done(self, r):
        pass


TOPICS = ["astronomy", "baking", "chess", "dentistry", "electronics", "forestry", "geology", "harbours",
          "ice hockey", "jazz", "knitting", "lighthouses", "meteorology", "numismatics", "origami", "pottery"]


def workload(groups, turns, seed):
    """`groups` long system prompts (~250 tokens each) x `turns` short questions, shuffled."""
    rng = random.Random(seed)
    words = ("answer questions carefully with precise facts and short sentences keeping every reply polite "
             "friendly accurate helpful clear and grounded in the documents provided by the team").split()
    requests = []
    for g in range(groups):
        topic = TOPICS[g % len(TOPICS)]
        filler = " ".join(rng.choice(words) for _ in range(150))
        system = (f"You are the {topic} desk assistant (desk {g}). Team handbook, section {g}: {filler}. "
                  f"Always mention {topic} when it helps.")
        for t in range(turns):
            question = f"Question {t} for the {topic} desk: name one fact about {topic} number {rng.randint(1, 999)}."
            requests.append([{"role": "system", "content": system}, {"role": "user", "content": question}])
    rng.shuffle(requests)
    return requests


def run(args, policy_name, requests):
    replicas = Replicas(args.pagewise, args.model, 2, args.kv_cache_memory, args.threads)
    try:
        router = RoundRobin(2) if policy_name == "round-robin" else PrefixRouter(2, args.block_size, args.index_blocks)
        start = time.time()

        def one(messages):
            r = router.pick(messages)
            try:
                post(replicas.bases[r] + "/v1/chat/completions",
                     {"model": NAME, "messages": messages, "max_tokens": args.max_tokens, "temperature": 0})
            finally:
                router.done(r)

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(one, requests))
        elapsed = time.time() - start
        hits = sum(replicas.metric(b, "vllm:prefix_cache_hits_total") for b in replicas.bases)
        queries = sum(replicas.metric(b, "vllm:prefix_cache_queries_total") for b in replicas.bases)
    finally:
        replicas.stop()
    if queries <= 0:
        raise RuntimeError("the replicas counted no prefix-cache queries")
    return hits / queries, hits, queries, router.sent, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pagewise", default=".build/release/pagewise")
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--groups", type=int, default=8, help="distinct long system prompts")
    ap.add_argument("--turns", type=int, default=5, help="requests per system prompt")
    ap.add_argument("--max-tokens", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="engine threads per replica")
    ap.add_argument("--kv-cache-memory", default="32MiB", help="each replica's KV pool")
    ap.add_argument("--block-size", type=int, default=16, help="the replicas' KV block size, in tokens")
    ap.add_argument("--index-blocks", type=int, default=31250,
                    help="block hashes the router remembers per replica (the extension's lruCapacityPerServer default)")
    ap.add_argument("--min-gain", type=float, default=0.10, help="prefix routing's hit rate must exceed round-robin's by this")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    requests = workload(args.groups, args.turns, args.seed)
    print(f"{len(requests)} requests: {args.groups} system prompts x {args.turns} questions, shuffled; "
          f"2 replicas, {args.kv_cache_memory} KV each, concurrency {args.concurrency}")
    results = {}
    for policy in ("round-robin", "prefix"):
        rate, hits, queries, sent, elapsed = run(args, policy, requests)
        results[policy] = rate
        print(f"{policy:12s} hit rate {rate:6.1%}  ({int(hits)} of {int(queries)} prompt tokens cached; "
              f"requests per replica {sent}; {elapsed:.1f} s)", flush=True)
    gain = results["prefix"] - results["round-robin"]
    ok = gain >= args.min_gain
    print(f"prefix routing gains {gain:+.1%} hit rate over round-robin ({'ok' if ok else f'FAIL: wanted ≥ {args.min_gain:.0%}'})")
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
