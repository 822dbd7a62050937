#!/usr/bin/env python3
"""Validates every YAML document in deploy/kubernetes/ (or DIR) and checks that the pieces fit together.

Schemas: the fixtures of scripts/gen_k8s_schema_fixtures.py (Kubernetes 1.37's OpenAPI, strict; the CRDs of
InferencePool, Gateway, HTTPRoute and PodMonitor). CRD objects are checked strictly too (an unknown field is an
error, as `kubectl apply --validate=strict` makes it); their CEL rules (x-kubernetes-validations) are not run.

Then the cross-references: the Service, PodMonitor, InferencePool and endpoint-picker Helm values select the
Deployment's pods and name its ports; the HTTPRoute's parent is the Gateway and its backend the InferencePool;
the probes ask /health; terminationGracePeriodSeconds covers preStop + the server's --grace-period + 5 s of
cancellation; the Kustomization lists every manifest here but the InferencePool (Helm creates that one).

Exit status 0 when all holds; 1 with one line per problem (FILE: [document kind/name:] path: message).
"""
import argparse
import copy
import glob
import json
import os
import sys

import jsonschema
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "Tests", "PagewiseServerTests", "Fixtures", "kubernetes")
KUSTOMIZE = "kustomize.config.k8s.io/v1beta1 Kustomization"
KUSTOMIZE_KEYS = {"apiVersion", "kind", "resources", "images", "namespace", "labels", "commonLabels", "patches",
                  "configMapGenerator", "secretGenerator", "namePrefix", "nameSuffix", "components"}
HELM_OWNED = {"inference.networking.k8s.io/v1 InferencePool"}  # created by the endpoint picker's chart
SERVER_CANCEL_SECONDS = 5  # runServer's maximumCancellationDuration after the grace period


def strict(schema):
    """Structural CRD schemas allow unknown fields (the API server prunes them); make them errors."""
    if isinstance(schema, dict):
        s = {k: strict(v) for k, v in schema.items()}
        if "properties" in s and "additionalProperties" not in s and not s.get("x-kubernetes-preserve-unknown-fields"):
            s["additionalProperties"] = False
        return s
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


class Checker:
    def __init__(self, fixtures):
        core = json.load(open(os.path.join(fixtures, "kubernetes-core.json")))
        crds = json.load(open(os.path.join(fixtures, "crds.json")))
        defs = core["$defs"]
        self.meta = {"$defs": defs, **core["objectMeta"]}
        self.schemas = {k: {"$defs": defs, **ref} for k, ref in core["kinds"].items()}
        for k, s in crds["kinds"].items():
            s = strict(copy.deepcopy(s))
            s["properties"]["metadata"] = {"$ref": "#/$defs/meta"}
            s["$defs"] = {"meta": {"$ref": "#/$defs/" + core["objectMeta"]["$ref"].rsplit("/", 1)[-1]}, **defs}
            self.schemas[k] = s
        self.problems = []

    def problem(self, where, msg):
        self.problems.append(f"{where}: {msg}")

    def validate(self, where, key, doc):
        schema = self.schemas.get(key)
        if schema is None:
            self.problem(where, f"no schema for {key} (known: {', '.join(sorted(self.schemas))})")
            return
        v = jsonschema.Draft202012Validator(schema, format_checker=None)
        for e in sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            path = "/".join(str(p) for p in e.absolute_path) or "(document)"
            self.problem(where, f"{path}: {e.message}")


