#!/usr/bin/env bash
# guest-images/linux/build.sh OUTDIR -- build the Linux guest from Debian
# packages: OUTDIR/bzImage (a stock Debian kernel) and OUTDIR/initrd.gz (a
# busybox-static initramfs whose /init is guest-images/linux/init).
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

[ $# -eq 1 ] || die "usage: $me OUTDIR"
OUT=$1
SRC=$(cd "$(dirname "$0")" && pwd)
CACHE=${HVLINUX_CACHE:-$OUT/cache}
KMETA=${HVLINUX_KERNEL:-linux-image-cloud-amd64}
BBPKG=busybox-static

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
WORK=$OUT/work
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
		# Offline: the newest versioned kernel of that flavour in the cache.
		flavour=${KMETA#linux-image-}
		f=$(ls "$CACHE"/linux-image-[0-9]*-"$flavour"_*.deb 2>/dev/null | sort -V | tail -n1) || f=
		[ -n "$f" ] || die "cannot resolve $KMETA: run 'apt-get update' as root"
		kpkg=$(dpkg-deb -f "$f" Package)
		echo "$me: warning: apt cannot resolve $KMETA; using cached $kpkg" >&2
	fi
	;;
esac
kdeb=$(fetch "$kpkg")
mkdir -p "$WORK/kernel"
# Only boot/ (vmlinuz, config): the modules are not used, no need to unpack them.
dpkg-deb --fsys-tarfile "$kdeb" | tar -xf - -C "$WORK/kernel" --wildcards './boot/*'
vmlinuz=$(ls "$WORK"/kernel/boot/vmlinuz-* 2>/dev/null | awk 'NR == 1') || vmlinuz=
config=$(ls "$WORK"/kernel/boot/config-* 2>/dev/null | awk 'NR == 1') || config=
[ -n "$vmlinuz" ] && [ -n "$config" ] || die "$(basename "$kdeb"): no boot/vmlinuz-* or boot/config-*"
for opt in SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_GZIP DEVTMPFS PROC_FS SYSFS \
	   BINFMT_SCRIPT SMP X86_LOCAL_APIC; do
	grep -qx "CONFIG_$opt=y" "$config" ||
		die "$(basename "$config"): CONFIG_$opt is not built in (=y); this guest needs it"
done

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
(cd "$R" && find . -mindepth 1 | sort | pack) | gzip -n -9 >"$OUT/initrd.gz.tmp"
install -m 0644 "$vmlinuz" "$OUT/bzImage.tmp"
mv -f "$OUT/bzImage.tmp" "$OUT/bzImage"
mv -f "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"

# ---- report ------------------------------------------------------------------
size() { stat -c %s "$1"; }
nfiles=$(cd "$R" && find . -mindepth 1 | wc -l)
{
	echo "kernel:    $(deb_version "$kdeb") ($(basename "$vmlinuz"))"
	echo "busybox:   $(deb_version "$bbdeb")"
	echo "cpio:      $cpiotool"
	echo "bzImage:   $(size "$OUT/bzImage") bytes  sha256 $(sha256sum <"$OUT/bzImage" | cut -c1-16)"
	echo "initrd.gz: $(size "$OUT/initrd.gz") bytes  sha256 $(sha256sum <"$OUT/initrd.gz" | cut -c1-16)  ($nfiles entries)"
} | tee "$OUT/versions.txt" | sed "s/^/  linux guest: /"
cp -f "$config" "$OUT/kernel.config"
rm -rf "$WORK"
