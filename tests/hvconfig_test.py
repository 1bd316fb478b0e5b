#!/usr/bin/env python3
"""Tests of scripts/hvconfig (Python standard library only):

  python3 tests/hvconfig_test.py [-v]

Every mistake a user can make must give its exact `FILE:LINE: message`
line; a good file must compile into a blob that decodes back (layout of
kernel/config.h) with a correct crc32. With HVCFG_SAMPLE_OUT=PATH the
compiled SAMPLE blob is also written to PATH, for the C parser's test
(`HVCFG_SAMPLE_BLOB=PATH build/unit/test_config`), so both sides are held
to the same layout.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HVCONFIG = os.path.join(ROOT, "scripts", "hvconfig")

HEADER = struct.Struct("<8sIIIIIIIIII")
DOMAIN = struct.Struct("<IIIIQQIIIIIIIIII")
RANGE = struct.Struct("<QQ")
MODULE = struct.Struct("<II")
DEVICE = struct.Struct("<HBBI")

# Also checked, field by field, by test_sample_from_hvconfig in
# tests/unit/test_config.c: change both together.
SAMPLE = """\
[hypervisor]
console = "0x3f8"
baud = 115200
on_idle = "halt"
terminal = "tagged"
shell = true

[[domain]]
name = "linux0"
cpus = [1, 2]
memory = "256M"
kernel = "guests/bzImage"
cmdline = "console=ttyS0"
on_crash = "restart"
initrd = "guests/initrd.gz"
devices = ["00:03.0", "0001:ff:1f.7"]

[[domain]]
name = "rt-1"
cpus = [63, 3]
memory = "1GiB"
kernel = "guests/rt.elf"
modules = ["guests/rt.elf  rt args ", "guests/initrd.gz"]
autostart = false
console_log = "1M"

[[domain]]
name = "x_y"
cpus = [0]
memory = 50565120   # 12345 pages, in bytes
kernel = "guests/bzImage"
cmdline = 'a="b c"'
console_log = 5000          # rounded up to 8K
autostart = true