def load(directory, checker):
    """Every document of every *.yaml here: (file, key, doc)."""
    docs = []
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml")) + glob.glob(os.path.join(directory, "*.yml"))):
        name = os.path.basename(path)
        try:
            with open(path) as f:
                loaded = list(yaml.safe_load_all(f))
        except yaml.YAMLError as e:
            checker.problem(name, f"not YAML: {e}")
            continue
        for i, doc in enumerate(d for d in loaded if d is not None):
            where = f"{name}[{i}]"
            if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
                checker.problem(where, "not a Kubernetes object (no apiVersion and kind)")
                continue
            docs.append((name, f"{doc['apiVersion']} {doc['kind']}", doc))
    return docs


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def cross_check(docs, directory, c):
    by_kind = {}
    for name, key, doc in docs:
        by_kind.setdefault(doc["kind"], []).append((name, doc))

    def one(kind):
        found = by_kind.get(kind, [])
        if len(found) != 1:
            c.problem(directory, f"expected one {kind}, found {len(found)}")
            return None, None
        return found[0]

    dname, dep = one("Deployment")
    if dep is None:
        return
    pod = dep.get("spec", {}).get("template", {})
    pod_labels = pod.get("metadata", {}).get("labels", {}) or {}
    spec = pod.get("spec", {})
    containers = spec.get("containers", [])
    server = next((x for x in containers if "serve" in (x.get("args") or [])), None)
    if server is None:
        c.problem(dname, "no container runs `serve`")
        return
    ports = {p.get("name"): p.get("containerPort") for p in server.get("ports", [])}
    numbers = set(ports.values())
    args = server.get("args", [])

    def arg(flag, default=None):
        return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else default

    if not labels_match(dep["spec"].get("selector", {}).get("matchLabels"), pod_labels):
        c.problem(dname, "spec.selector.matchLabels does not select the pod template's labels")
    if arg("--host") != "0.0.0.0":
        c.problem(dname, "serve must listen on --host 0.0.0.0 to be reachable from other pods")
    if arg("--port") is None or int(arg("--port")) not in numbers:
        c.problem(dname, f"serve --port {arg('--port')} is not a containerPort ({sorted(numbers)})")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = (server.get(probe) or {}).get("httpGet")
        if not get or get.get("path") != "/health":
            c.problem(dname, f"{probe} must GET /health")
        elif get.get("port") not in ports and get.get("port") not in numbers:
            c.problem(dname, f"{probe} port {get.get('port')!r} is not a container port")
    pre = ((server.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds")
    if pre is None:
        c.problem(dname, "no preStop sleep: the pod would get SIGTERM while still receiving new requests")
    grace = float(arg("--grace-period", 30))
    total = spec.get("terminationGracePeriodSeconds", 30)
    need = (pre or 0) + grace + SERVER_CANCEL_SECONDS
    if total < need:
        c.problem(dname, f"terminationGracePeriodSeconds {total} < preStop {pre} + --grace-period {grace:g} "
                         f"+ {SERVER_CANCEL_SECONDS} s of cancellation = {need:g}")

    sname, svc = one("Service")
    if svc is not None:
        if not labels_match(svc["spec"].get("selector"), pod_labels):
            c.problem(sname, "spec.selector does not select the Deployment's pods")
        for p in svc["spec"].get("ports", []):
            if p.get("targetPort") not in ports and p.get("targetPort") not in numbers:
                c.problem(sname, f"targetPort {p.get('targetPort')!r} is not a container port")

    for mname, mon in by_kind.get("PodMonitor", []):
        if not labels_match(mon["spec"].get("selector", {}).get("matchLabels"), pod_labels):
            c.problem(mname, "spec.selector.matchLabels does not select the Deployment's pods")
        for e in mon["spec"].get("podMetricsEndpoints", []):
            if e.get("port") not in ports or e.get("path", "/metrics") != "/metrics":
                c.problem(mname, f"podMetricsEndpoints must name a container port and /metrics, got {e}")

    pname, pool = one("InferencePool")
    gname, gw = one("Gateway")
    for rname, route in by_kind.get("HTTPRoute", []):
        for ref in route["spec"].get("parentRefs", []):
            if gw is not None and (ref.get("kind", "Gateway") != "Gateway" or ref.get("name") != gw["metadata"]["name"]):
                c.problem(rname, f"parentRef {ref.get('name')!r} is not the Gateway {gw['metadata']['name']!r}")
        for rule in route["spec"].get("rules", []):
            for ref in rule.get("backendRefs", []):
                if pool is not None and (ref.get("kind") != "InferencePool" or ref.get("group") != "inference.networking.k8s.io"
                                         or ref.get("name") != pool["metadata"]["name"]):
                    c.problem(rname, f"backendRef {ref} is not the InferencePool {pool['metadata']['name']!r}")
    if pool is not None:
        ps = pool["spec"]
        if not labels_match(ps.get("selector", {}).get("matchLabels"), pod_labels):
            c.problem(pname, "spec.selector.matchLabels does not select the Deployment's pods")
        for t in ps.get("targetPorts", []):
            if t.get("number") not in numbers:
                c.problem(pname, f"targetPort {t.get('number')} is not a container port ({sorted(numbers)})")
        values_path = os.path.join(directory, "endpoint-picker", "values.yaml")
        if os.path.exists(values_path):
            check_helm_values(values_path, pool, c)
        else:
            c.problem(directory, "no endpoint-picker/values.yaml (the chart that creates the InferencePool)")

    kustomizations = by_kind.get("Kustomization", [])
    if len(kustomizations) != 1:
        c.problem(directory, f"expected one Kustomization, found {len(kustomizations)}")
        return
    kname, kust = kustomizations[0]
    unknown = set(kust) - KUSTOMIZE_KEYS
    if unknown:
        c.problem(kname, f"unknown fields {sorted(unknown)}")
    listed = kust.get("resources", [])
    for r in listed:
        if not os.path.isfile(os.path.join(directory, r)):
            c.problem(kname, f"resource {r} does not exist")
    for name, key, doc in docs:
        if key != KUSTOMIZE and key not in HELM_OWNED and name not in listed:
            c.problem(kname, f"{name} ({doc['kind']}) is not in resources")
        if key in HELM_OWNED and name in listed:
            c.problem(kname, f"{name} is created by the endpoint picker's chart; listing it too makes Helm fail")


def check_helm_values(path, pool, c):
    """The chart's InferencePool (its template: name = release name, targetPorts, selector, picker = <release>-epp)."""
    name = "endpoint-picker/values.yaml"
    try:
        values = yaml.safe_load(open(path)) or {}
    except yaml.YAMLError as e:
        c.problem(name, f"not YAML: {e}")
        return
    servers = (values.get("router") or {}).get("modelServers") or {}
    ps = pool["spec"]
    if servers.get("matchLabels") != ps.get("selector", {}).get("matchLabels"):
        c.problem(name, "router.modelServers.matchLabels differ from inferencepool.yaml's selector")
    if [t.get("number") for t in servers.get("targetPorts", [])] != [t.get("number") for t in ps.get("targetPorts", [])]:
        c.problem(name, "router.modelServers.targetPorts differ from inferencepool.yaml's")
    if servers.get("type", "vllm") != "vllm":
        c.problem(name, "router.modelServers.type must be vllm (Pagewise exports vLLM's metric names)")
    if ps.get("endpointPickerRef", {}).get("name") != pool["metadata"]["name"] + "-epp":
        c.problem("inferencepool.yaml", "endpointPickerRef.name must be <release>-epp, the chart's picker Service")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("directory", nargs="?", default=os.path.join(ROOT, "deploy", "kubernetes"))
    ap.add_argument("--fixtures", default=FIXTURES)
    a = ap.parse_args()
    c = Checker(a.fixtures)
    docs = load(a.directory, c)
    for name, key, doc in docs:
        if key == KUSTOMIZE:
            continue
        c.validate(f"{name}: {doc['kind']}/{(doc.get('metadata') or {}).get('name')}", key, doc)
    cross_check(docs, a.directory, c)
    if c.problems:
        print("\n".join(c.problems))
        print(f"{len(c.problems)} problem(s) in {a.directory}", file=sys.stderr)
        return 1
    print(f"{len(docs)} documents in {a.directory}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
