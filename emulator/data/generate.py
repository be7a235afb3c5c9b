#!/usr/bin/env python3
"""Writes builtin-policies.json: the facts of the built-in policy definitions and initiatives
that Defender for Cloud auto-provisioning uses, abridged for the emulator.

Input: the copies of Azure/azure-policy built-ins in ../shared/reference/data/azure-policy
(release 3.2026.0417.1, see reference/policy-catalog.md). Kept per definition: ID, display
name, mode, version, parameters (type, allowed values, default, display name, strongType,
assignPermissions), the target resource types of the `if` clause, and `then.effect` with
`details.type`/`name`/`deploymentScope`/`roleDefinitionIds`. Kept per initiative: ID, display
name, version, parameters and the members (reference ID, definition ID, definitionVersion,
parameter wiring). Descriptions, existence conditions and deployment templates are left out:
the emulator never evaluates a rule.

Usage: python3 emulator/data/generate.py [AZURE_POLICY_DIR] > emulator/data/builtin-policies.json
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SRC = os.path.join(HERE, "..", "..", "..", "shared", "reference", "data", "azure-policy",
                           "built-in-policies")


def parameters(params):
    out = {}
    for name, spec in (params or {}).items():
        meta = spec.get("metadata", {}) or {}
        p = {"type": spec.get("type")}
        for k in ("allowedValues", "defaultValue"):
            if k in spec:
                p[k] = spec[k]
        m = {}
        for k in ("displayName", "strongType", "assignPermissions"):
            if k in meta:
                m[k] = meta[k]
        if m:
            p["metadata"] = m
        out[name] = p
    return out


def target_types(cond, acc):
    if isinstance(cond, dict):
        if str(cond.get("field", "")).lower() == "type":
            if "equals" in cond:
                acc.append(cond["equals"])
            for v in cond.get("in", []) if isinstance(cond.get("in"), list) else []:
                acc.append(v)
        for v in cond.values():
            target_types(v, acc)
    elif isinstance(cond, list):
        for v in cond:
            target_types(v, acc)
    return acc


def metadata(meta):
    return {k: meta[k] for k in ("version", "category", "preview", "deprecated") if k in meta}


def definition(d):
    p = d["properties"]
    rule = p.get("policyRule", {})
    then = rule.get("then", {})
    details = then.get("details") if isinstance(then.get("details"), dict) else {}
    kept = {k: details[k] for k in ("type", "name", "deploymentScope", "roleDefinitionIds")
            if k in details}
    types = []
    for t in target_types(rule.get("if", {}), []):
        if t not in types:
            types.append(t)
    cond = {"field": "type", "in": types} if len(types) > 1 else (
        {"field": "type", "equals": types[0]} if types else {})
    then_out = {"effect": then.get("effect")}
    if kept:
        then_out["details"] = kept
    props = {
        "displayName": p.get("displayName"),
        "policyType": "BuiltIn",
        "mode": p.get("mode"),
        "metadata": metadata(p.get("metadata", {})),
        "version": p.get("version"),
        "parameters": parameters(p.get("parameters")),
        "policyRule": {"if": cond, "then": then_out},
    }
    if "versions" in p:
        props["versions"] = p["versions"]
    name = d["name"]
    return {
        "id": f"/providers/Microsoft.Authorization/policyDefinitions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyDefinitions",
        "properties": props,
    }


def set_definition(d):
    p = d["properties"]
    members = []
    for m in p.get("policyDefinitions", []):
        k = {key: m[key] for key in ("policyDefinitionReferenceId", "policyDefinitionId",
                                     "definitionVersion", "parameters") if key in m}
        members.append(k)
    props = {
        "displayName": p.get("displayName"),
        "policyType": "BuiltIn",
        "metadata": metadata(p.get("metadata", {})),
        "version": p.get("version"),
        "parameters": parameters(p.get("parameters")),
        "policyDefinitions": members,
    }
    if "versions" in p:
        props["versions"] = p["versions"]
    name = d["name"]
    return {
        "id": f"/providers/Microsoft.Authorization/policySetDefinitions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policySetDefinitions",
        "properties": props,
    }


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SRC
    defs, sets = [], []
    for f in sorted(glob.glob(os.path.join(src, "policyDefinitions", "**", "*.json"),
                              recursive=True)):
        with open(f, encoding="utf-8-sig") as fh:
            defs.append(definition(json.load(fh)))
    for f in sorted(glob.glob(os.path.join(src, "policySetDefinitions", "**", "*.json"),
                              recursive=True)):
        with open(f, encoding="utf-8-sig") as fh:
            sets.append(set_definition(json.load(fh)))
    defs.sort(key=lambda d: d["name"])
    sets.sort(key=lambda d: d["name"])
    out = {
        "source": "Azure/azure-policy built-in-policies, release 3.2026.0417.1 (commit f4a50bac), abridged by emulator/data/generate.py",
        "policyDefinitions": defs,
        "policySetDefinitions": sets,
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
