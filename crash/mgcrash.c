// SPDX-License-Identifier: GPL-2.0
/*
 * mgcrash: the kernel-mode half of the blast-radius demo (make crash).
 *
 * It is not part of modegate.  A write to /dev/mgcrash hands it a content
 * blob (record.h); it copies the blob into a vmalloc() buffer, which has
 * an unmapped guard page after it, and parses it there: with the trusting
 * parser (validate=0) a blob that lies about its record count makes the
 * kernel read the guard page and oops, and with panic_on_oops the machine
 * is gone; with the validated parser (validate=1) the write fails with
 * -EINVAL.
 *
 * It refuses to load unless both hold: the harness armed it (armed=1, which
 * only scripts/guest/job-crash.sh passes) and the machine is a QEMU virtual
 * machine (the CPUID hypervisor bit and the DMI system vendor).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dmi.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/cpufeature.h>

#include "record.h"

static bool armed;
module_param(armed, bool, 0444);
MODULE_PARM_DESC(armed, "the harness VM loads the demo (required)");

static bool validate;
module_param(validate, bool, 0444);
MODULE_PARM_DESC(validate, "check the record count against the length");

static ssize_t mgcrash_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	void *blob;
	__u64 sum;
	long n;

	if (!len || len > MGCRASH_MAX_BLOB)
		return -EINVAL;
	blob = vmalloc(len);
	if (!blob)
		return -ENOMEM;
	if (copy_from_user(blob, buf, len)) {
		vfree(blob);
		return -EFAULT;
	}
	n = validate ? mgcrash_parse_validated(blob, len, &sum) :
		       mgcrash_parse_trusting(blob, len, &sum);
	vfree(blob);
	if (n < 0)
		return n;
	pr_info("%ld records, sum %llu\n", n, (unsigned long long)sum);
	return len;
}

static const struct file_operations mgcrash_fops = {
	.owner = THIS_MODULE,
	.write = mgcrash_write,
};

static struct miscdevice mgcrash_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mgcrash",
	.fops = &mgcrash_fops,
	.mode = 0600,
};

static int __init mgcrash_init(void)
{
	if (!armed) {
		pr_err("refusing to load: only make crash's VM loads this demo (armed=1)\n");
		return -EPERM;
	}
	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR) ||
	    !dmi_match(DMI_SYS_VENDOR, "QEMU")) {
		pr_err("refusing to load: not a QEMU virtual machine\n");
		return -EPERM;
	}
	pr_info("loaded, %s parser\n", validate ? "validated" : "trusting");
	return misc_register(&mgcrash_dev);
}

static void __exit mgcrash_exit(void)
{
	misc_deregister(&mgcrash_dev);
}

module_init(mgcrash_init);
module_exit(mgcrash_exit);
MODULE_DESCRIPTION("blast-radius demo: a content parser in kernel mode (make crash only)");
MODULE_LICENSE("GPL");