[[domain]]
name = "fixed"
cpus = [4, 5]
memory = [
    "0x40000000-0x40200000",   # guest-physical 0..2M
    "0x10000000 - 0x10100000", # then 2M..3M
]
kernel = "guests/bzImage"
on_crash = "stop"
devices = [
    "0000:00:05.0",            # the same as "00:05.0"
]
"""

# One valid domain, for tests that add a mistake to it.
GOOD = """\
[[domain]]
name = "a"
cpus = [0]
memory = "16M"
kernel = "k.elf"
"""


def decode(blob):
    """The blob as a dict, checking the invariants hvconfig promises."""
    (magic, version, total, crc, flags, on_idle, ndomains, domains_off, domain_size,
     strings_off, strings_size) = HEADER.unpack_from(blob, 0)
    zeroed = blob[:16] + b"\0\0\0\0" + blob[20:]
    strings = blob[strings_off:strings_off + strings_size]

    def string(off):
        assert off < len(strings), off
        return strings[off:strings.index(b"\0", off)].decode()

    domains = []
    for i in range(ndomains):
        (name, kernel, cmdline, dflags, cpus, memory, nranges, ranges_off, on_crash,
         kernel_path, initrd, nmodules, modules_off, console_log, ndevices,
         devices_off) = DOMAIN.unpack_from(blob, domains_off + i * domain_size)
        assert kernel_path != 0 and (ranges_off == 0) == (nranges == 0), (kernel_path, ranges_off)
        assert ranges_off % 8 == 0 and ranges_off + 16 * nranges <= strings_off, ranges_off
        assert 4096 <= console_log <= 16 << 20 and console_log % 4096 == 0, console_log
        assert dflags & ~1 == 0 and (modules_off == 0) == (nmodules == 0), (dflags, modules_off)
        assert modules_off % 8 == 0 and modules_off + 8 * nmodules <= strings_off, modules_off
        assert (devices_off == 0) == (ndevices == 0), devices_off
        assert devices_off % 8 == 0 and devices_off + 8 * ndevices <= strings_off, devices_off
        devices = [DEVICE.unpack_from(blob, devices_off + 8 * k) for k in range(ndevices)]
        assert all(reserved == 0 for *_, reserved in devices), devices
        ranges = [RANGE.unpack_from(blob, ranges_off + 16 * k) for k in range(nranges)]
        assert not ranges or memory == sum(size for _, size in ranges), (memory, ranges)
        modules = [MODULE.unpack_from(blob, modules_off + 8 * k) for k in range(nmodules)]
        dom = dict(name=string(name), kernel=string(kernel), path=string(kernel_path),
                   cmdline=string(cmdline), flags=dflags, cpus=cpus, memory=memory, on_crash=on_crash,
                   console_log=console_log, ranges=[(base, base + size) for base, size in ranges])
        # Only when present, so that plain domains compare as before.
        if initrd:
            dom["initrd"] = string(initrd)
        if modules:
            dom["modules"] = [(string(n), string(a)) for n, a in modules]
        if devices:
            dom["devices"] = [(seg, bus, devfn) for seg, bus, devfn, _ in devices]
        domains.append(dom)
    return dict(magic=magic, version=version, total=total, crc=crc,
                crc_ok=crc == zlib.crc32(zeroed), flags=flags, on_idle=on_idle,
                domains_off=domains_off, domain_size=domain_size, strings_off=strings_off,
                strings_size=strings_size, first_string=strings[:1], domains=domains)


def write_elf(path, is64, segments, phoff=None):
    """A minimal little-endian x86 ET_EXEC ELF with these (p_type, p_paddr,
    p_memsz) program headers and no loadable bytes (p_filesz 0)."""
    ehsize, phentsize = (64, 56) if is64 else (52, 32)
    phoff = ehsize if phoff is None else phoff
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1, 1]) + bytes(9)
    if is64:
        head = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100000, phoff, 0, 0, ehsize,
                                   phentsize, len(segments), 0, 0, 0)
        phdrs = b"".join(struct.pack("<IIQQQQQQ", t, 5, 0, paddr, paddr, 0, memsz, 0x1000)
                         for t, paddr, memsz in segments)
    else:
        head = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0x100000, phoff, 0, 0, ehsize,
                                   phentsize, len(segments), 0, 0, 0)
        phdrs = b"".join(struct.pack("<IIIIIIII", t, 0, paddr, paddr, 0, memsz, 5, 0x1000)
                         for t, paddr, memsz in segments)
    assert len(head) == ehsize
    with open(path, "wb") as f:
        f.write(head + (phdrs if phoff == ehsize else bytes(64)))


def write_bzimage_magic(data):
    """What makes the loader (and hvconfig) take an image for a Linux
    bzImage: boot flag 0xaa55 at 0x1fe, "HdrS" at 0x202."""
    data[0x1fe:0x200] = b"\x55\xaa"
    data[0x202:0x206] = b"HdrS"


class HvconfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hvconfig-test-")
        self.addCleanup(shutil.rmtree, self.dir)
        os.makedirs(os.path.join(self.dir, "guests"))
        for name, size in (("k.elf", 64), ("guests/bzImage", 4096), ("guests/rt.elf", 100),
                           ("tiny.elf", 63), ("guests/initrd.gz", 5000)):
            data = bytearray(bytes(range(256)) * (size // 256) + bytes(size % 256))
            if name == "guests/bzImage":
                write_bzimage_magic(data)
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(data)

    def run_tool(self, *args, text=None, name="sys.toml", cwd=None):
        """(exit status, stdout, stderr lines); `text` is written to `name`
        in the temporary directory, where the tool runs."""
        if text is not None:
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        p = subprocess.run([sys.executable, HVCONFIG, *args], cwd=cwd or self.dir,
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr.splitlines()

    def assert_errors(self, text, *expected, args=()):
        """`hvconfig check` fails with exactly these stderr lines."""
        rc, out, err = self.run_tool("check", "sys.toml", *args, text=text)
        self.assertEqual(err, list(expected))
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")

    def compile_ok(self, text, *args):
        out = os.path.join(self.dir, "out.bin")
        rc, _, err = self.run_tool("compile", "sys.toml", "-o", out, *args, text=text)
        self.assertEqual(rc, 0, err)
        with open(out, "rb") as f:
            return f.read(), err

    # ---- good files -----------------------------------------------------------
    def test_sample_blob_decodes(self):
        blob, err = self.compile_ok(SAMPLE)
        self.assertEqual(err, [])
        b = decode(blob)
        self.assertEqual(b["magic"], b"HVCONFIG")
        self.assertEqual(b["version"], 6)
        self.assertEqual(b["total"], len(blob))
        self.assertTrue(b["crc_ok"])
        self.assertEqual((b["flags"], b["on_idle"]), (2, 1))   # terminal "tagged", shell on
        self.assertEqual((b["domains_off"], b["domain_size"]), (48, 72))
        self.assertEqual(b["strings_off"] % 8, 0)
        # header | 4 domain records | fixed's 2 ranges | rt-1's 2 modules |
        # linux0's 2 devices, fixed's 1 | strings
        self.assertEqual(b["strings_off"], 48 + 4 * 72 + 2 * 16 + 2 * 8 + 3 * 8)
        self.assertEqual(b["strings_off"] + b["strings_size"], len(blob))
        self.assertEqual(b["first_string"], b"\0")
        self.assertEqual(b["domains"], [
            dict(name="linux0", kernel="linux0.kernel", path="guests/bzImage",
                 cmdline="console=ttyS0", flags=0, console_log=64 << 10,
                 cpus=0x6, memory=256 << 20, on_crash=1, ranges=[], initrd="linux0.initrd",
                 devices=[(0, 0, 3 << 3), (1, 0xff, 0x1f << 3 | 7)]),
            dict(name="rt-1", kernel="rt-1.kernel", path="guests/rt.elf", cmdline="", flags=1,
                 console_log=1 << 20, cpus=(1 << 63) | (1 << 3), memory=1 << 30, on_crash=0,
                 ranges=[], modules=[("rt-1.mod0", "rt args"), ("rt-1.mod1", "")]),
            dict(name="x_y", kernel="x_y.kernel", path="guests/bzImage", cmdline='a="b c"',
                 flags=0, console_log=8192,
                 cpus=0x1, memory=12345 * 4096, on_crash=0, ranges=[]),
            dict(name="fixed", kernel="fixed.kernel", path="guests/bzImage", cmdline="",
                 flags=0, console_log=64 << 10, cpus=0x30,
                 memory=3 << 20, on_crash=0,
                 ranges=[(0x40000000, 0x40200000), (0x10000000, 0x10100000)],
                 devices=[(0, 0, 5 << 3)]),
        ])
        # An absent cmdline is offset 0: the empty string.
        self.assertEqual(DOMAIN.unpack_from(blob, 48 + 72)[2], 0)
        # The ranges sit right after the records, the modules after them,
        # the devices after those, in domain order.
        after = 48 + 4 * 72
        self.assertEqual(DOMAIN.unpack_from(blob, 48 + 3 * 72)[6:8], (2, after))
        self.assertEqual(DOMAIN.unpack_from(blob, 48 + 72)[11:13], (2, after + 2 * 16))
        devices_at = after + 2 * 16 + 2 * 8
        self.assertEqual(DOMAIN.unpack_from(blob, 48)[14:16], (2, devices_at))
        self.assertEqual(DOMAIN.unpack_from(blob, 48 + 3 * 72)[14:16], (1, devices_at + 16))
        # The device records, byte for byte: segment, bus, devfn, reserved.
        self.assertEqual(blob[devices_at:devices_at + 24],
                         bytes([0, 0, 0, 0x18, 0, 0, 0, 0,
                                1, 0, 0xff, 0xff, 0, 0, 0, 0,
                                0, 0, 0, 0x28, 0, 0, 0, 0]))
        # No initrd, no modules, no devices: offsets 0 (console_log between).
        self.assertEqual(DOMAIN.unpack_from(blob, 48 + 2 * 72)[10:16], (0, 0, 0, 8192, 0, 0))
        # The version 6 words, byte for byte: header flags at 20, rt-1's
        # flags at 12 and console_log at 60 of its record.
        self.assertEqual(blob[8:12] + blob[20:24], bytes([6, 0, 0, 0, 2, 0, 0, 0]))
        self.assertEqual(blob[48 + 72 + 12:48 + 72 + 16], bytes([1, 0, 0, 0]))
        self.assertEqual(blob[48 + 72 + 60:48 + 72 + 64], bytes([0, 0, 0x10, 0]))
        if os.environ.get("HVCFG_SAMPLE_OUT"):
            with open(os.environ["HVCFG_SAMPLE_OUT"], "wb") as f:
                f.write(blob)

    def test_compile_is_deterministic_and_check_writes_nothing(self):
        first, _ = self.compile_ok(SAMPLE)
        second, _ = self.compile_ok(SAMPLE)
        self.assertEqual(first, second)
        rc, out, err = self.run_tool("check", "sys.toml", text=SAMPLE)
        self.assertEqual((rc, out, err), (0, "", []))

    def test_default_config(self):
        shutil.copy(os.path.join(self.dir, "k.elf"), os.path.join(self.dir, "hvtest.elf"))
        os.makedirs(os.path.join(self.dir, "linux"), exist_ok=True)
        for f in ("bzImage", "initrd.gz"):
            shutil.copy(os.path.join(self.dir, "k.elf"), os.path.join(self.dir, "linux", f))
        default = os.path.join(ROOT, "guest-images", "default.toml")
        out = os.path.join(self.dir, "default.bin")
        rc, _, err = self.run_tool("compile", default, "-o", out, "--base", self.dir)
        self.assertEqual((rc, err), (0, []))
        with open(out, "rb") as f:
            b = decode(f.read())
        self.assertTrue(b["crc_ok"])
        self.assertEqual(b["on_idle"], 0)
        self.assertEqual([d["name"] for d in b["domains"]], ["linux", "test0"])
        linux, test0 = b["domains"]
        self.assertEqual((linux["kernel"], linux["cmdline"], linux["cpus"], linux["memory"]),
                         ("linux.kernel", "console=ttyS0,115200 tsc=reliable", 0b110, 256 << 20))
        self.assertEqual((test0["kernel"], test0["cmdline"], test0["cpus"], test0["memory"]),
                         ("test0.kernel", "expect-mem=32M input=line", 0b1000, 32 << 20))
        self.assertEqual((linux["path"], test0["path"]), ("linux/bzImage", "hvtest.elf"))
        # None of the version 6 keys: shell on, terminal "focus", both
        # domains started at boot with a 64K console log.
        self.assertEqual((b["flags"], linux["flags"], test0["flags"]), (0, 0, 0))
        self.assertEqual((linux["console_log"], test0["console_log"]), (64 << 10, 64 << 10))

    def test_modules(self):
        rc, out, err = self.run_tool("modules", "sys.toml", text=SAMPLE)
        self.assertEqual((rc, err), (0, []))
        bz = os.path.join(self.dir, "guests", "bzImage")
        rt = os.path.join(self.dir, "guests", "rt.elf")
        initrd = os.path.join(self.dir, "guests", "initrd.gz")
        self.assertEqual(out.splitlines(), [
            f"{bz}\tlinux0.kernel",
            f"{initrd}\tlinux0.initrd",
            f"{rt}\trt-1.kernel",
            f"{rt}\trt-1.mod0",
            f"{initrd}\trt-1.mod1",
            f"{bz}\tx_y.kernel",
            f"{bz}\tfixed.kernel",
        ])

    def test_paths_relative_to_toml_or_base(self):
        # From another directory, paths still resolve against the file's.
        sub = os.path.join(self.dir, "guests")
        rc, out, _ = self.run_tool("modules", os.path.join(self.dir, "sys.toml"),
                                   text=GOOD.replace("k.elf", "guests/rt.elf"), cwd=sub)
        self.assertEqual(rc, 0)
        self.assertEqual(out, f"{os.path.join(sub, 'rt.elf')}\ta.kernel\n")
        # With --base, against the base (relative to the working directory).
        rc, out, _ = self.run_tool("modules", "sys.toml", "--base", "guests",
                                   text=GOOD.replace("k.elf", "rt.elf"))
        self.assertEqual(rc, 0)
        self.assertEqual(out, f"{os.path.join(sub, 'rt.elf')}\ta.kernel\n")

    def test_memory_forms(self):
        forms = {'"64M"': 64 << 20, '"64m"': 64 << 20, '"64MiB"': 64 << 20, '"64MB"': 64 << 20,
                 '"1G"': 1 << 30, '"1gib"': 1 << 30, '"2048K"': 2 << 20, '"512G"': 512 << 30,
                 '"1048576"': 1 << 20, "1048576": 1 << 20, "0x200000": 2 << 20}
        for form, size in forms.items():
            with self.subTest(form=form):
                blob, _ = self.compile_ok(GOOD.replace('"16M"', form))
                self.assertEqual(decode(blob)["domains"][0]["memory"], size)

    def test_hypervisor_keys(self):
        for console in ("auto", "com1", "COM2", "0x3f8", "0x2F8"):
            blob, err = self.compile_ok(f'[hypervisor]\nconsole = "{console}"\nbaud = 9600\n'
                                        'on_idle = "poweroff"\n' + GOOD)
            self.assertEqual((decode(blob)["on_idle"], err), (0, []))
        self.assertEqual(decode(self.compile_ok(GOOD)[0])["on_idle"], 0)   # the default

    def test_shell_and_terminal(self):
        """[hypervisor] shell and terminal: header flags bit 0 (shell =
        false) and bit 1 (terminal = "tagged"); without them, 0."""
        default = self.compile_ok(GOOD)[0]
        self.assertEqual((decode(default)["flags"], default[20:24]), (0, bytes(4)))
        cases = {'shell = true\nterminal = "focus"\n': 0, "shell = false\n": 1,
                 'terminal = "tagged"\n': 2, 'terminal = "tagged"\nshell = false\n': 3,
                 'shell = true\nterminal = "tagged"\n': 2}
        for keys, flags in cases.items():
            with self.subTest(keys=keys):
                blob, err = self.compile_ok("[hypervisor]\n" + keys + GOOD)
                self.assertEqual((decode(blob)["flags"], err), (flags, []))
                self.assertEqual(blob[20:24], bytes([flags, 0, 0, 0]))
        # The defaults written out: the same blob as without them.
        self.assertEqual(self.compile_ok('[hypervisor]\nshell = true\nterminal = "focus"\n' +
                                         GOOD)[0], default)

    def test_shell_and_terminal_mistakes(self):
        self.assert_errors('[hypervisor]\nshell = "false"\nterminal = true\n' + GOOD,
                           "sys.toml:2: 'shell' must be a boolean (true or false), not string",
                           "sys.toml:3: 'terminal' must be a string, not boolean")
        self.assert_errors('[hypervisor]\nshell = 0\nterminal = "split"\n' + GOOD,
                           "sys.toml:2: 'shell' must be a boolean (true or false), not integer",
                           "sys.toml:3: terminal 'split' is invalid: use \"focus\" or \"tagged\"")
        self.assert_errors('[hypervisor]\nterminal = "Tagged"\nshell = []\n' + GOOD,
                           "sys.toml:2: terminal 'Tagged' is invalid: use \"focus\" or "
                           "\"tagged\"",
                           "sys.toml:3: 'shell' must be a boolean (true or false), not array")
        # Keys of the other table are not taken for these.
        self.assert_errors('[hypervisor]\nautostart = true\n' + GOOD + "shell = true\n",
                           "sys.toml:2: unknown key 'autostart' in [hypervisor]",
                           "sys.toml:8: unknown key 'shell' in [[domain]]")

    def test_autostart(self):
        """autostart = false is bit 0 of the domain's flags; true, the
        default, is 0. Every domain may wait, with the shell there."""
        plain = self.compile_ok(GOOD)[0]
        blob, err = self.compile_ok(GOOD + "autostart = false\n")
        self.assertEqual((decode(blob)["domains"][0]["flags"], err), (1, []))
        self.assertEqual(blob[48 + 12:48 + 16], bytes([1, 0, 0, 0]))
        self.assertEqual(blob[20:24], bytes(4))        # the header's flags stay 0
        self.assertEqual(plain[48 + 12:48 + 16], bytes(4))
        self.assertEqual(self.compile_ok(GOOD + "autostart = true\n")[0], plain)
        b = GOOD.replace('"a"', '"b"').replace("[0]", "[1]")
        both = GOOD + "autostart = false\n" + b + "autostart = false\n"
        for shell in ("", "[hypervisor]\nshell = true\n"):
            with self.subTest(shell=shell):
                blob, err = self.compile_ok(shell + both)
                self.assertEqual(err, [])
                self.assertEqual([d["flags"] for d in decode(blob)["domains"]], [1, 1])
        blob, _ = self.compile_ok(GOOD + b + "autostart = false\n")
        self.assertEqual([d["flags"] for d in decode(blob)["domains"]], [0, 1])
        self.assert_errors(GOOD + 'autostart = "false"\n',
                           "sys.toml:6: 'autostart' must be a boolean (true or false), not string")
        self.assert_errors(GOOD + "autostart = 0\n",
                           "sys.toml:6: 'autostart' must be a boolean (true or false), not integer")

    def test_autostart_needs_the_shell(self):
        """With shell = false nothing could start a domain that waits for
        `start`: an error on its autostart line, for each such domain."""
        never = ("could never start: autostart = false needs the shell "
                 "(shell = true in [hypervisor])")
        b = GOOD.replace('"a"', '"b"').replace("[0]", "[1]")
        c = GOOD.replace('"a"', '"C"').replace("[0]", "[2]")
        self.assert_errors("[hypervisor]\nshell = false\n\n" + GOOD + "autostart = false\n" +
                           b + "autostart = true\n" + c + 'cmdline = ""\nautostart = false\n',
                           f"sys.toml:9: domain \"a\" {never}",
                           "sys.toml:17: name 'C' is invalid: use 1..16 characters from a-z, "
                           "0-9, '_' and '-'",
                           f"sys.toml:22: [[domain]] #3 {never}")
        # [hypervisor] after the domains: the same check.
        self.assert_errors(GOOD + b + "autostart = false\n[hypervisor]\nshell = false\n",
                           f"sys.toml:11: domain \"b\" {never}")
        # Only a valid shell = false counts; started domains need no shell.
        self.assert_errors('[hypervisor]\nshell = "no"\n' + GOOD + "autostart = false\n",
                           "sys.toml:2: 'shell' must be a boolean (true or false), not string")
        blob, err = self.compile_ok("[hypervisor]\nshell = false\n" + GOOD + "autostart = true\n"
                                    + b)
        self.assertEqual((decode(blob)["flags"], err), (1, []))
        self.assertEqual([d["flags"] for d in decode(blob)["domains"]], [0, 0])

    def test_console_log(self):
        """A size as memory takes it; not a multiple of 4K: rounded up, and
        the blob holds the rounded value."""
        forms = {'"64K"': 64 << 10, '"4K"': 4096, '"4096"': 4096, "4096": 4096,
                 '"1M"': 1 << 20, '"16M"': 16 << 20, '"16MiB"': 16 << 20, "16777216": 16 << 20,
                 '"8k"': 8192, "0x2000": 8192,
                 "4097": 8192, '"5000"': 8192, '"63K"': 64 << 10, '"1025K"': 1028 << 10,
                 "16773121": 16 << 20}
        for form, size in forms.items():
            with self.subTest(form=form):
                blob, err = self.compile_ok(GOOD + f"console_log = {form}\n")
                self.assertEqual((decode(blob)["domains"][0]["console_log"], err), (size, []))
                self.assertEqual(blob[48 + 60:48 + 64], struct.pack("<I", size))
        plain = self.compile_ok(GOOD)[0]
        self.assertEqual(decode(plain)["domains"][0]["console_log"], 64 << 10)   # the default
        self.assertEqual(self.compile_ok(GOOD + 'console_log = "64K"\n')[0], plain)
        # Each domain its own, in its own record.
        two = (GOOD + 'console_log = "1M"\n' + GOOD.replace('"a"', '"b"').replace("[0]", "[1]"))
        blob, _ = self.compile_ok(two)
        self.assertEqual([d["console_log"] for d in decode(blob)["domains"]],
                         [1 << 20, 64 << 10])

    def test_console_log_mistakes(self):
        not_size = ("is not a size: write an integer of bytes or a string like \"64K\" "
                    "(K, M, G: binary units)")
        cases = [('"2K"', "console_log '2K' is too small: it must be 4K..16M"),
                 ("4095", "console_log 4095 is too small: it must be 4K..16M"),
                 ('"0"', "console_log '0' is too small: it must be 4K..16M"),
                 ("-4096", "console_log -4096 is too small: it must be 4K..16M"),
                 ('"17M"', "console_log '17M' is too large: it must be 4K..16M"),
                 ("16777217", "console_log 16777217 is too large: it must be 4K..16M"),
                 ('"1G"', "console_log '1G' is too large: it must be 4K..16M"),
                 ('"64X"', f"console_log '64X' {not_size}"),
                 ('"1.5K"', f"console_log '1.5K' {not_size}"),
                 ('""', f"console_log '' {not_size}"),
                 ("64.5", "'console_log' must be a string like \"64K\" or an integer of bytes, "
                          "not float"),
                 ("true", "'console_log' must be a string like \"64K\" or an integer of bytes, "
                          "not boolean"),
                 ('["64K"]', "'console_log' must be a string like \"64K\" or an integer of "
                             "bytes, not array")]
        for value, msg in cases:
            with self.subTest(value=value):
                self.assert_errors(GOOD + f"console_log = {value}\n", f"sys.toml:6: {msg}")

    def test_devices_compile(self):
        text = GOOD + ('devices = ["00:03.0", "0000:01:00.1", " 00:1F.7 ", "ABCD:fe:00.0"]\n'
                       'on_crash = "restart"\n')
        blob, err = self.compile_ok(text)
        self.assertEqual(err, [])
        dom = decode(blob)["domains"][0]
        self.assertEqual(dom["devices"], [(0, 0, 0x18), (0, 1, 1), (0, 0, 0xff),
                                          (0xabcd, 0xfe, 0)])
        self.assertEqual(dom["on_crash"], 1)
        # Sixteen are allowed; each domain's own, in domain order.
        sixteen = ", ".join(f'"00:{d:02x}.0"' for d in range(16))
        two = (GOOD + f"devices = [{sixteen}]\n" +
               GOOD.replace('"a"', '"b"').replace("[0]", "[1]") + 'devices = ["00:10.0"]\n')
        b = decode(self.compile_ok(two)[0])
        self.assertEqual(b["domains"][0]["devices"], [(0, 0, d << 3) for d in range(16)])
        self.assertEqual(b["domains"][1]["devices"], [(0, 0, 0x80)])
        # An empty list is no devices: offsets 0, as without the key.
        blob, err = self.compile_ok(GOOD + "modules = []\ndevices = []\n")
        self.assertEqual(err, [])
        self.assertNotIn("modules", decode(blob)["domains"][0])
        self.assertNotIn("devices", decode(blob)["domains"][0])
        self.assertEqual(blob, self.compile_ok(GOOD)[0])

    def test_device_mistakes(self):
        not_bdf = ("is not a PCI function like \"00:03.0\" or \"0000:00:03.0\" "
                   "([SEGMENT:]BUS:DEVICE.FUNCTION, in hex)")
        self.assert_errors(GOOD + 'devices = [\n  "0:3",\n  "00:03",\n  "000:00:03.0",\n'
                           '  "00:03.0.1",\n  "0x00:03.0",\n  "",\n]\n',
                           f"sys.toml:6: devices: '0:3' {not_bdf}",
                           f"sys.toml:6: devices: '00:03' {not_bdf}",
                           f"sys.toml:6: devices: '000:00:03.0' {not_bdf}",
                           f"sys.toml:6: devices: '00:03.0.1' {not_bdf}",
                           f"sys.toml:6: devices: '0x00:03.0' {not_bdf}",
                           f"sys.toml:6: devices: '' {not_bdf}")
        self.assert_errors(GOOD + 'devices = ["00:20.0", "00:03.8", "g0:00.0"]\n',
                           "sys.toml:6: devices: '00:20.0': device 20 is out of range (00-1f)",
                           "sys.toml:6: devices: '00:03.8': function 8 is out of range (0-7)",
                           f"sys.toml:6: devices: 'g0:00.0' {not_bdf}")
        # The same function twice, however it is written; the line of the key.
        self.assert_errors(GOOD + 'cmdline = "x"\ndevices = ["00:05.0", "0000:00:05.0", '
                           '"00:05.1", "00:05.0"]\n',
                           "sys.toml:7: devices: device 00:05.0 is listed twice",
                           "sys.toml:7: devices: device 00:05.0 is listed twice")
        self.assert_errors(GOOD + 'devices = ["0001:00:05.0", "1:00:05.0", "0001:00:05.0"]\n',
                           f"sys.toml:6: devices: '1:00:05.0' {not_bdf}",
                           "sys.toml:6: devices: device 0001:00:05.0 is listed twice")
        seventeen = ", ".join(f'"00:{d:02x}.0"' for d in range(17))
        self.assert_errors(GOOD + f"devices = [{seventeen}]\n",
                           "sys.toml:6: devices: 17 entries (at most 16)")
        self.assert_errors(GOOD + 'devices = "00:03.0"\n',
                           "sys.toml:6: 'devices' must be an array of strings, not string")
        self.assert_errors(GOOD + 'devices = ["00:03.0", 3]\n',
                           "sys.toml:6: 'devices' must be an array of strings, "
                           "not an array holding a integer")

    def test_devices_across_domains(self):
        text = (GOOD + 'devices = ["00:05.0", "00:06.0"]\n\n' +
                GOOD.replace('"a"', '"b"').replace("[0]", "[1]") +
                'devices = ["00:07.0", "0000:00:05.0"]\n\n' +
                GOOD.replace('"a"', '"c"').replace("[0]", "[2]") +
                'devices = [\n  "00:05.0",\n  "00:07.0",\n]\n')
        self.assert_errors(text,
                           "sys.toml:13: devices: device 00:05.0 is already in domain \"a\"",
                           "sys.toml:20: devices: device 00:05.0 is already in domain \"a\"",
                           "sys.toml:20: devices: device 00:05.0 is already in domain \"b\"",
                           "sys.toml:20: devices: device 00:07.0 is already in domain \"b\"")
        # A domain with an invalid name is still named by its position.
        bad = (GOOD.replace('"a"', '"A"') + 'devices = ["00:05.0"]\n' +
               GOOD.replace('"a"', '"b"').replace("[0]", "[1]") + 'devices = ["00:05.0"]\n')
        rc, _, err = self.run_tool("check", "sys.toml", text=bad)
        self.assertEqual(rc, 1)
        self.assertEqual(err[-1], "sys.toml:12: devices: device 00:05.0 is already in "
                         "[[domain]] #1")
        # Different segments, buses or functions are different functions.
        ok = (GOOD + 'devices = ["00:05.0"]\n' +
              GOOD.replace('"a"', '"b"').replace("[0]", "[1]") +
              'devices = ["0001:00:05.0", "01:05.0", "00:05.1"]\n')
        self.compile_ok(ok)

    def test_allow_shared_devices(self):
        text = (GOOD + 'devices = ["00:05.0"]\n' +
                GOOD.replace('"a"', '"b"').replace("[0]", "[1]") +
                'devices = ["00:06.0", "00:05.0"]\n')
        shared = ("sys.toml:12: warning: devices: device 00:05.0 is already in domain \"a\" "
                  "(kept: --allow-shared-devices; the hypervisor's boot-time check decides)")
        out = os.path.join(self.dir, "out.bin")
        rc, _, err = self.run_tool("compile", "sys.toml", "-o", out, text=text)
        self.assertEqual((rc, err[0]), (1, "sys.toml:12: devices: device 00:05.0 is already "
                                            "in domain \"a\""))
        self.assertFalse(os.path.exists(out))
        # With the flag: a warning, and both domains keep the function.
        blob, err = self.compile_ok(text, "--allow-shared-devices")
        self.assertEqual(err, [shared])
        b = decode(blob)
        self.assertEqual(b["version"], 6)
        self.assertEqual([d["devices"] for d in b["domains"]],
                         [[(0, 0, 0x28)], [(0, 0, 0x30), (0, 0, 0x28)]])
        rc, _, err = self.run_tool("check", "sys.toml", "--allow-shared-devices", text=text)
        self.assertEqual((rc, err), (0, [shared]))
        rc, out_text, err = self.run_tool("modules", "sys.toml", "--allow-shared-devices",
                                          text=text)
        self.assertEqual((rc, err, len(out_text.splitlines())), (0, [], 2))
        # It changes nothing else: a duplicate within a domain stays an error.
        self.assert_errors(GOOD + 'devices = ["00:05.0", "00:05.0"]\n',
                           "sys.toml:6: devices: device 00:05.0 is listed twice",
                           args=("--allow-shared-devices",))

    def test_mkimage_passes_hvconfig_flags(self):
        """scripts/mkimage --hvconfig-flag FLAG reaches hvconfig compile and
        modules; the ESP it writes carries the blob as hv/hv.config."""
        text = (GOOD + 'devices = ["00:05.0"]\n' +
                GOOD.replace('"a"', '"b"').replace("[0]", "[1]") + 'devices = ["00:05.0"]\n')
        with open(os.path.join(self.dir, "sys.toml"), "w") as f:
            f.write(text)
        for name in ("hv.elf", "BOOTX64.EFI"):
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(b"\0" * 64)
        mkimage = os.path.join(ROOT, "scripts", "mkimage")
        esp = os.path.join(self.dir, "esp")
        cmd = [sys.executable, mkimage, "esp", "--config", "sys.toml", "--elf", "hv.elf",
               "--efi", "BOOTX64.EFI", "--out", esp]
        p = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("is already in domain \"a\"", p.stderr)
        for flags in (["--hvconfig-flag", "--allow-shared-devices"],
                      ["--hvconfig-flag=--allow-shared-devices"]):
            with self.subTest(flags=flags):
                p = subprocess.run(cmd + flags, cwd=self.dir, capture_output=True, text=True,
                                   timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(os.path.join(esp, "hv", "hv.config"), "rb") as f:
                    b = decode(f.read())
                self.assertEqual([d["devices"] for d in b["domains"]],
                                 [[(0, 0, 0x28)], [(0, 0, 0x28)]])

    def test_initrd_and_modules_compile(self):
        text = GOOD + ('initrd = "guests/initrd.gz"\n'
                       'modules = ["guests/rt.elf arg one  two", "\tk.elf\t \tx=1 ", "k.elf"]\n')
        blob, err = self.compile_ok(text)
        self.assertEqual(err, [])
        dom = decode(blob)["domains"][0]
        self.assertEqual(dom["initrd"], "a.initrd")
        # args: the rest after the first run of blanks, outer blanks dropped.
        self.assertEqual(dom["modules"], [("a.mod0", "arg one  two"), ("a.mod1", "x=1"),
                                          ("a.mod2", "")])
        rc, out, err = self.run_tool("modules", "sys.toml", text=text)
        self.assertEqual((rc, err), (0, []))
        k = os.path.join(self.dir, "k.elf")
        self.assertEqual(out.splitlines(), [
            f"{k}\ta.kernel",
            f"{os.path.join(self.dir, 'guests', 'initrd.gz')}\ta.initrd",
            f"{os.path.join(self.dir, 'guests', 'rt.elf')}\ta.mod0",
            f"{k}\ta.mod1", f"{k}\ta.mod2"])
        # 16 modules and 255 bytes of args are allowed.
        blob, _ = self.compile_ok(GOOD + "modules = [" +
                                  ", ".join(f'"k.elf {"y" * 255}"' for _ in range(16)) + "]\n")
        self.assertEqual(len(decode(blob)["domains"][0]["modules"]), 16)

    def test_initrd_and_modules_mistakes(self):
        self.assert_errors(GOOD + 'initrd = "nope.gz"\n',
                           "sys.toml:6: initrd 'nope.gz' not found (looked for "
                           f"{os.path.join(self.dir, 'nope.gz')})")
        self.assert_errors(GOOD + 'initrd = "guests"\n',
                           f"sys.toml:6: initrd 'guests' is not a regular file "
                           f"({os.path.join(self.dir, 'guests')})")
        self.assert_errors(GOOD + 'initrd = ""\n',
                           "sys.toml:6: initrd '' is not a usable file name")
        self.assert_errors(GOOD + 'modules = ["k.elf", "nope.bin arg", "guests x", " "]\n',
                           "sys.toml:6: modules: 'nope.bin' not found (looked for "
                           f"{os.path.join(self.dir, 'nope.bin')})",
                           "sys.toml:6: modules: 'guests' is not a regular file "
                           f"({os.path.join(self.dir, 'guests')})",
                           "sys.toml:6: modules: an entry is empty (write \"path [args]\")")
        self.assert_errors(GOOD + f'modules = ["k.elf {"y" * 256}"]\n',
                           "sys.toml:6: modules: the args of 'k.elf' are too long (256 bytes, "
                           "at most 255)")
        self.assert_errors(GOOD + 'modules = ["k.elf a\\u0000b"]\n',
                           "sys.toml:6: modules: the args of 'k.elf' must not contain a NUL "
                           "character")
        self.assert_errors(GOOD + "modules = [" + ", ".join(['"k.elf"'] * 17) + "]\n",
                           "sys.toml:6: modules: 17 entries (at most 16)")

    def test_initrd_and_modules_must_fit(self):
        # k.elf (64 bytes): one page + a page of boot info = 8K; a 5000-byte
        # initrd adds 8K, each module (64 bytes) 4K.
        for name, size in (("big.bin", (1 << 20) - 8192), ("big2.bin", (1 << 20) - 8191)):
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(bytes(size))
        self.compile_ok(GOOD.replace('"16M"', '"1M"') + 'initrd = "big.bin"\n')
        self.compile_ok(GOOD.replace('"16M"', '"1M"') + 'modules = ["big.bin"]\n')
        self.assert_errors(GOOD.replace('"16M"', '"1M"') + 'modules = ["big.bin", "k.elf"]\n',
                           "sys.toml:4: memory 1M is too small for k.elf with its modules "
                           "(needs at least 1.1M)")
        self.assert_errors(GOOD.replace('"16M"', '"1M"') + 'initrd = "big.bin"\n'
                           'modules = ["k.elf"]\n',
                           "sys.toml:4: memory 1M is too small for k.elf with its initrd and "
                           "modules (needs at least 1.1M)")
        self.assert_errors(GOOD.replace('"16M"', '["0x100000-0x200000"]') +
                           'initrd = "big.bin"\ndevices = []\nmodules = ["guests/initrd.gz"]\n',
                           "sys.toml:4: memory: the first range '0x100000-0x200000' (1M, "
                           "guest-physical 0) is too small for k.elf with its initrd and "
                           "modules (needs at least 1.1M)")
        self.assert_errors(GOOD.replace('"16M"', '"1M"') + 'initrd = "big2.bin"\n'
                           'cmdline = "x"\nmodules = []\ninitrd2 = 1\n',
                           "sys.toml:4: memory 1M is too small for k.elf with its initrd "
                           "(needs at least 1.1M)",
                           "sys.toml:9: unknown key 'initrd2' in [[domain]]")

    def test_on_crash(self):
        for value, code in (("stop", 0), ("restart", 1)):
            blob, err = self.compile_ok(GOOD + f'on_crash = "{value}"\n')
            self.assertEqual((decode(blob)["domains"][0]["on_crash"], err), (code, []))
        self.assertEqual(decode(self.compile_ok(GOOD)[0])["domains"][0]["on_crash"], 0)
        self.assert_errors(GOOD + 'on_crash = "reboot"\n',
                           "sys.toml:6: on_crash 'reboot' is invalid: use \"stop\" or \"restart\"")
        self.assert_errors(GOOD + 'on_crash = ["stop"]\n',
                           "sys.toml:6: 'on_crash' must be a string, not array")

    def test_memory_ranges(self):
        cases = {
            '["0x10000000-0x20000000"]': [(0x10000000, 0x20000000)],
            '["0x200000-0x400000", "0x100000-0x200000"]': [(0x200000, 0x400000),
                                                           (0x100000, 0x200000)],
            '[" 1048576 - 0x200000 "]': [(1 << 20, 2 << 20)],
            '["01048576-0002097152"]': [(1 << 20, 2 << 20)],
            '["0X1000-0X101000"]': [(0x1000, 0x101000)],
            '["0xffffffff00000-0x10000000000000"]': [((1 << 52) - (1 << 20), 1 << 52)],
        }
        for value, ranges in cases.items():
            with self.subTest(value=value):
                blob, err = self.compile_ok(GOOD.replace('"16M"', value))
                dom = decode(blob)["domains"][0]
                self.assertEqual(err, [])
                self.assertEqual(dom["ranges"], ranges)
                self.assertEqual(dom["memory"], sum(e - b for b, e in ranges))
        eight = "[" + ", ".join(f'"{hex(i << 20)}-{hex((i + 1) << 20)}"' for i in range(8)) + "]"
        blob, _ = self.compile_ok(GOOD.replace('"16M"', eight))
        self.assertEqual(len(decode(blob)["domains"][0]["ranges"]), 8)
        # Ranges of several domains: each domain's own, in order; touching
        # is not overlapping.
        two = GOOD.replace('"16M"', '["0x100000-0x300000"]') + \
            GOOD.replace('"a"', '"b"').replace("[0]", "[1]").replace(
                '"16M"', '["0x400000-0x500000", "0x300000-0x400000"]') + \
            GOOD.replace('"a"', '"c"').replace("[0]", "[2]")
        blob, err = self.compile_ok(two)
        doms = decode(blob)["domains"]
        self.assertEqual([d["ranges"] for d in doms],
                         [[(0x100000, 0x300000)], [(0x400000, 0x500000), (0x300000, 0x400000)], []])
        self.assertEqual([d["memory"] for d in doms], [2 << 20, 2 << 20, 16 << 20])

    def test_image_size_checked_against_memory(self):
        # An ELF needs its highest PT_LOAD end, page-rounded, plus a page of
        # boot info: 0x130000 -> 0x131000 bytes, "1.2M" rounded up.
        for is64 in (False, True):
            with self.subTest(is64=is64):
                write_elf(os.path.join(self.dir, "kernel.elf"), is64,
                          [(1, 0x100000, 0x20000), (1, 0x120000, 0x10000),
                           (4, 0x7000000, 0x1000),      # PT_NOTE: not loaded
                           (1, 0x8000000, 0)])          # nothing to load
                text = GOOD.replace("k.elf", "kernel.elf")
                self.assert_errors(text.replace('"16M"', '"1M"'),
                                   "sys.toml:4: memory 1M is too small for kernel.elf "
                                   "(needs at least 1.2M)")
                self.compile_ok(text.replace('"16M"', "0x131000"))
                self.assert_errors(text.replace('"16M"', "0x130000"),
                                   "sys.toml:4: memory 1216K is too small for kernel.elf "
                                   "(needs at least 1.2M)")
        # Anything else: the file size, page-rounded, plus a page.
        with open(os.path.join(self.dir, "raw.bin"), "wb") as f:
            f.write(b"\x90" * ((2 << 20) + 1))
        text = GOOD.replace("k.elf", "raw.bin")
        self.assert_errors(text.replace('"16M"', '"2M"'),
                           "sys.toml:4: memory 2M is too small for raw.bin (needs at least 2.1M)")
        self.compile_ok(text.replace('"16M"', str((2 << 20) + 8192)))
        # A broken ELF (program headers past the end) counts by file size.
        write_elf(os.path.join(self.dir, "broken.elf"), True, [(1, 0x100000, 0x1000000)],
                  phoff=1 << 20)
        self.compile_ok(GOOD.replace("k.elf", "broken.elf").replace('"16M"', '"1M"'))
        # With ranges, the image must fit in the first: it holds guest-physical 0.
        write_elf(os.path.join(self.dir, "kernel.elf"), True, [(1, 0x100000, 0x30000)])
        text = GOOD.replace("k.elf", "kernel.elf")
        self.assert_errors(text.replace('"16M"', '["0x1000000-0x1100000", "0x2000000-0x2100000"]'),
                           "sys.toml:4: memory: the first range '0x1000000-0x1100000' (1M, "
                           "guest-physical 0) is too small for kernel.elf (needs at least 1.2M)")
        self.compile_ok(text.replace('"16M"', '["0x1000000-0x1131000"]'))

    # ---- mistakes ---------------------------------------------------------------
    def test_toml_syntax_error(self):
        self.assert_errors(GOOD + "cmdline = \"unterminated\n",
                           "sys.toml:6: syntax error: illegal character '\\n' (column 24)")
        self.assert_errors("[hypervisor]\non_idle = halt\n" + GOOD,
                           "sys.toml:2: syntax error: invalid value (column 11)")
        self.assert_errors(GOOD + 'name = "b"\n',
                           "sys.toml:6: syntax error: cannot overwrite a value (column 11)")
        self.assert_errors(GOOD + "cpus2 = [1,\n",
                           "sys.toml:6: syntax error: invalid value (at end of file)")

    def test_memory_range_mistakes(self):
        form = ("is not START-END: write host-physical addresses like "
                "\"0x10000000-0x20000000\" (end exclusive)")
        aligned = "is not 4K-aligned: start and end must be multiples of 4K (0x1000)"
        cases = [
            ('["0x1000"]', f"memory: range '0x1000' {form}"),
            ('["0x1000-"]', f"memory: range '0x1000-' {form}"),
            ('["1M-2M"]', f"memory: range '1M-2M' {form}"),
            ('["0x1000-0x2000-0x3000"]', f"memory: range '0x1000-0x2000-0x3000' {form}"),
            ('["0xg000-0x2000"]', f"memory: range '0xg000-0x2000' {form}"),
            ('[""]', f"memory: range '' {form}"),
            ('["0x1000-0x2800"]', f"memory: range '0x1000-0x2800' {aligned}"),
            ('["0x800-0x200000"]', f"memory: range '0x800-0x200000' {aligned}"),
            ('["0x200000-0x100000"]', "memory: range '0x200000-0x100000' is empty or reversed: "
                                      "the end (exclusive) must be above the start"),
            ('["0x100000-0x100000"]', "memory: range '0x100000-0x100000' is empty or reversed: "
                                      "the end (exclusive) must be above the start"),
            ('["0x0-0x10000000001000"]', "memory: range '0x0-0x10000000001000' ends above the "
                                         "52-bit physical address space"),
            ('[0x100000]', "memory: a range must be a string like \"0x10000000-0x20000000\", "
                           "not integer"),
            ("[]", "'memory' is an empty array: give a size like \"64M\" or at least one range "
                   "like \"0x10000000-0x20000000\""),
            ("[" + ", ".join(f'"{hex(i << 20)}-{hex((i + 1) << 20)}"' for i in range(9)) + "]",
             "memory: 9 ranges (at most 8)"),
            ('["0x100000-0x180000"]', "memory: the ranges total 512K, too small: at least 1M"),
            ('["0x0-0x8000000000", "0x10000000000-0x10000001000"]',
             "memory: the ranges total 536870916K, too large: at most 512G"),
            ('["0x100000-0x300000", "0x200000-0x400000"]',
             "memory: ranges '0x100000-0x300000' and '0x200000-0x400000' overlap"),
        ]
        for value, msg in cases:
            with self.subTest(value=value):
                self.assert_errors(GOOD.replace('"16M"', value), f"sys.toml:4: {msg}")
        # Every bad range of a list is reported, on the key's line even when
        # the array spans several lines.
        self.assert_errors(GOOD.replace('"16M"', '[\n  "0x1000-0x2800",\n  "x",\n'
                                                 '  "0x0-0x200000", "0x100000-0x300000"]'),
                           "sys.toml:4: memory: range '0x1000-0x2800' " + aligned,
                           "sys.toml:4: memory: range 'x' " + form,
                           "sys.toml:4: memory: ranges '0x0-0x200000' and "
                           "'0x100000-0x300000' overlap")

    def test_memory_ranges_across_domains(self):
        a = GOOD.replace('"16M"', '["0x1000000-0x2000000", "0x4000000-0x5000000"]')
        b = GOOD.replace('"a"', '"b"').replace("[0]", "[1]")
        c = GOOD.replace('"a"', '"c"').replace("[0]", "[2]")
        self.assert_errors(a + b.replace('"16M"', '["0x1800000-0x2800000"]'),
                           "sys.toml:9: memory: range '0x1800000-0x2800000' of domain \"b\" "
                           "overlaps range '0x1000000-0x2000000' of domain \"a\"")
        # A range that covers two of an earlier domain's: both named; a
        # domain with a bad name is still placed by its position.
        self.assert_errors(a + b.replace('"b"', '"B"').replace('"16M"', '["0x0-0x8000000"]'),
                           "sys.toml:7: name 'B' is invalid: use 1..16 characters from a-z, 0-9, "
                           "'_' and '-'",
                           "sys.toml:9: memory: range '0x0-0x8000000' of [[domain]] #2 overlaps "
                           "range '0x1000000-0x2000000' of domain \"a\"",
                           "sys.toml:9: memory: range '0x0-0x8000000' of [[domain]] #2 overlaps "
                           "range '0x4000000-0x5000000' of domain \"a\"")
        # Against every earlier domain, not only the one before.
        self.assert_errors(a + b + c.replace('"16M"', '["0x4fff000-0x5100000"]'),
                           "sys.toml:14: memory: range '0x4fff000-0x5100000' of domain \"c\" "
                           "overlaps range '0x4000000-0x5000000' of domain \"a\"")

    def test_unknown_keys(self):
        self.assert_errors(GOOD + 'color = "red"\n',
                           "sys.toml:6: unknown key 'color' in [[domain]]")
        self.assert_errors('[hypervisor]\nsilent = true\n' + GOOD,
                           "sys.toml:2: unknown key 'silent' in [hypervisor]")
        self.assert_errors('debug = 1\n[network]\nx = 1\n' + GOOD,
                           "sys.toml:1: unknown key 'debug' at top level",
                           "sys.toml:2: unknown table [network]")

    def test_wrong_types(self):
        self.assert_errors(GOOD.replace('"a"', "7"),
                           "sys.toml:2: 'name' must be a string, not integer")
        self.assert_errors(GOOD.replace("[0]", '"0"'),
                           "sys.toml:3: 'cpus' must be an array of integers, not string")
        self.assert_errors(GOOD.replace("[0]", '[0, "1"]'),
                           "sys.toml:3: 'cpus' must be an array of integers, "
                           "not an array holding a string")
        self.assert_errors(GOOD.replace('"16M"', "16.5"),
                           "sys.toml:4: 'memory' must be a string like \"64M\" or an integer "
                           "of bytes, not float")
        self.assert_errors(GOOD.replace('"k.elf"', "[]"),
                           "sys.toml:5: 'kernel' must be a string (a file path), not array")
        self.assert_errors(GOOD + "cmdline = 5\n",
                           "sys.toml:6: 'cmdline' must be a string, not integer")
        self.assert_errors('[hypervisor]\non_idle = 1\nbaud = "fast"\nconsole = 1016\n' + GOOD,
                           "sys.toml:2: 'on_idle' must be a string, not integer",
                           "sys.toml:3: 'baud' must be an integer, not string",
                           "sys.toml:4: 'console' must be a string, not integer")
        self.assert_errors(GOOD + 'initrd = 1\nmodules = "m"\ndevices = [3]\non_crash = true\n',
                           "sys.toml:6: 'initrd' must be a string, not integer",
                           "sys.toml:7: 'modules' must be an array of strings, not string",
                           "sys.toml:8: 'devices' must be an array of strings, "
                           "not an array holding a integer",
                           "sys.toml:9: 'on_crash' must be a string, not boolean")
        self.assert_errors('hypervisor = 1\ndomain = "x"\n',
                           "sys.toml:1: 'hypervisor' must be a table, not integer",
                           "sys.toml:2: 'domain' must be an array of tables ([[domain]]), "
                           "not string")

    def test_bad_values_of_other_keys(self):
        self.assert_errors('[hypervisor]\non_idle = "sleep"\nconsole = "com9"\nbaud = 0\n' + GOOD,
                           "sys.toml:2: on_idle 'sleep' is invalid: use \"poweroff\" or \"halt\"",
                           "sys.toml:3: console 'com9' is invalid: use \"auto\", \"com1\"..\"com4\" "
                           "or an I/O port like \"0x3f8\"",
                           "sys.toml:4: baud 0 is invalid: it must be a positive integer")
        self.assert_errors(GOOD + 'devices = ["0:3"]\non_crash = "reboot"\nmodules = [" "]\n',
                           "sys.toml:6: devices: '0:3' is not a PCI function like \"00:03.0\" "
                           "or \"0000:00:03.0\" ([SEGMENT:]BUS:DEVICE.FUNCTION, in hex)",
                           "sys.toml:7: on_crash 'reboot' is invalid: use \"stop\" or \"restart\"",
                           "sys.toml:8: modules: an entry is empty (write \"path [args]\")")

    def test_names(self):
        bad = "sys.toml:2: name '{}' is invalid: use 1..16 characters from a-z, 0-9, '_' and '-'"
        for name in ("Web", "", "a b", "abcdefghijklmnopq", "é"):
            with self.subTest(name=name):
                self.assert_errors(GOOD.replace('"a"', f'"{name}"'), bad.format(name))
        self.assert_errors(GOOD + GOOD.replace("[0]", "[1]"),
                           "sys.toml:7: name 'a' is already used by the domain at line 2")

    def test_missing_keys_and_domain_count(self):
        self.assert_errors("[[domain]]\n",
                           "sys.toml:1: missing required key 'name' in [[domain]]",
                           "sys.toml:1: missing required key 'cpus' in [[domain]]",
                           "sys.toml:1: missing required key 'memory' in [[domain]]",
                           "sys.toml:1: missing required key 'kernel' in [[domain]]")
        self.assert_errors('[hypervisor]\non_idle = "halt"\n',
                           "sys.toml:1: no [[domain]]: a configuration needs at least one")
        many = "".join(GOOD.replace('"a"', f'"d{i}"').replace("[0]", f"[{i}]") for i in range(17))
        self.assert_errors(many, "sys.toml:81: too many domains: 17 (at most 16)")

    def test_cpus(self):
        self.assert_errors(GOOD.replace("[0]", "[]"),
                           "sys.toml:3: 'cpus' is empty: a domain needs at least one CPU")
        self.assert_errors(GOOD.replace("[0]", "[0, 64, -1, 0]"),
                           "sys.toml:3: cpus: CPU 64 is out of range (0..63)",
                           "sys.toml:3: cpus: CPU -1 is out of range (0..63)",
                           "sys.toml:3: cpus: CPU 0 is listed twice")
        self.assert_errors(GOOD.replace("[0]", "[1, 4]"),
                           "sys.toml:3: cpus: CPU 4 does not exist (--cpus 4: CPUs 0..3)",
                           args=("--cpus", "4"))
        two = GOOD.replace("[0]", "[0, 3, 5]") + \
            GOOD.replace('"a"', '"b"').replace("[0]", "[\n  5,\n  3,\n]")
        self.assert_errors(two, "sys.toml:8: cpus: CPU 3 is in both domain \"a\" and domain \"b\"",
                           "sys.toml:8: cpus: CPU 5 is in both domain \"a\" and domain \"b\"")
        rc, _, err = self.run_tool("check", "sys.toml", "--cpus", "65", text=GOOD)
        self.assertEqual(rc, 2)
        self.assertIn("--cpus: must be 1..64", err[-1])

    def test_memory(self):
        not_size = ("is not a size: write an integer of bytes or a string like \"64M\" "
                    "(K, M, G: binary units)")
        cases = [('"64X"', f"memory '64X' {not_size}"),
                 ('"M"', f"memory 'M' {not_size}"),
                 ('"1.5G"', f"memory '1.5G' {not_size}"),
                 ('"1T"', f"memory '1T' {not_size}"),
                 ('"512K"', "memory '512K' is too small: at least 1M"),
                 ("-4096", "memory -4096 is too small: at least 1M"),
                 ('"513G"', "memory '513G' is too large: at most 512G"),
                 ("1048577", "memory 1048577 is not a multiple of 4K (1048577 bytes)"),
                 ('"1025K"', "memory '1025K' is not a multiple of 4K (1049600 bytes)")]
        for value, msg in cases:
            with self.subTest(value=value):
                self.assert_errors(GOOD.replace('"16M"', value), f"sys.toml:4: {msg}")

    def test_kernel_file(self):
        path = os.path.join(self.dir, "nope.elf")
        self.assert_errors(GOOD.replace("k.elf", "nope.elf"),
                           f"sys.toml:5: kernel 'nope.elf' not found (looked for {path})")
        self.assert_errors(GOOD.replace("k.elf", "guests"),
                           f"sys.toml:5: kernel 'guests' is not a regular file "
                           f"({os.path.join(self.dir, 'guests')})")
        self.assert_errors(GOOD.replace("k.elf", "tiny.elf"),
                           "sys.toml:5: kernel 'tiny.elf' is too small (63 bytes; an image is "
                           "at least 64)")

    def test_cmdline_length(self):
        # A bzImage gets the cmdline alone: 1023 bytes of it.
        linux = GOOD.replace("k.elf", "guests/bzImage")
        self.compile_ok(linux + f'cmdline = "{"x" * 1023}"\n')
        self.assert_errors(linux + f'cmdline = "{"x" * 1024}"\n',
                           "sys.toml:6: cmdline is too long (1024 bytes, at most 1023)")
        self.assert_errors(GOOD + f'cmdline = "{"é" * 512}"\n',
                           "sys.toml:6: cmdline is too long (1024 bytes, at most 1023)")
        # Anything else gets "k.elf " in front: 1017 bytes are left.
        self.compile_ok(GOOD + f'cmdline = "{"x" * 1017}"\n')
        self.assert_errors(GOOD + f'cmdline = "{"x" * 1018}"\n',
                           "sys.toml:6: cmdline is too long with the kernel path in front "
                           "(1024 bytes as a multiboot kernel sees it, 'k.elf ' and the cmdline; "
                           "at most 1023)")

    def test_kernel_path_is_argv0(self):
        """The blob keeps the `kernel` value as written (a multiboot
        kernel's argv[0]), which must then be one word; a bzImage's path
        may have blanks."""
        sub = os.path.join(self.dir, "my dir")
        os.makedirs(sub)
        shutil.copy(os.path.join(self.dir, "k.elf"), os.path.join(sub, "k.elf"))
        shutil.copy(os.path.join(self.dir, "guests", "bzImage"), os.path.join(sub, "bzImage"))
        blob, _ = self.compile_ok(GOOD.replace("k.elf", "./guests/../k.elf"))
        self.assertEqual(decode(blob)["domains"][0]["path"], "./guests/../k.elf")
        self.assert_errors(GOOD.replace("k.elf", "my dir/k.elf"),
                           "sys.toml:5: kernel 'my dir/k.elf' has a blank in its path: a "
                           "multiboot kernel gets the path as the first word of its command line")
        blob, _ = self.compile_ok(GOOD.replace("k.elf", "my dir/bzImage"))
        self.assertEqual(decode(blob)["domains"][0]["path"], "my dir/bzImage")
        # The path alone is held to the command-line limit, whatever the image.
        long_dir = "d" * 250
        path = "/".join([long_dir] * 4) + "/bzImage"
        os.makedirs(os.path.join(self.dir, os.path.dirname(path)))
        shutil.copy(os.path.join(self.dir, "guests", "bzImage"), os.path.join(self.dir, path))
        self.assertEqual(len(path), 1011)
        self.compile_ok(GOOD.replace("k.elf", path))
        self.assert_errors(GOOD.replace("k.elf", "./" * 7 + path),
                           "sys.toml:5: kernel path is too long (1025 bytes, at most 1023)")
        self.assert_errors(GOOD.replace("k.elf", "k\\u0000.elf"),
                           "sys.toml:5: kernel 'k\x00.elf' is not a usable file name")

    def test_every_mistake_reported_and_no_output(self):
        text = ('[hypervisor]\non_idle = "nap"\n\n'
                '[[domain]]\nname = "A"\ncpus = [0]\nmemory = "1K"\nkernel = "nope"\n\n'
                '[[domain]]\nname = "b"\ncpus = [0]\nmemory = "16M"\nkernel = "k.elf"\nx = 1\n')
        out = os.path.join(self.dir, "out.bin")
        rc, _, err = self.run_tool("compile", "sys.toml", "-o", out, text=text)
        self.assertEqual(rc, 1)
        self.assertEqual(err, [
            "sys.toml:2: on_idle 'nap' is invalid: use \"poweroff\" or \"halt\"",
            "sys.toml:5: name 'A' is invalid: use 1..16 characters from a-z, 0-9, '_' and '-'",
            "sys.toml:7: memory '1K' is too small: at least 1M",
            f"sys.toml:8: kernel 'nope' not found (looked for {os.path.join(self.dir, 'nope')})",
            "sys.toml:12: cpus: CPU 0 is in both [[domain]] #1 and domain \"b\"",
            "sys.toml:15: unknown key 'x' in [[domain]]",
        ])
        self.assertFalse(os.path.exists(out))

    def test_unreadable_file(self):
        rc, _, err = self.run_tool("check", "missing.toml")
        self.assertEqual((rc, err), (1, ["missing.toml:1: cannot read: No such file or directory"]))
        with open(os.path.join(self.dir, "bin.toml"), "wb") as f:
            f.write(b"# ok\n# \xff\n")
        rc, _, err = self.run_tool("check", "bin.toml")
        self.assertEqual((rc, err), (1, ["bin.toml:2: not valid UTF-8 text"]))


if __name__ == "__main__":
    unittest.main()
