#!/usr/bin/env python3
"""patch-macho.py IN OUT EDIT... - small, exact edits to a thin 64-bit Mach-O
that ld64.lld-14 cannot produce, then refreshes the code-slot hashes of an
existing code signature so a linker signature stays valid.

Edits:
  dylib-cmd SUBSTR CMD   set the cmd of the one dependency load command whose
                         name contains SUBSTR (e.g. 0x20 LC_LAZY_LOAD_DYLIB,
                         0x80000023 LC_LOAD_UPWARD_DYLIB)
  cpusubtype VALUE       set mach_header.cpusubtype (e.g. 0x80000002 arm64e)
  clear-flags MASK       clear mach_header.flags bits (e.g. 0x100000
                         MH_NO_REEXPORTED_DYLIBS once a dependency is re-exported)

Only the command word / header word changes; sizes and offsets do not move, so
the only other bytes that change are the page hashes in the CodeDirectory.
Used by build-fixtures.sh; deterministic (same input, same output).
"""
import hashlib
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
LC_CODE_SIGNATURE = 0x1D
DEP_CMDS = {0xC, 0x80000018, 0x8000001F, 0x20, 0x80000023}
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSSLOT_CODEDIRECTORY = 0
CSSLOT_ALTERNATE_CODEDIRECTORIES = 0x1000
HASHES = {1: hashlib.sha1, 2: hashlib.sha256}


def fail(msg):
    sys.exit("patch-macho: " + msg)


def load_commands(buf):
    magic, _, _, _, ncmds, sizeofcmds = struct.unpack_from("<6I", buf, 0)
    if magic != MH_MAGIC_64:
        fail("not a thin little-endian 64-bit Mach-O")
    off = 32
    for i in range(ncmds):
        cmd, cmdsize = struct.unpack_from("<2I", buf, off)
        if cmdsize < 8 or off + cmdsize > 32 + sizeofcmds:
            fail("load command %d: bad cmdsize" % i)
        yield i, off, cmd, cmdsize
        off += cmdsize


def set_dylib_cmd(buf, substr, newcmd):
    hits = []
    for i, off, cmd, cmdsize in load_commands(buf):
        if cmd not in DEP_CMDS:
            continue
        (name_off,) = struct.unpack_from("<I", buf, off + 8)
        name = bytes(buf[off + name_off:off + cmdsize]).split(b"\0")[0].decode()
        if substr in name:
            hits.append(off)
    if len(hits) != 1:
        fail("%d dependencies match %r (need exactly one)" % (len(hits), substr))
    struct.pack_into("<I", buf, hits[0], newcmd)


def rehash_signature(buf):
    sig = [(off, cmdsize) for _, off, cmd, cmdsize in load_commands(buf)
           if cmd == LC_CODE_SIGNATURE]
    if not sig:
        return
    dataoff, datasize = struct.unpack_from("<2I", buf, sig[0][0] + 8)
    magic, _, count = struct.unpack_from(">3I", buf, dataoff)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        fail("code signature is not an embedded signature superblob")
    for k in range(count):
        slot, boff = struct.unpack_from(">2I", buf, dataoff + 12 + 8 * k)
        is_cd = slot == CSSLOT_CODEDIRECTORY or (
            CSSLOT_ALTERNATE_CODEDIRECTORIES <= slot < CSSLOT_ALTERNATE_CODEDIRECTORIES + 5)
        if not is_cd:
            continue
        cd = dataoff + boff
        (cdmagic, _, _, _, hash_off, _, nspecial, ncode, code_limit,
         hash_size, hash_type, _, page_log2) = struct.unpack_from(">9I4B", buf, cd)
        if cdmagic != CSMAGIC_CODEDIRECTORY or hash_type not in HASHES:
            fail("unexpected code directory")
        if nspecial:
            fail("code directory has special slots; re-sign it properly instead")
        page = 1 << page_log2
        for p in range(ncode):
            start = p * page
            end = min(start + page, code_limit)
            digest = HASHES[hash_type](bytes(buf[start:end])).digest()[:hash_size]
            buf[cd + hash_off + p * hash_size:cd + hash_off + (p + 1) * hash_size] = digest


def main(argv):
    if len(argv) < 3:
        fail("usage: patch-macho.py IN OUT EDIT...")
    with open(argv[1], "rb") as f:
        buf = bytearray(f.read())
    args = argv[3:]
    while args:
        if args[0] == "dylib-cmd" and len(args) >= 3:
            set_dylib_cmd(buf, args[1], int(args[2], 0))
            args = args[3:]
        elif args[0] == "cpusubtype" and len(args) >= 2:
            struct.pack_into("<I", buf, 8, int(args[1], 0))
            args = args[2:]
        elif args[0] == "clear-flags" and len(args) >= 2:
            (flags,) = struct.unpack_from("<I", buf, 24)
            struct.pack_into("<I", buf, 24, flags & ~int(args[1], 0) & 0xFFFFFFFF)
            args = args[2:]
        else:
            fail("unknown edit %r" % args[0])
    rehash_signature(buf)
    with open(argv[2], "wb") as f:
        f.write(buf)


if __name__ == "__main__":
    main(sys.argv)
