#!/bin/sh
# shellcheck disable=SC2317  # functions are called through check()
# SPDX-License-Identifier: GPL-2.0
# VM job: the module as installed on a real machine (scripts/package.sh).
# The root holds a make install DESTDIR tree, the module DKMS built and
# installed, and /etc/modprobe.d/modegate.conf with test options; expected
# values are in /etc/modegate-test/.  Checks that modprobe finds the DKMS
# module through depmod and applies the options, that systemd-sysusers
# creates the group and systemd-udevd gives it the node (0660), and that a
# member of the group uses the device without root while others cannot.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
want=/etc/modegate-test
kver=$(uname -r)

# depmod and modprobe from kmod, as on the real machine.
mkdir -p /usr/sbin
for t in depmod modprobe modinfo; do
	ln -sf /usr/bin/kmod "/usr/sbin/$t"
done
# Only the DKMS-installed copy: not the harness's extra/modegate.ko.
rm -f "/lib/modules/$kver/extra/modegate.ko"
/usr/sbin/depmod -a

dkms_module() {
	path=$(/usr/sbin/modinfo -n modegate) || return 1
	echo "modinfo -n modegate: $path"
	[ "$path" = "/lib/modules/$kver/updates/dkms/modegate.ko" ] &&
		[ "$(sha256sum "$path" | cut -d' ' -f1)" = "$(cat "$want"/dkms.sha256)" ]
}
check install dkms_module_indexed dkms_module

params_applied() {
	ok=0
	while read -r p v; do
		got=$(cat "/sys/module/modegate/parameters/$p") || return 1
		echo "parameter $p: $got (modprobe.d: $v)"
		[ "$got" = "$v" ] || ok=1
	done <"$want"/params
	echo "version: $(cat /sys/module/modegate/version)"
	[ "$(cat /sys/module/modegate/version)" = "$(cat "$want"/version)" ] || ok=1
	return "$ok"
}
check install modprobe /usr/sbin/modprobe modegate
check install modprobe_d_options params_applied

# The group from sysusers.d, the node's group and mode from the udev rule.
check install sysusers_group /usr/bin/systemd-sysusers
grep '^modegate:' /etc/group
echo "before udev: $(stat -c '%a %U:%G' /dev/modegate)"
udevd_started() {
	/usr/bin/systemd-udevd --daemon &&
		udevadm trigger --action=add --subsystem-match=misc &&
		udevadm settle --timeout=60
}
check install udevd_trigger_settle udevd_started
node() {
	got=$(stat -c '%a %U:%G' /dev/modegate)
	echo "after udev: $got"
	[ "$got" = "660 root:modegate" ]
}
check install udev_node_group_mode node

# A member of the group, and a non-member, neither of them root.
echo "student:x:1000:1000::/tmp:/bin/sh" >>/etc/passwd
echo "student:x:1000:" >>/etc/group
sed -i "s/^modegate:\([^:]*\):\([^:]*\):.*/modegate:\1:\2:student/" /etc/group
as() { # as USER COMMAND: run COMMAND through sh as USER
	u=$1
	shift
	su -s /bin/sh -c "$*" "$u"
}
member() {
	as student id
	as student id | grep -q '(modegate)' || return 1
	as student 'modegate info' >/tmp/info.out || return 1
	grep -E 'caller_cpl|handler_cpl' /tmp/info.out
	as student 'echo hi-from-a-member >/dev/modegate' || return 1
	got=$(as student 'cat /dev/modegate') || return 1
	echo "member read back: $got"
	[ "$got" = hi-from-a-member ]
}
check install member_uses_device_without_root member
non_member() {
	as nobody 'cat /dev/modegate' && return 1
	as nobody 'modegate info'
	[ $? = 3 ]
}
check install non_member_refused non_member

udevadm control --exit
check install modprobe_remove /usr/sbin/modprobe -r modegate
exit $rc
