#!/usr/bin/env python3
"""gate_oracle.py - independent checks of `utmpatch verify --app/--vms` reports (tests only).

  gate_oracle.py schema REPORT.json
      valid against docs/schemas/verify.schema.json (Draft 2020-12), its
      references into vmcheck.schema.json resolved locally; summary counts
      agree with the checks; result agrees with them.
  gate_oracle.py junit REPORT.xml REPORT.json
      the JUnit file (parsed by ElementTree) has exactly the checks of the
      JSON report: one testcase (classname = component, name = check) per
      check, failure / skipped / neither as the status says, and counts that
      add up at every level.
  gate_oracle.py expect REPORT.json SUITE CHECK COMPONENT STATUS [SUBSTRING]
      that check exists with that status (and a message containing SUBSTRING).
  gate_oracle.py vms REPORT.json EXPECTED.tsv
      for every VM bundle of testdata/vmconfigs/EXPECTED.tsv: config fails
      exactly for 'invalid', networking fails for 'vmnet' and is skipped for
      'invalid'.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

import jsonschema

ROOT = os.environ.get("UTMPATCH_ROOT", ".")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def fail(msg):
    print(msg)
    sys.exit(1)


def schema(report):
    d = load(report)
    sdir = os.path.join(ROOT, "docs", "schemas")
    verify = load(os.path.join(sdir, "verify.schema.json"))
    vmcheck = load(os.path.join(sdir, "vmcheck.schema.json"))
    store = {verify["$id"]: verify, vmcheck["$id"]: vmcheck}
    resolver = jsonschema.RefResolver.from_schema(verify, store=store)
    jsonschema.Draft202012Validator(verify, resolver=resolver).validate(d)
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for c in d["checks"]:
        counts[c["status"]] += 1
    s = d["summary"]
    if (s["checks"], s["passed"], s["failed"], s["skipped"]) != (len(d["checks"]), counts["pass"], counts["fail"], counts["skip"]):
        fail("summary %r does not add up to the checks %r" % (s, counts))
    if d["result"] != ("fail" if counts["fail"] else "pass"):
        fail("result %s with %d failed checks" % (d["result"], counts["fail"]))


def junit(xml_path, report):
    d = load(report)
    root = ET.parse(xml_path).getroot()
    if root.tag != "testsuites":
        fail("root element %s" % root.tag)
    cases = []
    total = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        n = {"tests": 0, "failures": 0, "skipped": 0}
        for tc in suite.findall("testcase"):
            st = "fail" if tc.find("failure") is not None else "skip" if tc.find("skipped") is not None else "pass"
            cases.append((suite.get("name"), tc.get("name"), tc.get("classname"), st))
            n["tests"] += 1
            n["failures"] += st == "fail"
            n["skipped"] += st == "skip"
        for k in n:
            if int(suite.get(k)) != n[k]:
                fail("testsuite %s: %s=%s, counted %d" % (suite.get("name"), k, suite.get(k), n[k]))
            total[k] += n[k]
    for k in total:
        if int(root.get(k)) != total[k]:
            fail("testsuites: %s=%s, counted %d" % (k, root.get(k), total[k]))
    want = [(c["suite"], c["check"], c["component"], c["status"]) for c in d["checks"]]
    if sorted(cases) != sorted(want):
        fail("JUnit testcases differ from the JSON checks:\n only JUnit: %r\n only JSON: %r"
             % (sorted(set(cases) - set(want))[:5], sorted(set(want) - set(cases))[:5]))


def expect(report, suite, check, component, status, sub=None):
    d = load(report)
    found = [c for c in d["checks"] if (c["suite"], c["check"], c["component"]) == (suite, check, component)]
    if len(found) != 1:
        fail("%d checks %s/%s/%s; there are: %r" % (len(found), suite, check, component,
             sorted({(c["check"], c["component"]) for c in d["checks"] if c["status"] != "pass"})))
    c = found[0]
    if c["status"] != status:
        fail("%s %s %s: %s, expected %s: %r" % (suite, check, component, c["status"], status, c["messages"]))
    if sub and not any(sub in m for m in c["messages"]):
        fail("%s %s %s: no message contains %r: %r" % (suite, check, component, sub, c["messages"]))


def vms(report, expected):
    d = load(report)
    by_bundle = {}
    for c in d["checks"]:
        if c["suite"] == "vms":
            b = os.path.basename(os.path.dirname(c["path"]))
            by_bundle.setdefault(b[:-4] if b.endswith(".utm") else b, {})[c["check"]] = c["status"]
    n = 0
    with open(expected, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or line.startswith("bundle\t") or not line.strip():
                continue
            row = line.rstrip("\n").split("\t")
            bundle, status = row[0], row[2]
            got = by_bundle.get(bundle)
            if got is None:
                fail("no checks for %s" % bundle)
            want = {"config": "fail" if status == "invalid" else "pass",
                    "networking": "skip" if status == "invalid" else "fail" if status == "vmnet" else "pass"}
            if got != want:
                fail("%s (%s): got %r, expected %r" % (bundle, status, got, want))
            n += 1
    if n < 20:
        fail("only %d VMs in %s" % (n, expected))
    print(n)


if __name__ == "__main__":
    a = sys.argv[1:]
    {"schema": lambda: schema(a[1]), "junit": lambda: junit(a[1], a[2]),
     "expect": lambda: expect(*a[1:]), "vms": lambda: vms(a[1], a[2])}[a[0]]()
