// SPDX-License-Identifier: GPL-2.0
/*
 * modegate ioctl dispatch: one table, one place for the checks every
 * command shares.
 *
 * Each entry names the command as the first ABI version defined it.  The
 * caller's struct size is _IOC_SIZE(cmd): it may be larger (a newer caller:
 * the extra bytes must be zero, copy_struct_from_user() gives -E2BIG
 * otherwise), never smaller than the first version of the struct (-EINVAL).
 * The handler sees a zero-filled kernel copy of its struct, which is copied
 * back for commands that read; bytes of a larger caller struct that this
 * ABI does not know are cleared.  A call that will restart (-ERESTARTNOHAND)
 * is copied back too: ASYNC_WAIT leaves the time left to its deadline.
 */
#include "modegate.h"

#include <linux/indirect_call_wrapper.h>
#include <linux/uaccess.h>

#include "trace.h"

typedef int (*modegate_ioctl_fn)(struct file *file, void *arg);
typedef int (*modegate_ioctl_direct_fn)(struct file *file, void __user *uarg,
					size_t usize);

/**
 * struct modegate_ioctl_desc - one command
 * @cmd: the command as the first ABI version defined it.
 * @handler: called with a zero-filled kernel copy of the argument.
 * @direct: instead of @handler, for output-only commands on the fast path:
 *	called with the caller's pointer and size, copies out itself.
 * @name: for tracing.
 */
struct modegate_ioctl_desc {
	unsigned int cmd;
	modegate_ioctl_fn handler;
	modegate_ioctl_direct_fn direct;
	const char *name;
};

#define MODEGATE_IOCTL(_cmd, _fn) { .cmd = _cmd, .handler = _fn, .name = #_cmd }
#define MODEGATE_IOCTL_DIRECT(_cmd, _fn) { .cmd = _cmd, .direct = _fn, .name = #_cmd }

static const struct modegate_ioctl_desc modegate_ioctls[] = {
	MODEGATE_IOCTL_DIRECT(MODEGATE_IOC_INFO, modegate_ioc_info),
	MODEGATE_IOCTL(MODEGATE_IOC_PROBE, modegate_ioc_probe),
	MODEGATE_IOCTL(MODEGATE_IOC_VA_TRANSLATE, modegate_ioc_va_translate),
	MODEGATE_IOCTL(MODEGATE_IOC_STATS, modegate_ioc_stats),
	MODEGATE_IOCTL(MODEGATE_IOC_ASYNC_SUBMIT, modegate_ioc_async_submit),
	MODEGATE_IOCTL(MODEGATE_IOC_ASYNC_REAP, modegate_ioc_async_reap),
	MODEGATE_IOCTL(MODEGATE_IOC_ASYNC_WAIT, modegate_ioc_async_wait),
	MODEGATE_IOCTL(MODEGATE_IOC_ASYNC_CANCEL, modegate_ioc_async_cancel),
	MODEGATE_IOCTL(MODEGATE_IOC_ASYNC_EVENTFD, modegate_ioc_async_eventfd),
	MODEGATE_IOCTL(MODEGATE_IOC_BYSTANDER, modegate_ioc_bystander),
};

/* Large enough for the largest argument struct of this ABI version. */
union modegate_ioctl_arg {
	struct modegate_probe probe;
	struct modegate_va_translate va;
	struct modegate_stats stats;
	struct modegate_async_submit submit;
	struct modegate_async_reap reap;
	struct modegate_async_wait wait;
	struct modegate_async_cancel cancel;
	struct modegate_async_eventfd eventfd;
	struct modegate_bystander bystander;
};

static const struct modegate_ioctl_desc *modegate_ioctl_lookup(unsigned int cmd)
{
	const struct modegate_ioctl_desc *desc;

	/* Match type, number and direction; the size may differ. */
	for (desc = modegate_ioctls; desc < modegate_ioctls + ARRAY_SIZE(modegate_ioctls); desc++)
		if ((desc->cmd & ~IOCSIZE_MASK) == (cmd & ~IOCSIZE_MASK))
			return desc;
	return NULL;
}

long modegate_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	const struct modegate_ioctl_desc *desc = modegate_ioctl_lookup(cmd);
	void __user *uarg = (void __user *)arg;
	union modegate_ioctl_arg karg;
	size_t usize = _IOC_SIZE(cmd);
	size_t ksize;
	int ret;

	modegate_count(ioctls);
	if (!desc)
		return -ENOTTY;
	ksize = _IOC_SIZE(desc->cmd);
	if (usize < ksize)
		return -EINVAL;

	if (desc->direct) {
		/* INFO is the hot one: a direct call, not a retpoline. */
		ret = INDIRECT_CALL_1(desc->direct, modegate_ioc_info, file, uarg, usize);
		goto out;
	}
	memset(&karg, 0, ksize);
	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		ret = copy_struct_from_user(&karg, ksize, uarg, usize);
		if (ret)
			return ret;
	} else if (!access_ok(uarg, usize)) {
		return -EFAULT;
	}

	ret = desc->handler(file, &karg);
	/* A call that restarts (or fails -EINTR) may carry what is left of it. */
	if ((ret >= 0 || ret == -ERESTARTNOHAND) && (_IOC_DIR(cmd) & _IOC_READ)) {
		/* Copy out what this ABI knows; zero the rest of a larger struct. */
		if (copy_to_user(uarg, &karg, ksize) ||
		    (usize > ksize && clear_user(uarg + ksize, usize - ksize)))
			ret = -EFAULT;
	}
out:
	trace_modegate_ioctl(desc->name, cmd, ret);
	modegate_trace_crossing(desc->name, 0, usize, ret);
	return ret;
}
