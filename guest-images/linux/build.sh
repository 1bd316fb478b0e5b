#!/usr/bin/env bash
# guest-images/linux/build.sh [--dev] OUTDIR -- build the Linux guest from
# Debian packages: OUTDIR/bzImage (a stock Debian kernel) and OUTDIR/initrd.gz
# (a busybox-static initramfs whose /init is guest-images/linux/init).
#
# --dev: the device-passthrough variant instead, OUTDIR/bzImage-generic (the
# generic flavour, linux-image-amd64) and OUTDIR/initrd-dev.gz: the same
# initramfs plus the kernel modules for an e1000e NIC, an NVMe disk and ext4
# (and their dependencies), which /init loads in the order listed in
# /etc/hvlinux-modules. The two modes share the .deb cache and write disjoint
# files (versions[-dev].txt, kernel[-generic].config, work[-dev]/), so they
# can run side by side.
#
# Nothing binary is committed: the .debs are fetched with `apt-get download`
# into a cache (OUTDIR/cache, or $HVLINUX_CACHE), reused on later builds, and
# unpacked with dpkg-deb. Nothing is installed on the host.
#
# Needs: apt-get (apt), dpkg-deb (dpkg), gzip, tar; cpio (package cpio) if
# installed, else the cpio applet of the busybox-static .deb (run on the
# host, which therefore must be amd64) packs the initramfs.
#
# Environment:
#   HVLINUX_CACHE   .deb cache (default OUTDIR/cache)
#   HVLINUX_KERNEL  kernel package: a meta package to resolve (default
#                   linux-image-cloud-amd64), or a versioned one
#                   (linux-image-6.1.0-56-cloud-amd64), optionally =VERSION
#   HVLINUX_DEV_KERNEL  the same for --dev (default linux-image-amd64)
#   HVLINUX_DEV_MODULES  --dev: the modules wanted (default "e1000e nvme
#                   ext4"); their dependencies are added (see below)
#
# Why linux-image-cloud-amd64 and not linux-image-amd64: it is the smaller
# flavour (fewer drivers, same 6.1 base), and it has what this guest needs
# built in: the 8250 UART driver and its console (CONFIG_SERIAL_8250=y,
# CONFIG_SERIAL_8250_CONSOLE=y, checked below), devtmpfs, gzip initrd.
# Neither flavour builds virtio in (virtio_pci, virtio_console, virtio_blk
# are modules in both), so linux-image-amd64 would gain nothing; no fallback.

set -euo pipefail
export LC_ALL=C

me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }

