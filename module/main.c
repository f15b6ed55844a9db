// SPDX-License-Identifier: GPL-2.0
/*
 * modegate: module parameters, init/exit, the misc device and its file
 * operations.
 *
 * /dev/modegate makes the user/kernel mode boundary concrete: a file-like
 * store reached through copy_to_user()/copy_from_user() (store.c), ioctls
 * that show what happens when the kernel touches good and bad user
 * addresses (probe.c), and an async read engine that delivers into the
 * originating process's address space from an arbitrary context (async.c,
 * deliver.c).
 */
#include "modegate.h"

#include <linux/capability.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <kunit/visibility.h>

#include "trace.h"

#define MODEGATE_STORE_MIN	PAGE_SIZE
#define MODEGATE_STORE_MAX	(64UL << 20)

static ushort modegate_node_mode = 0600;
module_param_named(node_mode, modegate_node_mode, ushort, 0444);
MODULE_PARM_DESC(node_mode, "permissions of /dev/modegate (default 0600)");

static unsigned long modegate_store_size = 1UL << 20;
module_param_named(store_size, modegate_store_size, ulong, 0444);
MODULE_PARM_DESC(store_size, "store capacity in bytes, 4 KiB to 64 MiB (default 1 MiB)");

int modegate_trace;
module_param_named(trace, modegate_trace, int, 0644);
MODULE_PARM_DESC(trace, "0: quiet; 1: one ratelimited dmesg line per boundary crossing");

unsigned int modegate_max_inflight = 1024;
EXPORT_SYMBOL_IF_KUNIT(modegate_max_inflight);
module_param_named(max_inflight, modegate_max_inflight, uint, 0444);
MODULE_PARM_DESC(max_inflight, "async requests in flight per open file (default 1024)");

unsigned int modegate_max_inflight_user = 4096;
EXPORT_SYMBOL_IF_KUNIT(modegate_max_inflight_user);
module_param_named(max_inflight_user, modegate_max_inflight_user, uint, 0444);
MODULE_PARM_DESC(max_inflight_user, "async requests alive per user, in all files (default 4096)");

unsigned int modegate_max_inflight_global = 65536;
EXPORT_SYMBOL_IF_KUNIT(modegate_max_inflight_global);
module_param_named(max_inflight_global, modegate_max_inflight_global, uint, 0444);
MODULE_PARM_DESC(max_inflight_global, "async requests in flight in all (default 65536)");

bool modegate_allow_wrong_process_demo;
module_param_named(allow_wrong_process_demo, modegate_allow_wrong_process_demo, bool, 0444);
MODULE_PARM_DESC(allow_wrong_process_demo,
		 "let NAIVE requests write into a registered bystander (default 0)");

static int modegate_open(struct inode *inode, struct file *file)
{
	struct modegate_ctx *ctx = modegate_ctx_alloc(file->f_cred);

	if (!ctx)
		return -ENOMEM;
	modegate_async_open(ctx);
	/* Decided once, from the opener's credentials, as pagemap does. */
	ctx->show_pfn = file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
	if ((file->f_flags & O_TRUNC) && (file->f_mode & FMODE_WRITE))
		modegate_store_truncate();
	file->private_data = ctx;
	modegate_count(open_files);
	trace_modegate_open(true, file->f_flags);
	return 0;
}

static int modegate_release(struct inode *inode, struct file *file)
{
	struct modegate_ctx *ctx = modegate_file_ctx(file);

	trace_modegate_open(false, file->f_flags);
	modegate_bystander_release(ctx);
	modegate_async_release(ctx);
	modegate_ring_release(ctx);
	modegate_ctx_put(ctx);
	modegate_count_dec(open_files);
	return 0;
}

static ssize_t modegate_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	size_t len = iov_iter_count(to);
	loff_t pos = iocb->ki_pos;
	ssize_t ret;

	ret = modegate_store_read(pos, to, NULL);
	if (ret > 0) {
		iocb->ki_pos += ret;
		modegate_count_add(bytes_read, ret);
	}
	modegate_count(reads);
	trace_modegate_rw(false, pos, len, ret);
	modegate_trace_crossing("read", pos, len, ret);
	return ret;
}

