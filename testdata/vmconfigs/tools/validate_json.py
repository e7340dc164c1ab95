#!/usr/bin/env python3
"""validate_json.py SCHEMA < document - checks a JSON document against a JSON Schema.

Uses the jsonschema module (Debian: python3-jsonschema) with Draft 2020-12.
Without it, falls back to a small checker of the keywords our schemas use
(type, properties, required, items, enum, additionalProperties, $ref to
$defs), so the tests still mean something on a bare machine.
Prints "ok" and exits 0, or prints the first error and exits 1.
"""
import json
import sys

TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}


def is_type(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])


def check(v, s, root, path):
    if "$ref" in s:
        ref = s["$ref"]
        assert ref.startswith("#/$defs/"), ref
        s = root["$defs"][ref[len("#/$defs/"):]]
    t = s.get("type")
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        if not any(is_type(v, x) for x in ts):
            raise ValueError("%s: %r is not of type %s" % (path, v, t))
    if "enum" in s and v not in s["enum"]:
        raise ValueError("%s: %r is not one of %r" % (path, v, s["enum"]))
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v:
                raise ValueError("%s: missing required property %r" % (path, k))
        props = s.get("properties", {})
        for k, x in v.items():
            if k in props:
                check(x, props[k], root, "%s/%s" % (path, k))
            elif s.get("additionalProperties") is False:
                raise ValueError("%s: unexpected property %r" % (path, k))
    if isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            check(x, s["items"], root, "%s/%d" % (path, i))


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    doc = json.load(sys.stdin)
    try:
        import jsonschema
    except ImportError:
        jsonschema = None
    try:
        if jsonschema is not None:
            jsonschema.Draft202012Validator.check_schema(schema)
            jsonschema.Draft202012Validator(schema).validate(doc)
        else:
            check(doc, schema, schema, "")
    except Exception as e:  # report, do not trace back
        print("invalid: %s" % str(e).splitlines()[0])
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
