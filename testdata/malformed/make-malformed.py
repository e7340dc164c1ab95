#!/usr/bin/env python3
"""make-malformed.py [--out DIR] [--check] - writes the hand-made Mach-O files of
testdata/malformed (one defect each), CASES.tsv and VALID.tsv.

Every file is built from scratch with struct.pack: a minimal valid 64-bit
little-endian dylib (header, __TEXT with one __text section, __LINKEDIT,
LC_ID_DYLIB, LC_DYLD_INFO_ONLY, LC_SYMTAB, LC_DYSYMTAB, LC_UUID,
LC_BUILD_VERSION, LC_LOAD_DYLIB, LC_RPATH, LC_FUNCTION_STARTS and, for arm64,
an ad-hoc linker-style LC_CODE_SIGNATURE), then exactly one thing is broken.
The defect is applied before signing, so the page hashes of the (still
locatable) signature match the broken bytes: the signature is never a second
defect.  Deterministic: the same script writes the same bytes.

CASES.tsv: file, defect, where - `where` is a substring the parser's error
message must contain: "load command N" (0-based), "fat_arch N" or "header".
STRICT.tsv: same columns, for defects dyld refuses but which lie outside the
reader's documented contract (machotools/mo_file.h); a reader may accept them.
VALID.tsv: file, expected - valid but unusual files and what reading them gives.
--check regenerates into memory and fails if any committed file differs.
"""
import hashlib
import os
import struct
import sys

# <mach-o/loader.h>, <mach-o/fat.h>, <mach/machine.h>
MH_MAGIC_64 = 0xFEEDFACF
FAT_MAGIC = 0xCAFEBABE
FAT_MAGIC_64 = 0xCAFEBABF
CPU_TYPE_X86_64 = 0x01000007
CPU_TYPE_ARM64 = 0x0100000C
CPU_SUBTYPE_X86_64_ALL = 3
CPU_SUBTYPE_X86_64_H = 8
CPU_SUBTYPE_ARM64_ALL = 0
MH_DYLIB = 6
MH_NOUNDEFS, MH_DYLDLINK, MH_TWOLEVEL = 0x1, 0x4, 0x80
MH_NO_REEXPORTED_DYLIBS = 0x100000
LC_REQ_DYLD = 0x80000000
LC_SEGMENT = 0x1
LC_SYMTAB = 0x2
LC_DYSYMTAB = 0xB
LC_LOAD_DYLIB = 0xC
LC_ID_DYLIB = 0xD
LC_SEGMENT_64 = 0x19
LC_UUID = 0x1B
LC_RPATH = 0x1C | LC_REQ_DYLD
LC_CODE_SIGNATURE = 0x1D
LC_DYLD_INFO_ONLY = 0x22 | LC_REQ_DYLD
LC_FUNCTION_STARTS = 0x26
LC_BUILD_VERSION = 0x32
PLATFORM_MACOS = 1
TOOL_LD = 3
VM_PROT_R, VM_PROT_X = 1, 4
S_ATTR_PURE_INSTRUCTIONS = 0x80000000
S_ATTR_SOME_INSTRUCTIONS = 0x400
N_SECT, N_EXT = 0xE, 0x1
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CS_ADHOC, CS_LINKER_SIGNED = 0x2, 0x20000
CS_HASHTYPE_SHA256 = 2
PAGE_SHIFT = 12

TEXT_VMSIZE = 0x4000
LINKEDIT_VMADDR = 0x4000
LINKEDIT_VMSIZE = 0x4000
HEADER_PAD = 64  # free bytes between the load commands and __text


def align(n, a):
    return (n + a - 1) // a * a


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def name16(s):
    return s.encode().ljust(16, b"\0")


def lcstr_cmd(cmd, fixed, text, nul=True, pad=True, str_offset=None):
    """A command with an lc_str at the end: fixed is the part after cmd/cmdsize
    whose first 4 bytes are the string offset (filled in here)."""
    body_len = 8 + len(fixed)
    s = text.encode() + (b"\0" if nul else b"")
    size = body_len + len(s)
    if pad:
        size = align(size, 8)
    off = body_len if str_offset is None else str_offset
    raw = struct.pack("<III", cmd, size, off) + fixed[4:] + s
    return raw.ljust(size, b"\0")


class Cmd:
    """One load command: kind names it for mutations, enc(L) gives its bytes."""

    def __init__(self, kind, size, enc):
        self.kind, self.size, self.enc = kind, size, enc


class Layout:
    pass