static ssize_t modegate_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	bool append = iocb->ki_flags & IOCB_APPEND;
	size_t len = iov_iter_count(from);
	loff_t pos = iocb->ki_pos;
	ssize_t ret;

	ret = modegate_store_write(&iocb->ki_pos, append, from);
	if (ret > 0) {
		modegate_count_add(bytes_written, ret);
		pos = iocb->ki_pos - ret;
	}
	modegate_count(writes);
	trace_modegate_rw(true, pos, len, ret);
	modegate_trace_crossing("write", pos, len, ret);
	return ret;
}

/* Offsets range over the capacity; SEEK_END, SEEK_DATA, SEEK_HOLE use the used length. */
static loff_t modegate_llseek(struct file *file, loff_t off, int whence)
{
	return generic_file_llseek_size(file, off, whence,
					modegate_store_capacity(),
					modegate_store_used());
}

/* The store never blocks: always readable and writable; EPOLLPRI is async. */
static __poll_t modegate_poll(struct file *file, struct poll_table_struct *wait)
{
	return EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM |
	       modegate_ring_poll(file, wait);
}

static const struct file_operations modegate_fops = {
	.owner = THIS_MODULE,
	.open = modegate_open,
	.release = modegate_release,
	.read_iter = modegate_read_iter,
	.write_iter = modegate_write_iter,
	.splice_read = modegate_splice_read,
	.splice_write = iter_file_splice_write,
	.llseek = modegate_llseek,
	.poll = modegate_poll,
	.unlocked_ioctl = modegate_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice modegate_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = MODEGATE_DEVICE_NAME,
	.fops = &modegate_fops,
};

static int modegate_check_params(void)
{
	if (modegate_store_size < MODEGATE_STORE_MIN ||
	    modegate_store_size > MODEGATE_STORE_MAX) {
		pr_err("store_size=%lu is out of range [%lu, %lu]\n",
		       modegate_store_size, MODEGATE_STORE_MIN,
		       MODEGATE_STORE_MAX);
		return -EINVAL;
	}
	if (modegate_node_mode & ~0666) {
		pr_err("node_mode=%#o: only read/write bits (0666) are allowed\n",
		       modegate_node_mode);
		return -EINVAL;
	}
	if (!modegate_max_inflight || modegate_max_inflight > 65536 ||
	    !modegate_max_inflight_user || modegate_max_inflight_user > (1U << 20) ||
	    !modegate_max_inflight_global || modegate_max_inflight_global > (1U << 20)) {
		pr_err("max_inflight=%u max_inflight_user=%u max_inflight_global=%u: out of range\n",
		       modegate_max_inflight, modegate_max_inflight_user,
		       modegate_max_inflight_global);
		return -EINVAL;
	}
	return 0;
}

static int __init modegate_init(void)
{
	int ret;

	ret = modegate_check_params();
	if (ret)
		return ret;

	modegate_stats_init();

	ret = modegate_store_init(modegate_store_size);
	if (ret)
		goto err_stats;

	modegate_probe_init();

	ret = modegate_ctx_init();
	if (ret)
		goto err_store;

	modegate_misc.mode = modegate_node_mode;
	ret = misc_register(&modegate_misc);
	if (ret) {
		pr_err("misc_register failed: %d\n", ret);
		goto err_ctx;
	}

	if (modegate_allow_wrong_process_demo)
		pr_warn("allow_wrong_process_demo=1: NAIVE demo requests may write into a registered bystander process\n");

	pr_info("loaded: ABI version %u, /dev/%s mode %04o, store %lu bytes\n",
		MODEGATE_ABI_VERSION, MODEGATE_DEVICE_NAME, modegate_node_mode,
		modegate_store_size);
	return 0;

err_ctx:
	modegate_ctx_exit();
err_store:
	modegate_store_exit();
err_stats:
	modegate_stats_exit();
	return ret;
}

static void __exit modegate_exit(void)
{
	misc_deregister(&modegate_misc);
	modegate_worker_exit();
	modegate_ctx_exit();
	modegate_store_exit();
	modegate_stats_exit();
	pr_info("unloaded\n");
}

module_init(modegate_init);
module_exit(modegate_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The modegate developers");
MODULE_DESCRIPTION("The user/kernel mode boundary made concrete");
MODULE_VERSION(MODEGATE_VERSION);
