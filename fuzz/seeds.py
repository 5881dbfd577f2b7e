"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from
the tables below: real format strings (upstream HPy 0.9.0's tests and ours),
`HPY` values, and ELF header prefixes of a real .hpy0.so built here.

Each seed is encoded as its target reads its input (see the target's module
comment and fuzz/src/py.rs for how values are chosen). Run:
    python3 fuzz/seeds.py
Files are named by content hash, as libFuzzer names them, so re-running is
idempotent and merged inputs (scripts/fuzz.sh --merge) sit beside these.
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# -- values, as hpy_rs_fuzz::py::Objects::value reads them -----------------
def none():
    return bytes([0])


def true():
    return bytes([1])


def int_(x):  # a raw 64-bit value: kind 3, pick 13
    return bytes([3, 13]) + struct.pack("<q", x)


def big(x):  # beyond 64 bits: kind 6, 9 + n bytes, signed little-endian
    raw = x.to_bytes(16, "little", signed=True)
    return bytes([6, 16 - 9]) + raw


def float_(x):
    return bytes([7]) + struct.pack("<d", x)


def str_(s):
    b = s.encode("utf-8", "surrogateescape")
    assert len(b) < 32
    return bytes([9, len(b)]) + b


def bytes_(b):  # n % 4 in (0, 1): bytes
    assert len(b) % 4 in (0, 1) and len(b) < 32
    return bytes([11, len(b)]) + b


def tuple_(*items):
    return bytes([12, len(items)]) + b"".join(items)


def list_(*items):
    return bytes([13, len(items)]) + b"".join(items)


def dict_(*pairs):
    return bytes([14, len(pairs)]) + b"".join(k + v for k, v in pairs)


# -- argparse: flags, format NUL, names NUL, nargs, values, nkw, pairs ------
PARSE, KEYWORDS, DICT = 0, 1, 2
NO_TRACKER, NAMES_AS_GIVEN = 4, 8


def argparse(parser, fmt, names, args, kw=(), flags=0, tail=b"\x01\x00"):
    out = bytes([parser | flags]) + fmt.encode() + b"\0" + names.encode() + b"\0"
    out += bytes([len(args)]) + b"".join(args)
    out += bytes([len(kw)])
    for name, value in kw:
        # pick < 192 names parameter pick % len(names); 192..239 a new name
        idx = names.split(",").index(name)
        out += bytes([idx]) + value
    return out + tail


ARGPARSE = [
    argparse(PARSE, "", "", []),
    argparse(PARSE, "i", "", [int_(42)]),
    argparse(PARSE, "ii", "", [int_(1), int_(2)]),
    argparse(PARSE, "i|i", "", [int_(1)]),
    argparse(PARSE, "|ii", "", []),
    argparse(PARSE, "l", "", [int_(-(2**63))]),
    argparse(PARSE, "L", "", [big(2**64)]),
    argparse(PARSE, "bBhHiIkK", "", [int_(255), int_(256), int_(-32768), int_(65536),
                                     int_(2**31), int_(-1), int_(-1), big(2**64 + 1)]),
    argparse(PARSE, "n", "", [int_(2**62)]),
    argparse(PARSE, "dd", "", [float_(1.5), float_(float("nan"))]),
    argparse(PARSE, "f", "", [float_(3.4e39)]),
    argparse(PARSE, "d", "", [int_(7)]),
    argparse(PARSE, "O", "", [list_(int_(1))]),
    argparse(PARSE, "OO", "", [none(), dict_()], flags=NO_TRACKER),
    argparse(PARSE, "s", "", [str_("hello")]),
    argparse(PARSE, "s", "", [str_("a\0b")]),
    argparse(PARSE, "s", "", [str_("\udcff")]),
    argparse(PARSE, "s", "", [bytes_(b"abcd")]),
    argparse(PARSE, "p", "", [tuple_()]),
    argparse(PARSE, "i:funcname", "", [str_("x")]),
    argparse(PARSE, "ii;custom message", "", [int_(1)]),
    argparse(PARSE, "i", "", [int_(1), int_(2)]),
    argparse(PARSE, "x", "", []),
    argparse(PARSE, "i||i", "", []),
    argparse(PARSE, "$i", "", [int_(1)]),
    argparse(KEYWORDS, "ii", "a,b", [int_(1)], kw=[("b", int_(2))]),
    argparse(KEYWORDS, "i|i", "a,b", [], kw=[("a", int_(1)), ("b", int_(2))]),
    argparse(KEYWORDS, "i|i$i", "a,b,c", [int_(1)], kw=[("c", int_(3))]),
    argparse(KEYWORDS, "ii", ",b", [int_(1), int_(2)]),
    argparse(KEYWORDS, "ii", ",b", [], kw=[("b", int_(2))]),
    argparse(KEYWORDS, "Oi|s:kwfunc", "x,y,z", [none()], kw=[("y", int_(5)), ("z", str_("s"))]),
    argparse(KEYWORDS, "i", "a", [int_(1)], kw=[("a", int_(2))]),
    argparse(KEYWORDS, "ii", "a", [int_(1)], flags=NAMES_AS_GIVEN),
    argparse(KEYWORDS, "i", "a,", [int_(1)], flags=NAMES_AS_GIVEN),
    argparse(KEYWORDS, "O", "a", [none()], flags=NO_TRACKER),
    argparse(DICT, "ii", "a,b", [int_(1)], kw=[("b", int_(2))]),
    argparse(DICT, "|i$i", "a,b", [], kw=[("b", big(-(2**70)))]),
    argparse(DICT, "O|O", "a,b", [str_("v")], kw=[("a", int_(1))]),
    argparse(DICT, "i", "a", [int_(1)], tail=b"\x00\xff"),
    argparse(DICT, "ps", "flag,text", [true()], kw=[("text", str_("\U0001f600"))]),
]


# -- buildvalue: format NUL, then per unit an edgy_i64 pick and its value ---
def bv(fmt, *values):
    return fmt.encode() + b"\0" + b"".join(values)


def raw(x):  # an edgy_i64 read as a raw u64 (pick 13)
    return bytes([13]) + struct.pack("<q", x)


def s(text):  # `s`: the pick (non-zero mod 8), then length and bytes
    b = text.encode("utf-8", "surrogateescape")
    return raw(1) + bytes([len(b)]) + b


def o(value):  # `O`/`S`: the pick (non-zero mod 16), then the object
    return raw(1) + value


def d(x):  # `d`/`f`: the pick, then the raw bits
    return raw(0) + struct.pack("<d", x)


BUILDVALUE = [
    bv(""),
    bv("i", raw(-1)),
    bv("I", raw(2**32 - 1)),
    bv("iIlkLKn", raw(2**31 - 1), raw(-1), raw(-(2**63)), raw(-1), raw(2**63 - 1), raw(-1), raw(-5)),
    bv("d", d(1.25)),
    bv("f", d(float("inf"))),
    bv("s", s("hello")),
    bv("s", raw(0)),
    bv("s", s("\udcff\udcfe")),
    bv("O", o(list_(int_(1), str_("a")))),
    bv("O", raw(0)),
    bv("S", o(none())),
    bv("(ii)", raw(1), raw(2)),
    bv("[ii]", raw(1), raw(2)),
    bv("(i,i)", raw(1), raw(2)),
    bv("{s:i}", s("key"), raw(3)),
    bv("{s:i, s:d}", s("a"), raw(1), s("b"), d(2.0)),
    bv("{O:O}", o(list_()), o(none())),
    bv("((ii)(ii))", raw(1), raw(2), raw(3), raw(4)),
    bv("[(i){s:O}]", raw(1), s("k"), o(tuple_())),
    bv("()"),
    bv("[]"),
    bv("{}"),
    bv("((((((((i))))))))", raw(9)),
    bv("(" * 70 + ")" * 70),
    bv("N", o(none())),
    bv("i)", raw(1)),
    bv("(i", raw(1)),
    bv("{i}", raw(1)),
    bv("{i:i,,}", raw(1), raw(2)),
    bv("s#", s("x")),
    bv("i i\ti", raw(1), raw(2), raw(3)),
]


# -- fromformat: flags, format NUL, then per conversion its values ---------
def ff(fmt, *values, err=False, exc=0):
    return bytes([int(err) | exc << 1]) + fmt.encode("utf-8") + b"\0" + b"".join(values)


def U(text):  # %U: the pick (non-zero mod 8), a str
    b = text.encode("utf-8", "surrogateescape")
    return raw(1) + bytes([len(b)]) + b


def cs(text):  # %s: the pick (non-zero mod 16), the bytes
    b = text.encode("utf-8", "surrogateescape")
    return raw(1) + bytes([len(b)]) + b


FROMFORMAT = [
    ff("hello"),
    ff("%d", raw(-42)),
    ff("%i %u %x", raw(-1), raw(-1), raw(255)),
    ff("%ld %lld %zd", raw(-(2**63)), raw(2**63 - 1), raw(-7)),
    ff("%lu %llu %zu", raw(-1), raw(-1), raw(-1)),
    ff("%c", raw(0x1F600)),
    ff("%c", raw(0x110000)),
    ff("%p", raw(0xDEADBEEF)),
    ff("%s", cs("text")),
    ff("%s", raw(0)),
    ff("%s", cs("\udcff")),
    ff("%.3s|%10s|%-5s", cs("abcdef"), cs("x"), cs("y")),
    ff("%U", U("\U0001f600")),
    ff("%U", raw(0)),
    ff("%V", raw(1) + bytes([1]) + b"a" + bytes([1]) + b"b"),
    ff("%V", raw(0)),
    ff("%S %R %A", o(str_("s")), o(list_(none())), o(str_("\xe9"))),
    ff("%S", raw(0)),
    ff("%%"),
    ff("100%% %d%%", raw(5)),
    ff("%5d|%05d|%-5d|%.3d|%8.3d", raw(1), raw(-2), raw(3), raw(4), raw(5)),
    ff("%5U|%.2U|%10.2S", U("ab"), U("abc"), o(str_("xyz"))),
    ff("%0s", cs("x")),
    ff("%5c", raw(65)),
    ff("%q"),
    ff("%"),
    ff("%l"),
    ff("%lx", raw(1)),
    ff("%999999999999999999999d", raw(1)),
    ff("%.999999999999999999999d", raw(1)),
    ff("caf\xe9 %d", raw(1)),
    ff("%s: %d", cs("ValueError"), raw(3), err=True),
    ff("bad value %R", o(int_(1)), err=True, exc=2),
    ff("%d", raw(1), err=True, exc=4),
]


# -- hpy_env: flags (bit 0: HPY unset), name NUL value ----------------------
def env(name, value, flags=0):
    return bytes([flags]) + name.encode() + b"\0" + value.encode()


HPY_ENV = [
    env("foo", "", 1),
    env("foo", "", 3),
    env("foo", "debug"),
    env("foo", "trace", 4),
    env("foo", "universal"),
    env("foo", "DEBUG"),
    env("foo", "u"),
    env("foo", ""),
    env("foo", "bogus"),
    env("foo", "debugx"),
    env("foo", "foo:debug"),
    env("foo", "bar:debug,foo:trace"),
    env("foobar", "foo:trace"),
    env("baz", "bar:debug"),
    env("pkg.mod", "pkg:t,pkg.mod:u"),
    env("foo", ":debug"),
    env("foo", "foo:"),
    env("foo", "foo:bogus,foo:debug"),
    env("foo", ",,,"),
    env("foo", "foo:debug:trace"),
    env("\xe9t\xe9", "\xe9:d"),
    env("x" * 300, "y" * 80),
]


# -- loader: flags (bit 0: name not a str), name NUL, file ------------------
def hpy0_so():
    """A small real universal binary, built with our headers."""
    src = (b'#include "hpy.h"\n'
           b"static HPyModuleDef moddef = { .doc = \"seed\" };\n"
           b"HPy_MODINIT(seed, moddef)\n")
    with tempfile.TemporaryDirectory() as tmp:
        c = os.path.join(tmp, "seed.c")
        so = os.path.join(tmp, "seed.hpy0.so")
        with open(c, "wb") as f:
            f.write(src)
        subprocess.run(
            [os.environ.get("CC", "cc"), "-shared", "-fPIC", "-Os", "-s",
             "-DHPY", "-DHPY_ABI_UNIVERSAL",
             "-I", os.path.join(ROOT, "hpy-sys", "include"), c, "-o", so],
            check=True)
        with open(so, "rb") as f:
            return f.read()


def elf_parts(elf):
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    return phoff, phentsize, phnum


def segments_zeroed(elf):
    """Header and program headers only, every segment emptied: accepted."""
    phoff, phentsize, phnum = elf_parts(elf)
    head = bytearray(elf[:phoff + phentsize * phnum])
    for i in range(phnum):
        at = phoff + i * phentsize
        struct.pack_into("<QQ", head, at + 8, 0, 0)       # p_offset, p_vaddr
        struct.pack_into("<Q", head, at + 32, 0)          # p_filesz
    return bytes(head)


def loader(name, contents, flags=0):
    return bytes([flags]) + name + b"\0" + contents


def loader_seeds():
    elf = hpy0_so()
    phoff, phentsize, phnum = elf_parts(elf)
    table_end = phoff + phentsize * phnum
    wrong_class = bytearray(elf[:table_end])
    wrong_class[4] = 1
    many = bytearray(elf[:64])
    struct.pack_into("<H", many, 56, 0xFFFF)
    return [
        loader(b"seed", b""),
        loader(b"seed", b"not an ELF file"),
        loader(b"seed", elf[:16]),
        loader(b"seed", elf[:64]),                       # table past the end
        loader(b"pkg.sub.seed", elf[:table_end]),        # segments past the end
        loader(b"seed-ext", segments_zeroed(elf)),       # accepted
        loader(b"seed", bytes(wrong_class)),
        loader(b"seed", bytes(many)),
        loader(b"caf\xc3\xa9", elf[:table_end]),
        loader(b"\x00", b"\x7fELF"),
        loader(bytes([12, 0]), elf[:64], flags=1),       # name: an empty tuple
    ]


DICTS = {
    "argparse": ["i", "I", "b", "B", "h", "H", "l", "k", "L", "K", "n", "f",
                 "d", "O", "p", "s", "|", "$", ":", ";", ",", "\\x00"],
    "buildvalue": ["i", "I", "l", "k", "L", "K", "n", "f", "d", "s", "O",
                   "S", "N", "(", ")", "[", "]", "{", "}", ":", ",", " ",
                   "\\x00"],
    "fromformat": ["%d", "%i", "%u", "%x", "%c", "%p", "%s", "%U", "%V",
                   "%S", "%R", "%A", "%%", "%ld", "%lld", "%zd", "%lu",
                   "%llu", "%zu", "%0", ".", "\\x00"],
    "hpy_env": ["debug", "trace", "universal", ":", ",", "\\x00"],
    "loader": ["\\x7fELF", "\\x02\\x01\\x01", ".hpy0", "\\x00"],
}


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for seed in seeds:
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(seeds)} seeds", file=sys.stderr)


def main():
    write("argparse", ARGPARSE)
    write("buildvalue", BUILDVALUE)
    write("fromformat", FROMFORMAT)
    write("hpy_env", HPY_ENV)
    write("loader", loader_seeds())
    os.makedirs(os.path.join(HERE, "dict"), exist_ok=True)
    for target, tokens in DICTS.items():
        with open(os.path.join(HERE, "dict", f"{target}.dict"), "w") as f:
            f.write(f"# tokens of the {target} target's input (written by fuzz/seeds.py)\n")
            for t in tokens:
                f.write(f'"{t}"\n')


if __name__ == "__main__":
    main()
