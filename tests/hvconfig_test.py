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
DOMAIN = struct.Struct("<IIIIQQ")

# Also checked, field by field, by test_sample_from_hvconfig in
# tests/unit/test_config.c: change both together.
SAMPLE = """\
[hypervisor]
console = "0x3f8"
baud = 115200
on_idle = "halt"

[[domain]]
name = "linux0"
cpus = [1, 2]
memory = "256M"
kernel = "guests/bzImage"
cmdline = "console=ttyS0"

[[domain]]
name = "rt-1"
cpus = [63, 3]
memory = "1GiB"
kernel = "guests/rt.elf"

[[domain]]
name = "x_y"
cpus = [0]
memory = 50565120   # 12345 pages, in bytes
kernel = "guests/bzImage"
cmdline = 'a="b c"'
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
        name, kernel, cmdline, dflags, cpus, memory = DOMAIN.unpack_from(
            blob, domains_off + i * domain_size)
        domains.append(dict(name=string(name), kernel=string(kernel), cmdline=string(cmdline),
                            flags=dflags, cpus=cpus, memory=memory))
    return dict(magic=magic, version=version, total=total, crc=crc,
                crc_ok=crc == zlib.crc32(zeroed), flags=flags, on_idle=on_idle,
                domains_off=domains_off, domain_size=domain_size, strings_off=strings_off,
                strings_size=strings_size, first_string=strings[:1], domains=domains)


class HvconfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hvconfig-test-")
        self.addCleanup(shutil.rmtree, self.dir)
        os.makedirs(os.path.join(self.dir, "guests"))
        for name, size in (("k.elf", 64), ("guests/bzImage", 4096), ("guests/rt.elf", 100),
                           ("tiny.elf", 63)):
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(bytes(range(256)) * (size // 256) + bytes(size % 256))

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
        self.assertEqual(b["version"], 1)
        self.assertEqual(b["total"], len(blob))
        self.assertTrue(b["crc_ok"])
        self.assertEqual((b["flags"], b["on_idle"]), (0, 1))
        self.assertEqual((b["domains_off"], b["domain_size"]), (48, 32))
        self.assertEqual(b["strings_off"] % 8, 0)
        self.assertGreaterEqual(b["strings_off"], 48 + 3 * 32)
        self.assertEqual(b["strings_off"] + b["strings_size"], len(blob))
        self.assertEqual(b["first_string"], b"\0")
        self.assertEqual(b["domains"], [
            dict(name="linux0", kernel="linux0.kernel", cmdline="console=ttyS0", flags=0,
                 cpus=0x6, memory=256 << 20),
            dict(name="rt-1", kernel="rt-1.kernel", cmdline="", flags=0,
                 cpus=(1 << 63) | (1 << 3), memory=1 << 30),
            dict(name="x_y", kernel="x_y.kernel", cmdline='a="b c"', flags=0,
                 cpus=0x1, memory=12345 * 4096),
        ])
        # An absent cmdline is offset 0: the empty string.
        self.assertEqual(DOMAIN.unpack_from(blob, 48 + 32)[2], 0)
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
        default = os.path.join(ROOT, "guest-images", "default.toml")
        out = os.path.join(self.dir, "default.bin")
        rc, _, err = self.run_tool("compile", default, "-o", out, "--base", self.dir)
        self.assertEqual((rc, err), (0, []))
        with open(out, "rb") as f:
            b = decode(f.read())
        self.assertTrue(b["crc_ok"])
        self.assertEqual(b["on_idle"], 0)
        self.assertEqual(b["domains"], [dict(name="test0", kernel="test0.kernel",
                                             cmdline="expect-mem=32M", flags=0, cpus=1,
                                             memory=32 << 20)])

    def test_modules(self):
        rc, out, err = self.run_tool("modules", "sys.toml", text=SAMPLE)
        self.assertEqual((rc, err), (0, []))
        bz = os.path.join(self.dir, "guests", "bzImage")
        self.assertEqual(out.splitlines(), [
            f"{bz}\tlinux0.kernel",
            f"{os.path.join(self.dir, 'guests', 'rt.elf')}\trt-1.kernel",
            f"{bz}\tx_y.kernel",
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

    def test_not_yet_supported_keys_warn(self):
        text = GOOD + ('initrd = "guests/initrd.gz"\nmodules = ["m.bin arg"]\n'
                       'devices = ["00:03.0", "0000:01:00.1"]\non_crash = "restart"\n')
        blob, err = self.compile_ok(text)
        self.assertEqual(err, [
            "sys.toml:6: warning: 'initrd' is not supported yet; ignored",
            "sys.toml:7: warning: 'modules' is not supported yet; ignored",
            "sys.toml:8: warning: 'devices' is not supported yet; ignored",
            "sys.toml:9: warning: 'on_crash' is not supported yet; ignored",
        ])
        self.assertEqual(decode(blob)["domains"][0]["name"], "a")
        # Empty lists change nothing: no warning.
        self.assertEqual(self.compile_ok(GOOD + "modules = []\ndevices = []\n")[1], [])

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
                           "sys.toml:6: devices: '0:3' is not a PCI function like \"00:03.0\"",
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
        self.compile_ok(GOOD + f'cmdline = "{"x" * 1023}"\n')
        self.assert_errors(GOOD + f'cmdline = "{"x" * 1024}"\n',
                           "sys.toml:6: cmdline is too long (1024 bytes, at most 1023)")
        self.assert_errors(GOOD + f'cmdline = "{"é" * 512}"\n',
                           "sys.toml:6: cmdline is too long (1024 bytes, at most 1023)")

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
