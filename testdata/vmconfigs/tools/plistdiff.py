#!/usr/bin/env python3
"""plistdiff.py BEFORE AFTER - the differences between two property lists.

An oracle for the vmcheck --fix tests: it reads both files with Python's
plistlib (not libplist) and prints one line per difference:

    format xml binary            the two files are in different formats
    changed <path> <old> <new>   a scalar value differs (repr of each)
    removed <path>               a key or array element is only in BEFORE
    added <path>                 a key or array element is only in AFTER
    type <path>                  the node type differs

<path> is "/"-joined keys and array indexes, e.g. /Network/0/Mode.  Arrays are
compared by a longest common subsequence, so a removed element shows as one
"removed /QEMU/AdditionalArguments/3" rather than as a cascade of changes.
"""
import plistlib
import sys


def fmt_of(data):
    return "binary" if data.startswith(b"bplist00") else "xml"


def diff(a, b, path, out):
    if type(a) is not type(b):
        out.append("type %s" % path)
    elif isinstance(a, dict):
        for k in a:
            if k not in b:
                out.append("removed %s/%s" % (path, k))
            else:
                diff(a[k], b[k], "%s/%s" % (path, k), out)
        for k in b:
            if k not in a:
                out.append("added %s/%s" % (path, k))
    elif isinstance(a, list):
        diff_list(a, b, path, out)
    elif a != b:
        out.append("changed %s %r %r" % (path, a, b))


def diff_list(a, b, path, out):
    if len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s/%d" % (path, i), out)
        return
    # longest common subsequence of equal elements
    n, m = len(a), len(b)
    L = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            L[i][j] = L[i + 1][j + 1] + 1 if a[i] == b[j] else max(L[i + 1][j], L[i][j + 1])
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            i += 1
            j += 1
        elif L[i + 1][j] >= L[i][j + 1]:
            out.append("removed %s/%d" % (path, i))
            i += 1
        else:
            out.append("added %s/%d" % (path, j))
            j += 1
    out.extend("removed %s/%d" % (path, k) for k in range(i, n))
    out.extend("added %s/%d" % (path, k) for k in range(j, m))


def main():
    with open(sys.argv[1], "rb") as f:
        da = f.read()
    with open(sys.argv[2], "rb") as f:
        db = f.read()
    out = []
    if fmt_of(da) != fmt_of(db):
        out.append("format %s %s" % (fmt_of(da), fmt_of(db)))
    diff(plistlib.loads(da), plistlib.loads(db), "", out)
    for line in out:
        print(line)


if __name__ == "__main__":
    main()
