#!/bin/bash
# shellcheck disable=SC2317  # functions are called through check()
# SPDX-License-Identifier: GPL-2.0
# make package: modegate installed the ways a real machine installs it,
# from a fresh clone of HEAD (commit first: uncommitted changes are not in
# it).  Writes "ok|fail package.NAME" lines to RESULTS for scripts/tally.sh.
#
#   package.sh RESULTS
#
#   man_lint         mandoc -Tlint and man -l print nothing for man/*
#   install_*        make install DESTDIR=... yields the files; uninstall
#                    removes them; PREFIX moves the tool
#   dkms_*           dkms add/build/install for the Debian kernel; a kernel
#                    without CONFIG_MMU_NOTIFIER is refused; the VM boots the
#                    kernel, modprobe loads the DKMS module through depmod
#                    with /etc/modprobe.d options, systemd-sysusers and
#                    systemd-udevd give the node to group modegate (0660), a
#                    member uses it without root (guest/job-install.sh);
#                    then dkms remove
#   deb_*            dpkg-buildpackage, lintian, apt install of both .debs
#                    (DKMS builds the module: dkms status), apt purge
#
# Needs root (sudo otherwise) for dkms and apt.  Everything it makes is
# under build/package; what it adds to the system it takes away again.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

results=$1
: >"$results"
work=$top/build/package
kver=$(mg_kver)
version=$(cat "$top/VERSION")
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
apt_get() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 "$@"; }

# check NAME COMMAND...: run COMMAND, record NAME's result.
check() {
	local name=$1
	shift
	echo "=== package: $name"
	if "$@"; then
		echo "ok package.$name" >>"$results"
	else
		echo "fail package.$name" >>"$results"
		echo "=== package: $name FAILED"
		return 1
	fi
}

rm -rf "$work"
mkdir -p "$work"