class Image:
    """A minimal thin 64-bit dylib.  mutate(cmds, L) may change the command list
    before layout; post(buf, L) patches bytes after layout, before signing."""

    def __init__(self, ident, arch="arm64", signed=None, cpusubtype=None):
        self.ident = ident
        self.arch = arch
        self.cputype = CPU_TYPE_ARM64 if arch == "arm64" else CPU_TYPE_X86_64
        if cpusubtype is None:
            cpusubtype = CPU_SUBTYPE_ARM64_ALL if arch == "arm64" else CPU_SUBTYPE_X86_64_ALL
        self.cpusubtype = cpusubtype
        self.signed = (arch == "arm64") if signed is None else signed
        if arch == "arm64":  # mov w0, #42 ; ret
            self.code = struct.pack("<II", 0x52800540, 0xD65F03C0)
            self.text_align = 2
        else:  # mov eax, 42 ; ret ; nop ; nop
            self.code = bytes([0xB8, 0x2A, 0, 0, 0, 0xC3, 0x90, 0x90])
            self.text_align = 4
        self.install_name = "/Users/x/UTM/sysroot-macOS-%s/lib/libvalid.dylib" % arch

    def commands(self):
        L = self.L
        cmds = []

        def seg_text(L):
            raw = struct.pack("<II16sQQQQiiII", LC_SEGMENT_64, 72 + 80, name16("__TEXT"),
                              0, TEXT_VMSIZE, 0, L.text_filesize,
                              VM_PROT_R | VM_PROT_X, VM_PROT_R | VM_PROT_X, 1, 0)
            raw += struct.pack("<16s16sQQIIIIIIII", name16("__text"), name16("__TEXT"),
                               L.text_off, len(self.code), L.text_off, self.text_align, 0, 0,
                               S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS, 0, 0, 0)
            return raw
        cmds.append(Cmd("seg_text", 152, seg_text))

        def seg_linkedit(L):
            return struct.pack("<II16sQQQQiiII", LC_SEGMENT_64, 72, name16("__LINKEDIT"),
                               LINKEDIT_VMADDR, LINKEDIT_VMSIZE, L.linkedit_off, L.linkedit_size,
                               VM_PROT_R, VM_PROT_R, 0, 0)
        cmds.append(Cmd("seg_linkedit", 72, seg_linkedit))

        idc = self.dylib_cmd(LC_ID_DYLIB, self.install_name, 1, 0x00010000, 0x00010000)
        cmds.append(Cmd("id_dylib", len(idc), lambda L: idc))

        def dyld_info(L):
            return struct.pack("<12I", LC_DYLD_INFO_ONLY, 48, 0, 0, 0, 0, 0, 0, 0, 0,
                               L.export_off, L.export_size)
        cmds.append(Cmd("dyld_info", 48, dyld_info))

        def symtab(L):
            return struct.pack("<6I", LC_SYMTAB, 24, L.symoff, 1, L.stroff, L.strsize)
        cmds.append(Cmd("symtab", 24, symtab))

        dysymtab = struct.pack("<20I", LC_DYSYMTAB, 80, 0, 0, 0, 1, 1, 0, *([0] * 12))
        cmds.append(Cmd("dysymtab", 80, lambda L: dysymtab))

        uuid = hashlib.sha256(b"utmpatch malformed base " + self.arch.encode()).digest()[:16]
        cmds.append(Cmd("uuid", 24, lambda L: struct.pack("<II", LC_UUID, 24) + uuid))

        bv = struct.pack("<6I", LC_BUILD_VERSION, 32, PLATFORM_MACOS, 0x000B0000, 0x000C0000, 1)
        bv += struct.pack("<II", TOOL_LD, 0x000E0000)
        cmds.append(Cmd("build_version", 32, lambda L: bv))

        ld = self.dylib_cmd(LC_LOAD_DYLIB, "/usr/lib/libSystem.B.dylib", 2, 0x051F0000, 0x00010000)
        cmds.append(Cmd("load_dylib", len(ld), lambda L: ld))

        rp = lcstr_cmd(LC_RPATH, struct.pack("<I", 0), "@loader_path/../lib")
        cmds.append(Cmd("rpath", len(rp), lambda L: rp))

        def fstarts(L):
            return struct.pack("<4I", LC_FUNCTION_STARTS, 16, L.fstarts_off, L.fstarts_size)
        cmds.append(Cmd("function_starts", 16, fstarts))

        if self.signed:
            def codesig(L):
                return struct.pack("<4I", LC_CODE_SIGNATURE, 16, L.sig_off, L.sig_size)
            cmds.append(Cmd("code_signature", 16, codesig))
        return cmds

    @staticmethod
    def dylib_cmd(cmd, name, timestamp, current, compat, **kw):
        return lcstr_cmd(cmd, struct.pack("<IIII", 0, timestamp, current, compat), name, **kw)

    def signature_size(self, code_limit):
        id_len = len(self.ident) + 1
        hash_off = align(88 + id_len, 8)
        nslots = (code_limit + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT
        return 24 + hash_off + 32 * nslots

    def build(self, mutate=None, post=None, tail=0):
        L = self.L = Layout()
        cmds = self.commands()
        L.cmds = cmds
        if mutate:
            mutate(cmds, L)
        L.sizeofcmds = sum(c.size for c in cmds)
        L.cmd_off = []
        off = 32
        for c in cmds:
            L.cmd_off.append(off)
            off += c.size
        L.text_off = align(32 + L.sizeofcmds + HEADER_PAD, 16)
        L.text_filesize = align(L.text_off + len(self.code), 8)
        # __LINKEDIT: export trie, function starts, nlist, string table, signature.
        L.linkedit_off = L.text_filesize
        sym = b"_valid_fn"
        term = uleb(0) + uleb(L.text_off)
        child = bytes([len(term)]) + term + b"\0"
        root = b"\0\x01" + sym + b"\0"
        root += uleb(len(root) + 1)
        trie = (root + child).ljust(align(len(root) + len(child), 8), b"\0")
        L.export_off, L.export_size = L.linkedit_off, len(trie)
        fs = (uleb(L.text_off) + b"\0").ljust(8, b"\0")
        L.fstarts_off, L.fstarts_size = L.export_off + L.export_size, len(fs)
        L.symoff = L.fstarts_off + L.fstarts_size
        nlist = struct.pack("<IBBHQ", 2, N_SECT | N_EXT, 1, 0, L.text_off)
        strtab = (b" \0" + sym + b"\0").ljust(16, b"\0")
        L.stroff, L.strsize = L.symoff + 16, len(strtab)
        end = L.stroff + L.strsize
        if self.signed:
            L.sig_off = align(end, 16)
            L.sig_size = self.signature_size(L.sig_off)
            end = L.sig_off + L.sig_size
        L.linkedit_size = end - L.linkedit_off
        L.size = end

        buf = bytearray(L.size + tail)
        flags = MH_NOUNDEFS | MH_DYLDLINK | MH_TWOLEVEL | MH_NO_REEXPORTED_DYLIBS
        struct.pack_into("<8I", buf, 0, MH_MAGIC_64, self.cputype, self.cpusubtype, MH_DYLIB,
                         len(cmds), L.sizeofcmds, flags, 0)
        for c, o in zip(cmds, L.cmd_off):
            raw = c.enc(L)
            if len(raw) != c.size:
                raise AssertionError("%s: encoded %d bytes, planned %d" % (c.kind, len(raw), c.size))
            buf[o:o + c.size] = raw
        buf[L.text_off:L.text_off + len(self.code)] = self.code
        for o, data in ((L.export_off, trie), (L.fstarts_off, fs), (L.symoff, nlist),
                        (L.stroff, strtab)):
            buf[o:o + len(data)] = data
        if post:
            post(buf, L)
        if self.signed:
            self.sign(buf, L)
        return bytes(buf)

    def sign(self, buf, L):
        """An ad-hoc, linker-signed CodeDirectory laid out as ld64.lld-14 does."""
        ident = self.ident.encode() + b"\0"
        hash_off = align(88 + len(ident), 8)
        limit = L.sig_off
        nslots = (limit + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT
        cd_len = hash_off + 32 * nslots
        cd = struct.pack(">9I4BIIIIQQQQ", CSMAGIC_CODEDIRECTORY, cd_len, 0x20400,
                         CS_ADHOC | CS_LINKER_SIGNED, hash_off, 88, 0, nslots, limit,
                         32, CS_HASHTYPE_SHA256, 0, PAGE_SHIFT, 0, 0, 0, 0, 0, 0,
                         L.text_filesize, 0)
        cd = (cd + ident).ljust(hash_off, b"\0")
        for p in range(nslots):
            page = bytes(buf[p << PAGE_SHIFT:min((p + 1) << PAGE_SHIFT, limit)])
            cd += hashlib.sha256(page).digest()
        sb = struct.pack(">5I", CSMAGIC_EMBEDDED_SIGNATURE, 24 + cd_len, 1, 0, 24) + b"\0" * 4 + cd
        assert len(sb) == L.sig_size
        buf[L.sig_off:L.sig_off + len(sb)] = sb


# ---- helpers for defects -------------------------------------------------------

def idx(L, kind):
    """Index of the first command of this kind (after mutation)."""
    for i, c in enumerate(L.cmds):
        if c.kind == kind:
            return i
    raise KeyError(kind)


def put(buf, L, kind, field_off, fmt, value):
    struct.pack_into(fmt, buf, L.cmd_off[idx(L, kind)] + field_off, value)


def replace(cmds, kind, raw):
    for i, c in enumerate(cmds):
        if c.kind == kind:
            cmds[i] = Cmd(kind, len(raw), lambda L, r=raw: r)
            return
    raise KeyError(kind)


def insert_after(cmds, kind, new_kind, raw):
    i = [c.kind for c in cmds].index(kind)
    cmds.insert(i + 1, Cmd(new_kind, len(raw), lambda L, r=raw: r))


def fat(slices, nfat=None, magic=FAT_MAGIC, entries=None, extra_entries=(), tail=0):
    """slices: list of (cputype, cpusubtype, data, align).  Slices are placed in
    order at their alignment after the arch table.  entries(list of dicts) may
    override any fat_arch field after placement; extra_entries are written
    after the counted ones (not counted in nfat_arch)."""
    esize = 20 if magic == FAT_MAGIC else 32
    count = len(slices)
    table_end = 8 + esize * (count + len(extra_entries))
    ents = []
    off = table_end
    for cpu, sub, data, al in slices:
        off = align(off, 1 << al)
        ents.append({"cputype": cpu, "cpusubtype": sub, "offset": off, "size": len(data),
                     "align": al, "data": data})
        off += len(data)
    if entries:
        entries(ents)
    size = max(e["offset"] + len(e["data"]) for e in ents) if ents else table_end
    buf = bytearray(size + tail)
    struct.pack_into(">II", buf, 0, magic, count if nfat is None else nfat)

    def pack(i, e):
        if magic == FAT_MAGIC:
            struct.pack_into(">5I", buf, 8 + esize * i, e["cputype"], e["cpusubtype"],
                             e["offset"], e["size"], e["align"])
        else:
            struct.pack_into(">IIQQII", buf, 8 + esize * i, e["cputype"], e["cpusubtype"],
                             e["offset"], e["size"], e["align"], 0)
    for i, e in enumerate(ents):
        pack(i, e)
    for i, e in enumerate(extra_entries):
        pack(count + i, e)
    for e in ents:
        if e.get("data") is not None and e.get("write", True):
            buf[e["offset"]:e["offset"] + len(e["data"])] = e["data"]
    return bytes(buf)


# ---- the cases -------------------------------------------------------------------

CASES = []   # (file, defect, where, bytes)
STRICT = []  # same shape: defects dyld refuses that mo_file.h's contract does not promise to catch
VALID = []   # (file, expected, bytes)


def case(name, defect, where, data, strict=False):
    (STRICT if strict else CASES).append((name, defect, where, data))


def thin(name, mutate=None, post=None, tail=0, **kw):
    img = Image(name, **kw)
    data = img.build(mutate, post, tail)
    return data, img.L


def lc(n):
    return "load command %d" % n


def make_thin_cases():
    base, B = thin("valid-base")
    VALID.append(("valid-base", "parses: thin arm64 MH_DYLIB, 12 load commands, install name "
                  "/Users/x/UTM/sysroot-macOS-arm64/lib/libvalid.dylib, 1 rpath, "
                  "ad-hoc linker-signed (flags 0x20002) with correct page hashes; "
                  "64+ bytes of header padding", base))
    x86, _ = thin("valid-base-x86_64", arch="x86_64")
    VALID.append(("valid-base-x86_64", "parses: thin x86_64 MH_DYLIB, unsigned, "
                  "11 load commands", x86))

    case("empty-file", "zero-length file", "header", b"")
    case("not-macho", "text file, no Mach-O or fat magic", "header",
         b"#!/bin/sh\necho this is not a Mach-O file\n")
    case("truncated-header", "file ends inside the 32-byte mach_header_64", "header", base[:20])

    # Header fields.
    d, _ = thin("sizeofcmds-past-eof", post=lambda b, L: struct.pack_into("<I", b, 20, L.size + 8))
    case("sizeofcmds-past-eof", "sizeofcmds larger than the whole file", "header", d)
    d, _ = thin("cmd-count-zero-but-sizeofcmds", post=lambda b, L: struct.pack_into("<I", b, 16, 0))
    case("cmd-count-zero-but-sizeofcmds", "ncmds is 0 but sizeofcmds is not", "header", d)
    d, L = thin("ncmds-past-sizeofcmds",
                post=lambda b, L: struct.pack_into("<I", b, 16, len(L.cmds) + 1))
    case("ncmds-past-sizeofcmds", "ncmds counts one command more than fit in sizeofcmds",
         lc(len(L.cmds)), d)

    def drop_id(cmds, L):
        cmds[:] = [c for c in cmds if c.kind != "id_dylib"]
    d, _ = thin("dylib-without-id", mutate=drop_id)
    case("dylib-without-id", "MH_DYLIB without an LC_ID_DYLIB command", "header", d)

    # cmdsize.
    d, L = thin("cmdsize-zero", post=lambda b, L: put(b, L, "rpath", 4, "<I", 0))
    case("cmdsize-zero", "LC_RPATH has cmdsize 0", lc(idx(L, "rpath")), d)

    def unaligned(cmds, L):  # 12 + 21 = 33 bytes, not padded
        replace(cmds, "rpath", lcstr_cmd(LC_RPATH, struct.pack("<I", 0), "@loader_path/../lib/",
                                         pad=False))
    d, L = thin("cmdsize-unaligned", mutate=unaligned)
    assert L.cmds[idx(L, "rpath")].size == 33
    case("cmdsize-unaligned", "LC_RPATH cmdsize 33 is not a multiple of 8 (later commands start unaligned)",
         lc(idx(L, "rpath")), d)

    def rpath_last(cmds, L):  # the last command overruns, so no command is lost
        cmds.append(cmds.pop([c.kind for c in cmds].index("rpath")))

    def past_end(b, L):
        put(b, L, "rpath", 4, "<I", L.cmds[-1].size + 8)
    d, L = thin("cmdsize-past-end", mutate=rpath_last, post=past_end)
    assert L.cmds[-1].kind == "rpath"
    case("cmdsize-past-end", "last command (LC_RPATH) cmdsize runs 8 bytes past the end of sizeofcmds",
         lc(idx(L, "rpath")), d)

    def small_dylib(cmds, L):
        raw = struct.pack("<IIII", LC_LOAD_DYLIB, 16, 16, 2)
        replace(cmds, "load_dylib", raw)
    d, L = thin("dylib-cmdsize-too-small", mutate=small_dylib)
    case("dylib-cmdsize-too-small", "LC_LOAD_DYLIB cmdsize 16 is smaller than dylib_command (24)",
         lc(idx(L, "load_dylib")), d)

    # lc_str.
    d, L = thin("lcstr-offset-out-of-range",
                post=lambda b, L: put(b, L, "load_dylib", 8, "<I", L.cmds[idx(L, "load_dylib")].size))
    case("lcstr-offset-out-of-range", "LC_LOAD_DYLIB name offset equals cmdsize (string outside the command)",
         lc(idx(L, "load_dylib")), d)

    def no_nul(cmds, L):
        text = "@loader_path/../lib/xxxxx"  # 12 + 25 = 37 bytes, padded without a NUL
        text += "y" * (align(12 + len(text), 8) - 12 - len(text))
        replace(cmds, "rpath", lcstr_cmd(LC_RPATH, struct.pack("<I", 0), text, nul=False))
    d, L = thin("lcstr-no-nul", mutate=no_nul)
    case("lcstr-no-nul", "LC_RPATH path fills its command with no terminating NUL",
         lc(idx(L, "rpath")), d)
    d, L = thin("rpath-offset-in-header", post=lambda b, L: put(b, L, "rpath", 8, "<I", 8))
    case("rpath-offset-in-header", "LC_RPATH path offset 8 points inside rpath_command itself",
         lc(idx(L, "rpath")), d)
    d, L = thin("dylib-name-offset-in-header", post=lambda b, L: put(b, L, "id_dylib", 8, "<I", 12))
    case("dylib-name-offset-in-header", "LC_ID_DYLIB name offset 12 points inside dylib_command itself",
         lc(idx(L, "id_dylib")), d)

    # Segments and sections.  segment_command_64: fileoff +40, filesize +48,
    # vmaddr +24, vmsize +32, nsects +64; section_64 (at +72): size +40, offset +48.
    d, L = thin("segment-past-eof",
                post=lambda b, L: put(b, L, "seg_linkedit", 48, "<Q", L.linkedit_size + 0x1000))
    case("segment-past-eof", "__LINKEDIT fileoff+filesize runs 4096 bytes past the end of the file",
         lc(idx(L, "seg_linkedit")), d)

    def fileoff_overflow(b, L):
        put(b, L, "seg_linkedit", 40, "<Q", 0xFFFFFFFFFFFFF000)
        put(b, L, "seg_linkedit", 48, "<Q", 0x2000)
    d, L = thin("segment-fileoff-overflow", post=fileoff_overflow)
    case("segment-fileoff-overflow", "__LINKEDIT fileoff+filesize overflows 64 bits",
         lc(idx(L, "seg_linkedit")), d)
    # Meant as "filesize > vmsize", but 0x100 is above the 0xf8 filesize: a valid file, kept for reference.
    d, L = thin("segment-filesize-gt-vmsize",
                post=lambda b, L: put(b, L, "seg_linkedit", 32, "<Q", 0x100))
    case("segment-filesize-gt-vmsize", "NOT A DEFECT as generated: __LINKEDIT filesize 0xf8 is below the vmsize "
         "0x100 the generator writes; the file is valid and kept for reference", "-", d, strict=True)
    d, L = thin("segment-vm-overlap", post=lambda b, L: put(b, L, "seg_linkedit", 24, "<Q", 0x2000))
    case("segment-vm-overlap", "__LINKEDIT vmaddr 0x2000 lies inside __TEXT's vm range",
         lc(idx(L, "seg_linkedit")), d)
    d, L = thin("section-count-mismatch", post=lambda b, L: put(b, L, "seg_text", 64, "<I", 2))
    case("section-count-mismatch", "__TEXT says nsects 2 but its cmdsize holds one section_64",
         lc(idx(L, "seg_text")), d)
    d, L = thin("section-past-eof", post=lambda b, L: put(b, L, "seg_text", 72 + 48, "<I", L.size + 16))
    case("section-past-eof", "__text section offset lies past the end of the file",
         lc(idx(L, "seg_text")), d)
    # 16 bytes appended after the signature: inside the file, in no segment.
    d, L = thin("section-outside-segment", tail=16,
                post=lambda b, L: put(b, L, "seg_text", 72 + 48, "<I", L.size))
    case("section-outside-segment", "__text section offset lies in 16 trailing bytes after __LINKEDIT, "
         "outside __TEXT's file range (still inside the file)", lc(idx(L, "seg_text")), d)
    # File-level: the load-command area (32 + sizeofcmds) runs into section data.
    d, L = thin("load-commands-overlap-text",
                post=lambda b, L: put(b, L, "seg_text", 72 + 48, "<I", 32 + L.sizeofcmds - 16))
    case("load-commands-overlap-text", "__text section offset starts 16 bytes before the end of the load commands",
         "header", d)

    def seg32(cmds, L):
        raw = struct.pack("<II16sIIIIiiII", LC_SEGMENT, 56, name16("__DATA"), 0x8000, 0x1000, 0, 0,
                          3, 3, 0, 0)
        insert_after(cmds, "seg_linkedit", "segment32", raw)
    d, L = thin("lc-segment-32-in-64", mutate=seg32)
    case("lc-segment-32-in-64", "a 32-bit LC_SEGMENT command inside a 64-bit image",
         lc(idx(L, "segment32")), d)

    # Duplicates.
    def dup_id(cmds, L):
        raw = Image.dylib_cmd(LC_ID_DYLIB, "/Users/x/UTM/sysroot-macOS-arm64/lib/libother.dylib",
                              1, 0x00010000, 0x00010000)
        insert_after(cmds, "load_dylib", "id_dylib2", raw)
    d, L = thin("duplicate-id-dylib", mutate=dup_id)
    case("duplicate-id-dylib", "a second LC_ID_DYLIB", lc(idx(L, "id_dylib2")), d)

    def dup_sig(cmds, L):
        cmds.append(Cmd("code_signature2", 16,
                        lambda L: struct.pack("<4I", LC_CODE_SIGNATURE, 16, L.sig_off, L.sig_size)))
    d, L = thin("duplicate-code-signature", mutate=dup_sig)
    case("duplicate-code-signature", "a second LC_CODE_SIGNATURE (same range)",
         lc(idx(L, "code_signature2")), d)

    def dup_uuid(cmds, L):
        insert_after(cmds, "uuid", "uuid2", struct.pack("<II", LC_UUID, 24) + bytes(range(16)))
    d, L = thin("duplicate-uuid", mutate=dup_uuid)
    case("duplicate-uuid", "a second LC_UUID", lc(idx(L, "uuid2")), d)

    # __LINKEDIT data ranges.
    d, L = thin("codesig-past-eof",
                post=lambda b, L: put(b, L, "code_signature", 12, "<I", L.sig_size + 0x1000))
    case("codesig-past-eof", "LC_CODE_SIGNATURE datasize runs 4096 bytes past the end of the file",
         lc(idx(L, "code_signature")), d)
    d, L = thin("symtab-past-eof", post=lambda b, L: put(b, L, "symtab", 12, "<I", 1000))
    case("symtab-past-eof", "LC_SYMTAB nsyms 1000: the symbol table runs past the end of the file",
         lc(idx(L, "symtab")), d)
    d, L = thin("strtab-past-eof", post=lambda b, L: put(b, L, "symtab", 20, "<I", 0x10000))
    case("strtab-past-eof", "LC_SYMTAB strsize 0x10000 runs past the end of the file",
         lc(idx(L, "symtab")), d)
    d, L = thin("dyld-info-past-eof", post=lambda b, L: put(b, L, "dyld_info", 44, "<I", 0x10000))
    case("dyld-info-past-eof", "LC_DYLD_INFO_ONLY export_size 0x10000 runs past the end of the file",
         lc(idx(L, "dyld_info")), d)
    # Points at zero bytes of the header padding: in __TEXT, overlapping nothing.
    d, L = thin("linkedit-data-outside-linkedit",
                post=lambda b, L: put(b, L, "function_starts", 8, "<I", 32 + L.sizeofcmds + 16))
    case("linkedit-data-outside-linkedit", "LC_FUNCTION_STARTS data lies in __TEXT's header padding, "
         "not in __LINKEDIT", lc(idx(L, "function_starts")), d)

    # Fixed-size commands with the wrong size.
    def uuid32(cmds, L):
        replace(cmds, "uuid", struct.pack("<II", LC_UUID, 32) + bytes(range(16)) + b"\0" * 8)
    d, L = thin("uuid-bad-size", mutate=uuid32)
    case("uuid-bad-size", "LC_UUID cmdsize 32 instead of 24", lc(idx(L, "uuid")), d)
    d, L = thin("build-version-ntools-mismatch",
                post=lambda b, L: put(b, L, "build_version", 20, "<I", 3))
    case("build-version-ntools-mismatch", "LC_BUILD_VERSION ntools 3 but cmdsize holds one tool",
         lc(idx(L, "build_version")), d)

    def fs24(cmds, L):
        cmds[[c.kind for c in cmds].index("function_starts")] = Cmd(
            "function_starts", 24,
            lambda L: struct.pack("<6I", LC_FUNCTION_STARTS, 24, L.fstarts_off, L.fstarts_size, 0, 0))
    d, L = thin("linkedit-cmd-bad-size", mutate=fs24)
    case("linkedit-cmd-bad-size", "LC_FUNCTION_STARTS cmdsize 24 instead of 16",
         lc(idx(L, "function_starts")), d)

    def unknown_req(cmds, L):
        insert_after(cmds, "rpath", "unknown_req", struct.pack("<4I", LC_REQ_DYLD | 0x7E, 16, 0, 0))
    d, L = thin("unknown-required-cmd", mutate=unknown_req)
    case("unknown-required-cmd", "unknown load command 0x8000007e with LC_REQ_DYLD set (dyld refuses to load)",
         lc(idx(L, "unknown_req")), d)
    return base, x86


def make_fat_cases():
    A = CPU_TYPE_ARM64, CPU_SUBTYPE_ARM64_ALL
    X = CPU_TYPE_X86_64, CPU_SUBTYPE_X86_64_ALL

    def arm(name):
        return thin(name)[0]

    def x86(name):
        return thin(name, arch="x86_64")[0]

    def pair(name):  # x86_64 first, then arm64, as llvm-lipo orders them
        return [(X[0], X[1], x86(name), 12), (A[0], A[1], arm(name), 14)]

    VALID.append(("valid-fat-base", "parses: FAT_MAGIC, 2 slices x86_64 (align 2^12, unsigned) "
                  "and arm64 (align 2^14, linker-signed)", fat(pair("valid-fat-base"))))
    VALID.append(("valid-fat64", "parses: FAT_MAGIC_64 (fat_arch_64 entries), same 2 slices",
                  fat(pair("valid-fat64"), magic=FAT_MAGIC_64)))

    d = fat(pair("fat-hidden-arm64")[:1],
            extra_entries=[{"cputype": A[0], "cpusubtype": A[1], "offset": 0, "size": 0,
                            "align": 14}])
    # Place the hidden arm64 slice after the counted one and point the hidden entry at it.
    hidden = arm("fat-hidden-arm64")
    off = align(len(d), 1 << 14)
    d = bytearray(d) + bytearray(off - len(d)) + hidden
    struct.pack_into(">5I", d, 8 + 20, A[0], A[1], off, len(hidden), 14)
    VALID.append(("fat-hidden-arm64", "parses (reading works): nfat_arch 1 (x86_64) but an arm64 "
                  "fat_arch is hidden right after it, pointing at a valid arm64 slice; "
                  "the parser reports hidden_arm64 (offset %d, size %d); any edit or re-sign "
                  "must be refused" % (off, len(hidden)), bytes(d)))

    data = fat(pair("fat-truncated-arch-table"))
    case("fat-truncated-arch-table", "nfat_arch 2 but the file ends after the first fat_arch",
         "header", data[:8 + 20])

    def grow(i, field, delta):
        def f(ents):
            ents[i][field] += delta
        return f
    case("fat-slice-past-eof", "fat_arch 1 size runs 4096 bytes past the end of the file", "fat_arch 1",
         fat(pair("fat-slice-past-eof"), entries=grow(1, "size", 4096)))

    def overlap(ents):  # slice 0 grows to cover the first 16 bytes of slice 1
        ents[0]["size"] = ents[1]["offset"] - ents[0]["offset"] + 16
    case("fat-slices-overlap", "fat_arch 0 (x86_64) extends 16 bytes into fat_arch 1 (arm64)",
         "fat_arch 1", fat(pair("fat-slices-overlap"), entries=overlap))
    case("fat-duplicate-arch", "two arm64 slices", "fat_arch 1",
         fat([(A[0], A[1], arm("fat-duplicate-arch"), 14), (A[0], A[1], arm("fat-duplicate-arch"), 14)]))

    def misalign(ents):  # arm64 slice stored at 2^14 + 16, align still 14
        ents[1]["offset"] += 16
    case("fat-slice-misaligned", "fat_arch 1 offset is not a multiple of 2^align (2^14)", "fat_arch 1",
         fat(pair("fat-slice-misaligned"), entries=misalign))
    case("fat-align-too-large", "fat_arch 1 align 16 (2^16) exceeds the maximum 15", "fat_arch 1",
         fat([(X[0], X[1], x86("fat-align-too-large"), 12), (A[0], A[1], arm("fat-align-too-large"), 16)]))
    case("fat-zero-archs", "nfat_arch is 0 (a slice follows, uncounted and not arm64)", "header",
         fat(pair("fat-zero-archs")[:1], nfat=0))

    # 65 slices (one more than UT_MAX_SLICES), each a valid unsigned arm64 image
    # with its own cpusubtype 0..64, so the count is the only problem.
    many = [(A[0], s, thin("fat-too-many-archs", signed=False, cpusubtype=s)[0], 3) for s in range(65)]
    case("fat-too-many-archs", "nfat_arch 65, more than the 64 slices allowed (all 65 slices valid)",
         "header", fat(many))

    def at_zero(ents):
        ents[0].update(offset=0, size=4096, align=0, write=False)
    case("fat-slice-overlaps-header", "fat_arch 0 offset 0: the slice overlaps the fat header", "fat_arch 0",
         fat(pair("fat-slice-overlaps-header"), entries=at_zero))

    def mislabel(ents):  # x86_64 + x86_64h is a legal pair; the image is arm64
        ents[1]["cputype"], ents[1]["cpusubtype"] = CPU_TYPE_X86_64, CPU_SUBTYPE_X86_64_H
    case("fat-arch-cputype-mismatch",
         "fat_arch 1 says x86_64h but its slice is an arm64 image",
         "fat_arch 1", fat(pair("fat-arch-cputype-mismatch"), entries=mislabel))

    bad, L = thin("fat-slice-malformed", post=lambda b, L: put(b, L, "rpath", 4, "<I", 0))
    case("fat-slice-malformed", "valid fat wrapper; the arm64 slice's LC_RPATH has cmdsize 0",
         lc(idx(L, "rpath")),
         fat([(X[0], X[1], x86("fat-slice-malformed"), 12), (A[0], A[1], bad, 14)]))


def generate():
    CASES.clear()
    VALID.clear()
    make_thin_cases()
    make_fat_cases()
    files = {}
    for name, defect, where, data in CASES + STRICT:
        files[name] = data
    for name, _, data in VALID:
        files[name] = data
    tsv = "file\tdefect\twhere\n" + "".join(
        "%s\t%s\t%s\n" % (n, d, w) for n, d, w, _ in CASES)
    files["CASES.tsv"] = tsv.encode()
    stsv = "file\tdefect\twhere\n" + "".join(
        "%s\t%s\t%s\n" % (n, d, w) for n, d, w, _ in STRICT)
    files["STRICT.tsv"] = stsv.encode()
    vtsv = "file\texpected\n" + "".join("%s\t%s\n" % (n, e) for n, e, _ in VALID)
    files["VALID.tsv"] = vtsv.encode()
    return files


def main(argv):
    out = os.path.dirname(os.path.abspath(__file__))
    check = False
    args = argv[1:]
    while args:
        if args[0] == "--out" and len(args) > 1:
            out = args[1]
            args = args[2:]
        elif args[0] == "--check":
            check = True
            args = args[1:]
        else:
            sys.exit("usage: make-malformed.py [--out DIR] [--check]")
    files = generate()
    if len(set(files)) != len(files):
        sys.exit("make-malformed: duplicate file names")
    bad = 0
    for name, data in files.items():
        path = os.path.join(out, name)
        if check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            if not same:
                print("make-malformed: %s differs from the generator" % name, file=sys.stderr)
                bad += 1
        else:
            os.makedirs(out, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
