#!/usr/bin/env python3
"""Writes the small schema fixtures that scripts/validate_k8s_manifests.py checks deploy/kubernetes/ against,
and the list of metrics the Gateway API Inference Extension's endpoint picker reads from a vLLM server.

Everything comes from published upstream files, read from git checkouts (bare mirrors work: files are read
with `git show COMMIT:PATH`) and from the `kubernetes-validate` wheel of PyPI:

  kubernetes core   kubernetes-validate==1.37.0 (PyPI), kubernetes-json-schema/v1.37.0-local-strict/
                    (Kubernetes 1.37's OpenAPI, strict: unknown fields are errors, as `kubectl --validate=strict`)
  InferencePool     kubernetes-sigs/gateway-api-inference-extension config/crd/bases/inference.networking.k8s.io_inferencepools.yaml
  Gateway, HTTPRoute kubernetes-sigs/gateway-api config/crd/standard/gateway.networking.k8s.io_{gateways,httproutes}.yaml
  PodMonitor        prometheus-operator/prometheus-operator example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml
  picker metrics    llm-d/llm-d-router (the extension's endpoint picker now lives there; the extension's own repository
                    keeps only a lightweight round-robin picker for conformance tests):
                    pkg/epp/framework/plugins/datalayer/extractor/metrics/{factories.go,extractor.go};
                    metric types from the extension's docs/proposals/003-model-server-protocol/README.md

Only the definitions reachable from the kinds we use are kept, without their descriptions, so the fixtures stay
small. Usage:

  pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv
  scripts/gen_k8s_schema_fixtures.py --kubernetes-validate /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl \\
      --inference-extension GAIE_GIT_DIR --gateway-api GATEWAY_API_GIT_DIR \\
      --prometheus-operator PROMETHEUS_OPERATOR_GIT_DIR --llm-d-router LLM_D_ROUTER_GIT_DIR
"""
import argparse
import json
import os
import re
import subprocess
import sys
import zipfile

import yaml

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "PagewiseServerTests", "Fixtures", "kubernetes")
K8S_VERSION = "v1.37.0-local-strict"
CORE_KINDS = {  # apiVersion kind -> definition name in the Kubernetes OpenAPI
    "apps/v1 Deployment": "io.k8s.api.apps.v1.Deployment",
    "v1 Service": "io.k8s.api.core.v1.Service",
}
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
CRDS = [  # (source name, path in its repository, version to keep)
    ("inference-extension", "config/crd/bases/inference.networking.k8s.io_inferencepools.yaml", "v1"),
    ("gateway-api", "config/crd/standard/gateway.networking.k8s.io_gateways.yaml", "v1"),
    ("gateway-api", "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml", "v1"),
    ("prometheus-operator", "example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml", "v1"),
]
UPSTREAM = {
    "inference-extension": "github.com/kubernetes-sigs/gateway-api-inference-extension",
    "gateway-api": "github.com/kubernetes-sigs/gateway-api",
    "prometheus-operator": "github.com/prometheus-operator/prometheus-operator",
    "llm-d-router": "github.com/llm-d/llm-d-router",
}
EXTRACTOR = "pkg/epp/framework/plugins/datalayer/extractor/metrics"
PROTOCOL_DOC = "docs/proposals/003-model-server-protocol/README.md"


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def git_dir(path):
    """A work tree's .git, or a bare repository as given."""
    return os.path.join(path, ".git") if os.path.isdir(os.path.join(path, ".git")) else path