man_lint() {
	local m out rc=0
	for m in "$top"/man/*.[0-9]; do
		out=$(mandoc -Tlint -W warning "$m" 2>&1; man --warnings -l "$m" 2>&1 >/dev/null)
		[ -z "$out" ] && continue
		printf '%s:\n%s\n' "$m" "$out"
		rc=1
	done
	return "$rc"
}
check man_lint man_lint

# The fresh clone everything else builds from.
clone=$work/clone
fresh_clone() {
	git clone -q "$top" "$clone" && git -C "$clone" checkout -q "$(git -C "$top" rev-parse HEAD)"
}
check clone fresh_clone || {
	bash "$here/tally.sh" "$results"
	exit 1
}

# make install / uninstall.
installed_files=(
	"lib/modules/$kver/extra/modegate.ko"
	usr/bin/modegate usr/libexec/modegate/modegate-info32
	usr/include/linux/modegate.h
	usr/share/man/man1/modegate.1 usr/share/man/man4/modegate.4 usr/share/man/man7/modegate.7
	usr/share/bash-completion/completions/modegate
	lib/udev/rules.d/60-modegate.rules
	usr/lib/sysusers.d/modegate.conf
	etc/modprobe.d/modegate.conf
)
dest=$work/destdir
install_files() {
	local f got want
	make -s -C "$clone" install DESTDIR="$dest" PREFIX=/usr KVER="$kver" || return 1
	got=$(cd "$dest" && find . -type f | sed 's|^\./||' | sort)
	want=$(printf '%s\n' "${installed_files[@]}" | sort)
	echo "installed:"
	echo "$got"
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got"); return 1; }
	for f in "${installed_files[@]}"; do
		case $f in
		*.ko) modinfo -F version "$dest/$f" | grep -qx "$version" ;;
		usr/bin/* | usr/libexec/*) [ -x "$dest/$f" ] ;;
		*) [ -s "$dest/$f" ] ;;
		esac || { echo "bad: $f"; return 1; }
	done
}
check install_destdir install_files
cp -a "$dest" "$work/overlay"
uninstall_files() {
	make -s -C "$clone" uninstall DESTDIR="$dest" PREFIX=/usr KVER="$kver" &&
		[ -z "$(find "$dest" -type f)" ]
}
check install_uninstall uninstall_files
default_prefix() { # PREFIX defaults to /usr/local (the udev/sysusers/modprobe dirs do not move)
	make -s -C "$clone" install-tool install-data DESTDIR="$work/prefix" KDIR=unused &&
		[ -x "$work/prefix/usr/local/bin/modegate" ] &&
		[ -e "$work/prefix/usr/local/share/man/man4/modegate.4" ] &&
		[ -e "$work/prefix/usr/local/include/linux/modegate.h" ]
}
check install_prefix default_prefix

# DKMS from the clone.
dkms_clean() {
	$sudo dkms remove "modegate/$version" --all >/dev/null 2>&1
	return 0
}
if $sudo dkms status modegate | grep -q .; then
	echo "modegate is already known to dkms (a modegate-dkms package installed?):"
	$sudo dkms status modegate
	echo "fail package.dkms_clean_start" >>"$results"
else
	trap dkms_clean EXIT
	check dkms_add $sudo dkms add --sourcetree "$work/dkms-src" "$clone"
	fake=$work/kernel-without-mmu-notifier
	mkdir -p "$fake"
	grep -v '^CONFIG_MMU_NOTIFIER=' "$(mg_kdir "$kver")/.config" >"$fake/.config"
	refused() {
		$sudo dkms build "modegate/$version" -k "$kver" --kernelsourcedir "$fake"
		[ $? = 77 ]
	}
	check dkms_refuses_kernel_without_mmu_notifier refused
	check dkms_build $sudo dkms build "modegate/$version" -k "$kver"
	check dkms_install $sudo dkms install "modegate/$version" -k "$kver"
	ko=$(modinfo -k "$kver" -n modegate 2>/dev/null)
	echo "depmod on this machine finds: ${ko:-nothing}"
	dkms_module() {
		[ "$ko" = "/lib/modules/$kver/updates/dkms/modegate.ko" ] &&
			modinfo -F version "$ko" | grep -qx "$version"
	}
	check dkms_installed_module dkms_module

	# The VM: the make install tree, the DKMS module, test options.
	ov=$work/overlay
	rm -rf "$ov/lib/modules/$kver/extra"
	if [ -n "$ko" ]; then
		install -D -m 0644 "$ko" "$ov/lib/modules/$kver/updates/dkms/modegate.ko"
		mkdir -p "$ov/etc/modegate-test"
		sha256sum "$ko" | cut -d' ' -f1 >"$ov/etc/modegate-test/dkms.sha256"
		echo "$version" >"$ov/etc/modegate-test/version"
		echo "options modegate store_size=65536 trace=1 max_inflight=77" >"$ov/etc/modprobe.d/modegate.conf"
		printf 'store_size 65536\ntrace 1\nmax_inflight 77\n' >"$ov/etc/modegate-test/params"
		MG_ROOT_OVERLAY=$ov KO=$ko VM_OUT=$work/vm VM_TIMEOUT=${VM_TIMEOUT:-600} \
			MG_EXTRA_BINS="/usr/bin/kmod /lib/systemd/systemd-udevd /bin/udevadm /usr/bin/systemd-sysusers" \
			bash "$here/vm.sh" install
		sed 's/ install\./ package.vm_/' "$work/vm/results" >>"$results"
		tail -n 40 "$work/vm/output"
	else
		echo "fail package.vm_install_no_module" >>"$results"
	fi

	removed() {
		$sudo dkms remove "modegate/$version" --all || return 1
		! $sudo dkms status modegate | grep -q . &&
			[ ! -e "/lib/modules/$kver/updates/dkms/modegate.ko" ] &&
			! modinfo -k "$kver" -n modegate >/dev/null 2>&1
	}
	check dkms_remove removed
	trap - EXIT
fi

# The Debian packages, built from a copy of the clone (dpkg-buildpackage
# writes to ..).
deb=$work/deb
mkdir -p "$deb"
git -C "$clone" archive --prefix="modegate-$version/" HEAD | tar -x -C "$deb"
deb_build() {
	(cd "$deb/modegate-$version" && dpkg-buildpackage -us -uc -b) >"$deb/build.log" 2>&1 ||
		{ tail -n 30 "$deb/build.log"; return 1; }
	ls "$deb"/*.deb
}
check deb_build deb_build
check deb_lintian lintian --fail-on error,warning "$deb"/modegate_"$version"_*.changes
# make crash's demo module and programs are built by that target only.
no_crash_demo() {
	local f
	for f in "$deb"/*.deb; do
		dpkg-deb -c "$f" | grep -E 'mgcrash|mgparse|/crash/' && return 1
	done
	return 0
}
check deb_without_the_crash_demo no_crash_demo

pkg_state() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null; }
if [ -n "$(pkg_state modegate-dkms)$(pkg_state modegate)" ] &&
	[ "$(pkg_state modegate-dkms)$(pkg_state modegate)" != not-installednot-installed ]; then
	echo "modegate packages are installed here already: not touching them"
	echo "fail package.deb_clean_start" >>"$results"
else
	had_group=$(getent group modegate)
	check deb_install apt_get install "$deb/modegate-dkms_${version}_all.deb" "$deb"/modegate_"$version"_amd64.deb
	dkms_status() {
		$sudo dkms status modegate
		$sudo dkms status modegate | grep -q "^modegate/$version, $kver, x86_64: installed" &&
			[ -e "/lib/modules/$kver/updates/dkms/modegate.ko" ]
	}
	check deb_dkms_status dkms_status
	check deb_group_created getent group modegate
	deb_files() {
		[ -x /usr/bin/modegate ] && man -w modegate.4 && [ -e /lib/udev/rules.d/60-modegate.rules ]
	}
	check deb_files deb_files
	purged() {
		apt_get purge modegate modegate-dkms || return 1
		[ -z "$(pkg_state modegate)" ] || [ "$(pkg_state modegate)" = not-installed ] || return 1
		[ -z "$(pkg_state modegate-dkms)" ] || [ "$(pkg_state modegate-dkms)" = not-installed ] || return 1
		! $sudo dkms status modegate | grep -q . &&
			[ ! -e "/usr/src/modegate-$version" ] && [ ! -e /var/lib/dkms/modegate ] &&
			[ ! -e "/lib/modules/$kver/updates/dkms/modegate.ko" ] &&
			[ ! -e /usr/bin/modegate ] && [ ! -e /etc/modprobe.d/modegate.conf ]
	}
	check deb_purge purged
	# Debian leaves groups a package created; this one was the test's.
	[ -n "$had_group" ] || $sudo groupdel modegate 2>/dev/null
fi
exit 0
