#!/usr/bin/python3
"""Checks examples/kubernetes/vidsift-job.yaml with a YAML parser: an Indexed
Job whose shard count vidsift reads (VIDSIFT_SHARDS) equals `completions`,
with an archive volume and a databases volume, a per-shard --db, and a merge
Job over the same databases volume. Usage: check_k8s_manifest.py FILE"""
import sys

import yaml


def main(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    jobs = {d["metadata"]["name"]: d for d in docs}
    assert all(d["apiVersion"] == "batch/v1" and d["kind"] == "Job" for d in docs), "every document is a batch/v1 Job"
    shards = [d for d in docs if d["spec"].get("completionMode") == "Indexed"]
    assert len(shards) == 1, "one Indexed Job"
    spec = shards[0]["spec"]
    n = spec["completions"]
    assert isinstance(n, int) and n >= 1 and 1 <= spec["parallelism"] <= n, "completions and parallelism"
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    (c,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    assert env.get("VIDSIFT_SHARDS") == str(n), "VIDSIFT_SHARDS must equal completions"
    cmd = " ".join(c.get("command", []) + c.get("args", []))
    assert "vidsift run" in cmd and "{shard}" in cmd, "a per-shard --db"
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    volumes = {v["name"] for v in pod["volumes"]}
    assert {"archive", "databases"} <= set(mounts) and set(mounts) <= volumes, "archive and databases volumes"
    assert mounts["archive"] in cmd and mounts["databases"] in cmd
    merges = [d for d in docs if "vidsift merge" in " ".join(
        sum((ct.get("command", []) + ct.get("args", []) for ct in d["spec"]["template"]["spec"]["containers"]), []))]
    assert len(merges) == 1, "one merge Job"
    mpod = merges[0]["spec"]["template"]["spec"]
    mclaims = {v["persistentVolumeClaim"]["claimName"] for v in mpod["volumes"]}
    sclaims = {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if v["name"] == "databases"}
    assert sclaims <= mclaims, "the merge mounts the shards' databases volume"
    print(f"{path}: ok ({len(jobs)} jobs, {n} shards)")


if __name__ == "__main__":
    main(sys.argv[1])