dev=
if [ "${1-}" = --dev ]; then dev=1; shift; fi
[ $# -eq 1 ] || die "usage: $me [--dev] OUTDIR"
OUT=$1
SRC=$(cd "$(dirname "$0")" && pwd)
CACHE=${HVLINUX_CACHE:-$OUT/cache}
BBPKG=busybox-static
if [ -n "$dev" ]; then
	KMETA=${HVLINUX_DEV_KERNEL:-linux-image-amd64}
	MODS=${HVLINUX_DEV_MODULES:-e1000e nvme ext4}
	BZ=bzImage-generic RD=initrd-dev.gz VERS=versions-dev.txt KCONF=kernel-generic.config
else
	KMETA=${HVLINUX_KERNEL:-linux-image-cloud-amd64}
	BZ=bzImage RD=initrd.gz VERS=versions.txt KCONF=kernel.config
fi

# ---- tools -------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: run 'apt-get install $2'"; }
need apt-get apt
need apt-cache apt
need dpkg-deb dpkg
need gzip gzip
need tar tar
arch=$(dpkg --print-architecture)
if [ "$arch" != amd64 ] && ! dpkg --print-foreign-architectures | grep -qx amd64; then
	die "host is $arch: run 'dpkg --add-architecture amd64 && apt-get update' (and install cpio)"
fi

mkdir -p "$OUT" "$CACHE"
OUT=$(cd "$OUT" && pwd)
CACHE=$(cd "$CACHE" && pwd)
WORK=$OUT/work${dev:+-dev}
rm -rf "$WORK"
mkdir -p "$WORK/empty"

# ---- apt ---------------------------------------------------------------------
updated=
apt_knows() { apt-cache show --no-all-versions "$1" >/dev/null 2>&1; }
# apt_update PKG: once, and only as root (else the caller falls back to the
# cache or says to run 'apt-get update'). Succeeds if it updated.
apt_update() {
	[ -z "$updated" ] && [ "$(id -u)" -eq 0 ] || return 1
	updated=1
	echo "$me: apt does not know $1: running apt-get update" >&2
	apt-get update -qq >&2 || die "apt-get update failed"
}

# fetch PKG[=VER] -> path of its .deb in the cache (downloaded if absent).
fetch() {
	local spec=$1 pkg=${1%%=*} line fname size sum f
	# --print-uris skips files present in the current directory: use an empty one.
	line=$(cd "$WORK/empty" && apt-get download --print-uris "$spec" 2>/dev/null | awk 'NR == 1') || line=
	if [ -z "$line" ] && ! ls "$CACHE/${pkg}_"*.deb >/dev/null 2>&1 && apt_update "$pkg"; then
		line=$(cd "$WORK/empty" && apt-get download --print-uris "$spec" 2>/dev/null | awk 'NR == 1') || line=
	fi
	if [ -n "$line" ]; then
		# 'URI' FILENAME SIZE SHA256:HEX
		read -r _ fname size sum <<<"$line"
		sum=${sum#SHA256:}
		f=$CACHE/$fname
		if [ -f "$f" ] && echo "$sum  $f" | sha256sum -c --status 2>/dev/null; then
			echo "$f"; return
		fi
		local tmp=$CACHE/.partial.$$
		rm -rf "$tmp"; mkdir -p "$tmp"
		echo "$me: downloading $fname ($size bytes)" >&2
		local sandbox=()
		[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
		if (cd "$tmp" && apt-get "${sandbox[@]}" -q download "$spec" >&2) &&
		   [ -f "$tmp/$fname" ] && echo "$sum  $tmp/$fname" | sha256sum -c --status; then
			mv -f "$tmp/$fname" "$f"; rm -rf "$tmp"
			echo "$f"; return
		fi
		rm -rf "$tmp"
		echo "$me: warning: could not download $fname" >&2
	fi
	# Offline, or apt does not know it: the newest cached .deb of that package.
	f=$(ls "$CACHE/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n1) || f=
	[ -n "$f" ] || die "cannot get $spec: not in apt's lists ('apt-get update' as root) nor in $CACHE"
	echo "$me: warning: using cached $(basename "$f")" >&2
	echo "$f"
}

# deb_version DEB -> Package Version
deb_version() { echo "$(dpkg-deb -f "$1" Package) $(dpkg-deb -f "$1" Version)"; }

# ---- kernel ------------------------------------------------------------------
# A meta package (linux-image-cloud-amd64) depends on exactly one versioned
# linux-image-X.Y.Z-N-cloud-amd64, which holds the kernel.
kpkg=$KMETA
case "$KMETA" in
linux-image-[0-9]*|*=*) ;;  # versioned already (linux-image-6.1.0-56-cloud-amd64[=ver])
*)
	apt_knows "$KMETA" || apt_update "$KMETA" || true
	kpkg=$(apt-cache depends "$KMETA" 2>/dev/null |
		awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-/ && !k { k = $2 } END { print k }') || kpkg=
	if [ -z "$kpkg" ]; then
		# Offline: the newest versioned kernel of that flavour in the cache
		# (linux-image-6.1.0-57-amd64 for amd64, not ...-57-cloud-amd64).
		flavour=${KMETA#linux-image-}
		f=$(ls "$CACHE"/linux-image-[0-9]*-"$flavour"_*.deb 2>/dev/null |
			grep -E "/linux-image-[0-9.]+-[0-9]+-${flavour}_" | sort -V | tail -n1) || f=
		[ -n "$f" ] || die "cannot resolve $KMETA: run 'apt-get update' as root"
		kpkg=$(dpkg-deb -f "$f" Package)
		echo "$me: warning: apt cannot resolve $KMETA; using cached $kpkg" >&2
	fi
	;;
esac
kdeb=$(fetch "$kpkg")
mkdir -p "$WORK/kernel"
# Only boot/ (vmlinuz, config), and for --dev lib/modules/ (about 400 MB
# unpacked, deleted at the end): the cloud variant uses no modules.
if [ -n "$dev" ]; then
	dpkg-deb --fsys-tarfile "$kdeb" | tar -xf - -C "$WORK/kernel" --wildcards './boot/*' './lib/modules/*'
else
	dpkg-deb --fsys-tarfile "$kdeb" | tar -xf - -C "$WORK/kernel" --wildcards './boot/*'
fi
vmlinuz=$(ls "$WORK"/kernel/boot/vmlinuz-* 2>/dev/null | awk 'NR == 1') || vmlinuz=
config=$(ls "$WORK"/kernel/boot/config-* 2>/dev/null | awk 'NR == 1') || config=
[ -n "$vmlinuz" ] && [ -n "$config" ] || die "$(basename "$kdeb"): no boot/vmlinuz-* or boot/config-*"
for opt in SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_GZIP DEVTMPFS PROC_FS SYSFS \
	   BINFMT_SCRIPT SMP X86_LOCAL_APIC; do
	grep -qx "CONFIG_$opt=y" "$config" ||
		die "$(basename "$config"): CONFIG_$opt is not built in (=y); this guest needs it"
done
[ -z "$dev" ] || grep -qx CONFIG_MODULES=y "$config" || die "$(basename "$config"): no CONFIG_MODULES"

# ---- modules (--dev) ---------------------------------------------------------
# Debian's linux-image .deb has no modules.dep (its postinst runs depmod), and
# the host need not have kmod: the dependencies come from each module's own
# .modinfo strings (what depmod reads too), NUL-terminated "key=value":
#   depends=a,b         hard dependencies (module names), loaded first;
#   softdep=pre: x y    soft dependencies, mostly crypto algorithm aliases
#                       (ext4, jbd2: "crypto-crc32c"), resolved like modprobe
#                       does through the alias= strings of all modules.
# An alias with several providers (crc32c_generic, crc32c_intel) gets the
# *_generic one: it loads on any CPU (crc32c_intel needs SSE4.2).
# Modules in modules.builtin are built in and skipped. Compressed modules
# (.ko.xz/.ko.zst/.ko.gz, newer Debian kernels) are decompressed here: busybox
# insmod hands the kernel a buffer (init_module), and the kernel decompresses
# only files given with finit_module; the signature sits inside the .ko.
#
# One soft dependency 6.1 does not declare: crc64_rocksoft (for nvme-core via
# t10-pi) looks the "crc64-rocksoft" algorithm up with the crypto API when it
# loads, but says "softdep=pre: crc64" (the library), not the algorithm.
# Without crc64_rocksoft_generic loaded first the kernel's request_module()
# finds nothing, so it is added here.
EXTRA_SOFTDEP='crc64_rocksoft:crypto-crc64-rocksoft'

modlist=() modnames=() builtin_skipped=()
if [ -n "$dev" ]; then
	kver=${vmlinuz##*/vmlinuz-}
	MD=$WORK/kernel/lib/modules/$kver
	[ -d "$MD" ] || die "$(basename "$kdeb"): no lib/modules/$kver"
	declare -A mpath=() mstate=() mbuiltin=()
	modname() { local n=${1##*/}; n=${n%%.ko*}; echo "${n//-/_}"; }
	while read -r rel; do
		mpath[$(modname "$rel")]=$rel
	done < <(cd "$MD" && find . -type f \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) | sed 's,^\./,,' | sort)
	[ ${#mpath[@]} -gt 0 ] || die "no modules in $(basename "$kdeb")"
	if [ -f "$MD/modules.builtin" ]; then
		while read -r rel; do mbuiltin[$(modname "$rel")]=1; done <"$MD/modules.builtin"
	fi
	case " ${mpath[*]}" in *.ko.xz\ *|*.ko.xz) need xz xz-utils ;; esac
	case " ${mpath[*]}" in *.ko.zst\ *|*.ko.zst) need zstd zstd ;; esac
	# modcat REL: the module, uncompressed, on stdout.
	modcat() {
		case "$1" in
		*.ko)     cat "$MD/$1" ;;
		*.ko.xz)  xz -dc "$MD/$1" ;;
		*.ko.zst) zstd -dcq "$MD/$1" ;;
		*.ko.gz)  gzip -dc "$MD/$1" ;;
		esac
	}
	# modfield REL KEY: the values of KEY, one a line.
	modfield() { modcat "$1" | tr '\0' '\n' | sed -n "s/^$2=//p"; }
	# provider ALIAS: the module that declares alias=ALIAS. The alias index
	# (all modules, "name alias" lines) is built once, on first use.
	provider() {
		local a=$1 p
		if [ ! -f "$WORK/aliases" ]; then
			local rel
			for rel in "${mpath[@]}"; do
				case "$rel" in
				*.ko) ;;
				*) modfield "$rel" alias | sed "s,^,$rel:alias=," ;;
				esac
			done >"$WORK/aliases.z"
			(cd "$MD" && grep -raz --include='*.ko' '^alias=' . | tr '\0' '\n' | sed 's,^\./,,') >>"$WORK/aliases.z"
			awk '{ i = index($0, ":alias="); if (i) print substr($0, 1, i - 1), substr($0, i + 7) }' \
				"$WORK/aliases.z" >"$WORK/aliases"
		fi
		p=$(awk -v a="$a" '$2 == a { print $1 }' "$WORK/aliases" | sort -u |
			while read -r rel; do modname "$rel"; done | sort -u |
			awk '/_generic$/ { g = $0 } NR == 1 { f = $0 } END { print (g != "" ? g : f) }')
		# A soft dependency may also name a module directly (crc64).
		[ -n "$p" ] || { p=${a//-/_}; [ -n "${mpath[$p]-}" ] || p=; }
		echo "$p"
	}
	# visit NAME: post-order walk, soft "pre" dependencies first, then the
	# hard ones, then NAME itself: modlist is a valid load order.
	visit() {
		local m=${1//-/_} rel d s extra
		case "${mstate[$m]-}" in
		ok) return ;;
		busy) die "module dependency loop at $m" ;;
		esac
		if [ -n "${mbuiltin[$m]-}" ]; then
			mstate[$m]=ok; builtin_skipped+=("$m"); return
		fi
		rel=${mpath[$m]-}
		[ -n "$rel" ] || die "module $m: not in $(basename "$kdeb") (and not built in)"
		mstate[$m]=busy
		extra=$(echo "$EXTRA_SOFTDEP" | tr ' ' '\n' | sed -n "s/^$m://p")
		for s in $(modfield "$rel" softdep | sed 's/post:.*//; s/pre://g') $extra; do
			d=$(provider "$s")
			[ -n "$d" ] || die "module $m: no module provides its soft dependency $s"
			visit "$d"
		done
		for d in $(modfield "$rel" depends | tr ',' ' '); do
			visit "$d"
		done
		mstate[$m]=ok
		modlist+=("$rel") modnames+=("$m")
	}
	for m in $MODS; do visit "$m"; done
fi

# ---- initramfs ---------------------------------------------------------------
bbdeb=$(fetch "$BBPKG")
mkdir -p "$WORK/bb"
dpkg-deb --fsys-tarfile "$bbdeb" | tar -xf - -C "$WORK/bb" ./bin/busybox
BB=$WORK/bb/bin/busybox
[ -x "$BB" ] || die "$(basename "$bbdeb"): no bin/busybox"

R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc}
chmod 1777 "$R/tmp"
chmod 0700 "$R/root"
install -m 0755 "$BB" "$R/bin/busybox"
install -m 0755 "$SRC/init" "$R/init"
# One symlink per applet, where busybox --install would put it.
"$BB" --list-full | while read -r p; do
	case "$p" in
	bin/busybox|linuxrc|'') continue ;;
	esac
	case "$p" in
	*/*/*) rel=../../bin/busybox ;;
	*/*)   rel=../bin/busybox ;;
	*)     continue ;;
	esac
	[ "${p%%/*}" = bin ] && [ "${p#bin/}" = "${p##*/}" ] && rel=busybox
	[ -e "$R/$p" ] || [ -L "$R/$p" ] || ln -s "$rel" "$R/$p"
