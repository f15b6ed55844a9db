// SPDX-License-Identifier: GPL-2.0
/*
 * modegate: module parameters, init/exit and the misc device.
 *
 * /dev/modegate makes the user/kernel mode boundary concrete: a file-like
 * store reached through copy_to_user()/copy_from_user() (store.c), ioctls
 * that show what happens when the kernel touches good and bad user
 * addresses (probe.c), and an async read engine that delivers into the
 * originating process's address space from an arbitrary context (async.c,
 * deliver.c).
 */
#include "modegate.h"

#include <linux/module.h>
#include <linux/moduleparam.h>

#define MODEGATE_STORE_MIN	PAGE_SIZE
#define MODEGATE_STORE_MAX	(64UL << 20)

static ushort modegate_node_mode = 0600;
module_param_named(node_mode, modegate_node_mode, ushort, 0444);
MODULE_PARM_DESC(node_mode, "permissions of /dev/modegate (default 0600)");

unsigned long modegate_store_size = 1UL << 20;
module_param_named(store_size, modegate_store_size, ulong, 0444);
MODULE_PARM_DESC(store_size, "store capacity in bytes, 4 KiB to 64 MiB (default 1 MiB)");

int modegate_trace;
module_param_named(trace, modegate_trace, int, 0644);
MODULE_PARM_DESC(trace, "0: quiet; 1: one ratelimited dmesg line per boundary crossing");

unsigned int modegate_max_inflight = 1024;
module_param_named(max_inflight, modegate_max_inflight, uint, 0444);
MODULE_PARM_DESC(max_inflight, "async requests in flight per open file (default 1024)");

unsigned int modegate_max_inflight_global = 65536;
module_param_named(max_inflight_global, modegate_max_inflight_global, uint, 0444);
MODULE_PARM_DESC(max_inflight_global, "async requests in flight in all (default 65536)");

bool modegate_allow_wrong_process_demo;
module_param_named(allow_wrong_process_demo, modegate_allow_wrong_process_demo, bool, 0444);
MODULE_PARM_DESC(allow_wrong_process_demo,
		 "let NAIVE requests write into a registered bystander (default 0)");

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
	    !modegate_max_inflight_global || modegate_max_inflight_global > (1U << 20)) {
		pr_err("max_inflight=%u max_inflight_global=%u: out of range\n",
		       modegate_max_inflight, modegate_max_inflight_global);
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

	ret = modegate_probe_init();
	if (ret)
		goto err_store;

	ret = modegate_async_init();
	if (ret)
		goto err_store;

	modegate_misc.mode = modegate_node_mode;
	ret = misc_register(&modegate_misc);
	if (ret) {
		pr_err("misc_register failed: %d\n", ret);
		goto err_async;
	}

	if (modegate_allow_wrong_process_demo)
		pr_warn("allow_wrong_process_demo=1: NAIVE demo requests may write into a registered bystander process\n");

	pr_info("loaded: ABI version %u, /dev/%s mode %04o, store %lu bytes\n",
		MODEGATE_ABI_VERSION, MODEGATE_DEVICE_NAME, modegate_node_mode,
		modegate_store_size);
	return 0;

err_async:
	modegate_async_exit();
err_store:
	modegate_store_exit();
err_stats:
	modegate_stats_exit();
	return ret;
}

static void __exit modegate_exit(void)
{
	misc_deregister(&modegate_misc);
	modegate_async_exit();
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
