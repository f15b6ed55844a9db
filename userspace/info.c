// SPDX-License-Identifier: GPL-2.0
/*
 * modegate info: the evidence of the two modes (MODEGATE_IOC_INFO), the
 * module's features and limits.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "mgtool.h"

static const struct {
	uint64_t bit;
	const char *name;
} mg_features[] = {
	{ MODEGATE_FEAT_STORE, "store" }, { MODEGATE_FEAT_PROBE, "probe" },
	{ MODEGATE_FEAT_VA_TRANSLATE, "va_translate" }, { MODEGATE_FEAT_ASYNC, "async" },
	{ MODEGATE_FEAT_BYSTANDER, "bystander" }, { MODEGATE_FEAT_EVENTFD, "eventfd" },
	{ MODEGATE_FEAT_STATS, "stats" },
};

static const struct {
	uint32_t bit;
	const char *name;
	const char *what;
} mg_modes[] = {
	{ MODEGATE_MODE_USER_ENTRY, "user_entry", "the caller entered from user mode" },
	{ MODEGATE_MODE_COMPAT, "compat", "the caller is a 32-bit task" },
	{ MODEGATE_MODE_SMAP, "smap", "kernel cannot touch user pages outside uaccess" },
	{ MODEGATE_MODE_SMEP, "smep", "kernel cannot execute user pages" },
	{ MODEGATE_MODE_PTI, "pti", "user page tables do not map the kernel" },
	{ MODEGATE_MODE_UMIP, "umip", "sgdt/sidt/smsw refused in user mode" },
	{ MODEGATE_MODE_HARDENED_USERCOPY, "hardened_usercopy", "copies checked against object bounds" },
};

static int info_run(int argc, char **argv)
{
	struct modegate_info info;
	char size[32];
	unsigned int i;
	int fd, ret;

	while (mg_getopt(argc, argv, &mg_cmd_info, "", NULL) != -1)
		;
	if (optind < argc)
		return mg_usage_error(&mg_cmd_info, "unexpected argument '%s'", argv[optind]);
	out_begin();
	fd = mg_dev_open(O_RDONLY);
	if (fd < 0)
		return out_end(MG_EXIT_NODEV);
	ret = mg_get_info(fd, &info);
	mg_sys_close(fd);
	if (ret)
		return out_end(mg_ioc_fail(MODEGATE_IOC_INFO, ret));

	out_u64("abi_version", info.abi_version);
	out_comment("this tool speaks version %u", MODEGATE_ABI_VERSION);
	out_u64("caller_cpl", info.caller_cpl);
	out_comment("ring the ioctl came from (3: user mode)");
	out_u64("handler_cpl", info.handler_cpl);
	out_comment("ring the handler runs at (0: kernel mode)");
	out_hex("task_size", info.task_size);
	mg_fmt_bytes(size, sizeof(size), (double)info.task_size);
	out_comment("TASK_SIZE: %s of user address space", size);
	out_u64("page_size", info.page_size);
	out_u64("store_capacity", info.store_capacity);
	out_u64("store_used", info.store_used);

	out_object("mode", "mode flags");
	for (i = 0; i < MG_ARRAY_SIZE(mg_modes); i++) {
		out_bool(mg_modes[i].name, info.mode_flags & mg_modes[i].bit);
		out_comment("%s", mg_modes[i].what);
	}
	out_close();

	out_hex("features_mask", info.features);
	out_array("features", NULL);
	for (i = 0; i < MG_ARRAY_SIZE(mg_features); i++)
		if (info.features & mg_features[i].bit)
			out_str(NULL, "%s", mg_features[i].name);
	out_close();

	out_object("limits", "limits");
	out_u64("max_probe_len", info.max_probe_len);
	out_u64("max_va_pages", info.max_va_pages);
	out_u64("max_async_batch", info.max_async_batch);
	out_u64("max_async_inflight", info.max_async_inflight);
	out_u64("max_latency_ns", info.max_latency_ns);
	out_close();
	return out_end(MG_EXIT_OK);
}

MG_COMMAND(info, "",
	   "show the evidence of the two modes, the features and the limits",
	   "Asks the module (MODEGATE_IOC_INFO) which ring the caller entered the\n"
	   "kernel from and which ring the handler runs at, TASK_SIZE, the CPU's\n"
	   "protections (SMAP, SMEP, PTI, UMIP) and the device's limits.\n");