done
[ -L "$R/bin/sh" ] || die "busybox has no sh applet?"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
if [ -n "$dev" ]; then
	# The modules, uncompressed, where modprobe would look; the load order in
	# /etc/hvlinux-modules ("name path" lines) for /init; and a modules.dep
	# of just these (kmod format: dependencies, the one to load first last),
	# so that busybox modprobe works from the shell too.
	KM=lib/modules/$kver
	mkdir -p "$R/$KM"
	{
		echo "# hvlinux: kernel modules /init loads, in this order (build.sh --dev)"
		for i in "${!modlist[@]}"; do
			rel=${modlist[$i]} k=${modlist[$i]%.ko*}.ko
			mkdir -p "$R/$KM/$(dirname "$k")"
			modcat "$rel" >"$R/$KM/$k"
			chmod 0644 "$R/$KM/$k"
			echo "${modnames[$i]} /$KM/$k"
		done
	} >"$R/etc/hvlinux-modules"
	# deps NAME: transitive hard dependencies, in load order.
	deps() {
		local d
		for d in $(modfield "${mpath[$1]}" depends | tr ',' ' '); do
			d=${d//-/_}
			[ -n "${mbuiltin[$d]-}" ] && continue
			deps "$d"; echo "$d"
		done
	}
	for i in "${!modlist[@]}"; do
		k=${modlist[$i]%.ko*}.ko
		printf '%s:' "$k"
		for d in $(deps "${modnames[$i]}" | awk '!seen[$0]++' | tac); do
			printf ' %s' "${mpath[$d]%.ko*}.ko"
		done
		echo
	done >"$R/$KM/modules.dep"
	find "$R/lib" -type d -exec chmod 0755 {} +
fi

# Reproducible-ish: fixed mtimes, owner 0:0, sorted list, no devno/inode noise,
# gzip without name/time.
find "$R" -exec touch -h -d @0 {} +
if command -v cpio >/dev/null 2>&1; then
	cpiotool="GNU cpio $(cpio --version | awk 'NR == 1 { print $NF }')"
	pack() { cpio -o -H newc -R 0:0 --reproducible --quiet; }
else
	cpiotool="busybox cpio (no host cpio: 'apt-get install cpio' to use it)"
	pack() { "$BB" cpio -o -H newc -R 0:0 --ignore-devno --renumber-inodes 2>/dev/null; }
fi
(cd "$R" && find . -mindepth 1 | sort | pack) | gzip -n -9 >"$OUT/$RD.tmp"
install -m 0644 "$vmlinuz" "$OUT/$BZ.tmp"
mv -f "$OUT/$BZ.tmp" "$OUT/$BZ"
mv -f "$OUT/$RD.tmp" "$OUT/$RD"

# ---- report ------------------------------------------------------------------
size() { stat -c %s "$1"; }
nfiles=$(cd "$R" && find . -mindepth 1 | wc -l)
{
	echo "kernel:    $(deb_version "$kdeb") ($(basename "$vmlinuz"))"
	echo "busybox:   $(deb_version "$bbdeb")"
	echo "cpio:      $cpiotool"
	printf '%-10s %s\n' "$BZ:" "$(size "$OUT/$BZ") bytes  sha256 $(sha256sum <"$OUT/$BZ" | cut -c1-16)"
	printf '%-10s %s\n' "$RD:" "$(size "$OUT/$RD") bytes  sha256 $(sha256sum <"$OUT/$RD" | cut -c1-16)  ($nfiles entries)"
	if [ -n "$dev" ]; then
		echo "modules:   ${modnames[*]} (load order)"
		[ ${#builtin_skipped[@]} -eq 0 ] || echo "built in:  ${builtin_skipped[*]}"
	fi
} | tee "$OUT/$VERS" | sed "s/^/  linux guest${dev:+ (dev)}: /"
cp -f "$config" "$OUT/$KCONF"
rm -rf "$WORK"
