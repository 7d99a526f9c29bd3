#!/usr/bin/env python3
"""Regenerates enterprise-attack.min.json.gz from the ATT&CK techniques extract.

Usage: python3 trim.py ../../../../../shared/data/reference/mitre_attack/enterprise-attack-techniques.json

Keeps a valid STIX 2.0 bundle holding only what Ward reads: attack-patterns, tactics, the
matrix (for tactic order) and subtechnique-of relationships, each with its id, name, ATT&CK
external id and url, kill-chain phases and deprecated/revoked flags. Descriptions are dropped.
"""
import gzip, json, sys

KEEP = {
    "attack-pattern": ["type", "id", "name", "external_references", "kill_chain_phases",
                       "x_mitre_is_subtechnique", "x_mitre_deprecated", "revoked", "x_mitre_platforms"],
    "x-mitre-tactic": ["type", "id", "name", "external_references", "x_mitre_shortname", "x_mitre_deprecated"],
    "x-mitre-matrix": ["type", "id", "name", "external_references", "tactic_refs"],
    "relationship": ["type", "id", "relationship_type", "source_ref", "target_ref", "x_mitre_deprecated", "revoked"],
}
bundle = json.load(open(sys.argv[1]))
out = []
for o in bundle["objects"]:
    keys = KEEP.get(o["type"])
    if keys is None or (o["type"] == "relationship" and o.get("relationship_type") != "subtechnique-of"):
        continue
    t = {k: o[k] for k in keys if k in o}
    if "external_references" in t:
        t["external_references"] = [
            {k: r[k] for k in ("source_name", "external_id", "url") if k in r}
            for r in t["external_references"] if r.get("source_name") == "mitre-attack"
        ]
    out.append(t)
out.sort(key=lambda o: (o["type"], o["id"]))
doc = {"type": "bundle", "id": bundle["id"], "spec_version": bundle.get("spec_version", "2.0"), "objects": out}
raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
with open("enterprise-attack.min.json.gz", "wb") as f:
    f.write(gzip.compress(raw, 9, mtime=0))
print(len(out), "objects,", len(raw), "bytes raw")