def strip(node):
    """Drops descriptions (documentation only) to keep fixtures small."""
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node, found):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str):
            found.add(r.rsplit("/", 1)[-1])
        for v in node.values():
            refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def local_refs(node):
    """`/api/_definitions.json#/$defs/X` -> `#/$defs/X`: one self-contained document."""
    if isinstance(node, dict):
        return {k: (("#/$defs/" + v.rsplit("/", 1)[-1]) if k == "$ref" and isinstance(v, str) else local_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [local_refs(v) for v in node]
    return node


def kubernetes_core(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = f"kubernetes_validate/kubernetes-json-schema/{K8S_VERSION}/_definitions.json"
        defs = json.loads(z.read(name))["$defs"]
    keep, todo = {}, list(CORE_KINDS.values()) + [OBJECT_META]
    while todo:
        n = todo.pop()
        if n in keep:
            continue
        keep[n] = strip(defs[n])
        found = set()
        refs(defs[n], found)
        todo.extend(found - keep.keys())
    return {
        "_source": f"kubernetes-validate {os.path.basename(wheel)} (PyPI), kubernetes-json-schema/{K8S_VERSION}/_definitions.json; "
                   "descriptions removed, only definitions reachable from `kinds`. Made by scripts/gen_k8s_schema_fixtures.py.",
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "kinds": {k: {"$ref": f"#/$defs/{v}"} for k, v in CORE_KINDS.items()},
        "objectMeta": {"$ref": f"#/$defs/{OBJECT_META}"},
        "$defs": local_refs(dict(sorted(keep.items()))),
    }


def crds(repos):
    out = {"_source": "openAPIV3Schema of each CRD, descriptions removed; see `sources`. Made by scripts/gen_k8s_schema_fixtures.py.",
           "sources": {}, "kinds": {}}
    for source, path, version in CRDS:
        repo = repos[source]
        commit = git(repo, "rev-parse", "HEAD").strip()
        crd = yaml.safe_load(git(repo, "show", f"{commit}:{path}"))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        (v,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
        key = f"{group}/{version} {kind}"
        out["kinds"][key] = strip(v["schema"]["openAPIV3Schema"])
        out["sources"][key] = f"{UPSTREAM[source]}/blob/{commit}/{path}"
    return out


def picker_metrics(router, extension):
    commit = git(router, "rev-parse", "HEAD").strip()
    factories = git(router, "show", f"{commit}:{EXTRACTOR}/factories.go")
    extractor = git(router, "show", f"{commit}:{EXTRACTOR}/extractor.go")
    block = re.search(r'\{\s*Name:\s*"vllm",(.*?)\n\t\}', factories, re.S)
    if not block:
        sys.exit("no vllm engine config in factories.go")
    spec = dict(re.findall(r'(\w+Spec):\s*"([^"]*)"', block.group(1)))
    const = dict(re.findall(r'(\w+MetricName)\s*=\s*"([^"]*)"', extractor))
    ext_commit = git(extension, "rev-parse", "HEAD").strip()
    doc = git(extension, "show", f"{ext_commit}:{PROTOCOL_DOC}")

    def doc_type(metric):  # the protocol table's Type column for the row naming `metric`
        for line in doc.splitlines():
            if line.startswith("|") and f"`{metric}`" in line:
                t = line.split("|")[2].strip().lower()
                return "gauge" if "gauge" in t else t
        m = re.search(rf"`{re.escape(metric)}`.*?Metric type:\s*(\w+)", doc, re.S)
        return m.group(1).lower() if m else None

    # vLLM's own label on its scheduler gauges (vllm/v1/metrics/loggers.py: labelnames = ["model_name", "engine"]);
    # the picker matches no label on them, Pagewise carries model_name as vLLM does.
    vllm_labels = ["model_name"]
    metrics = [
        {"role": "queue", "name": spec["QueuedRequestsSpec"], "labels": vllm_labels, "required": True},
        {"role": "running", "name": spec["RunningRequestsSpec"], "labels": vllm_labels, "required": True},
        {"role": "kv_usage", "name": spec["KVUsageSpec"], "labels": vllm_labels, "required": True, "range": [0, 1]},
        {"role": "cache_info", "name": spec["CacheInfoSpec"], "required": True, "value": 1,
         "integer_labels": [const["CacheConfigBlockSizeInfoMetricName"], const["CacheConfigNumGPUBlocksMetricName"]]},
        # Only servers that serve LoRA adapters export it (the picker skips a missing one without an error).
        {"role": "lora", "name": spec["LoRASpec"], "required": False,
         "labels": [const["LoraInfoMaxAdaptersMetricName"], const["LoraInfoRunningAdaptersMetricName"],
                    const["LoraInfoWaitingAdaptersMetricName"]]},
    ]
    for m in metrics:
        m["type"] = doc_type(m["name"])
        if m["type"] != "gauge":
            sys.exit(f"unexpected type {m['type']!r} for {m['name']} in the protocol doc")
    return {
        "_source": f"{UPSTREAM['llm-d-router']}/blob/{commit}/{EXTRACTOR}/factories.go (the vllm engine config) and "
                   f"extractor.go (label names); types from {UPSTREAM['inference-extension']}/blob/{ext_commit}/{PROTOCOL_DOC}. "
                   "Made by scripts/gen_k8s_schema_fixtures.py.",
        "metrics": metrics,
    }


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=None, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kubernetes-validate", required=True, help="the kubernetes-validate wheel")
    ap.add_argument("--inference-extension", required=True)
    ap.add_argument("--gateway-api", required=True)
    ap.add_argument("--prometheus-operator", required=True)
    ap.add_argument("--llm-d-router", required=True)
    a = ap.parse_args()
    repos = {"inference-extension": git_dir(a.inference_extension), "gateway-api": git_dir(a.gateway_api),
             "prometheus-operator": git_dir(a.prometheus_operator), "llm-d-router": git_dir(a.llm_d_router)}
    write("kubernetes-core.json", kubernetes_core(a.kubernetes_validate))
    write("crds.json", crds(repos))
    write("epp-vllm-metrics.json", picker_metrics(repos["llm-d-router"], repos["inference-extension"]))


if __name__ == "__main__":
    main()
