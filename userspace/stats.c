// SPDX-License-Identifier: GPL-2.0
/*
 * modegate stats: the device's counters (MODEGATE_IOC_STATS, or debugfs).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "mgtool.h"

static const struct {
	const char *name;
	size_t off;
	const char *what;
} mg_counters[] = {
#define C(f, w) { #f, offsetof(struct modegate_stats, f), w }
	C(reads, "read calls"),
	C(writes, "write calls"),
	C(bytes_read, "bytes copied to user space by reads"),
	C(bytes_written, "bytes copied from user space by writes"),
	C(faults, "copies that stopped on a fault"),
	C(ioctls, "ioctl calls"),
	C(probes, "probes"),
	C(async_submitted, "requests queued"),
	C(async_completed, "completions posted"),
	C(async_cancelled, "requests cancelled"),
	C(async_inflight, "queued, not completed (now)"),
	C(async_pending, "completed, not reaped (now)"),
	C(pinned_pages, "user pages pinned (now)"),
	C(mm_refs, "captured address spaces held (now)"),
	C(open_files, "open file descriptions (now)"),
#undef C
};

static int stats_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "debugfs", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct modegate_stats st;
	bool debugfs = false;
	unsigned int i;
	int c, fd = -1, ret;

	while ((c = mg_getopt(argc, argv, &mg_cmd_stats, "d", opts)) != -1)
		if (c == 'd')
			debugfs = true;
	if (optind < argc)
		return mg_usage_error(&mg_cmd_stats, "unexpected argument '%s'", argv[optind]);
	out_begin();
	if (!debugfs) {
		fd = mg_dev_open(O_RDONLY);
		if (fd < 0)
			return out_end(MG_EXIT_NODEV);
	}
	ret = mg_get_stats(fd, &st);
	if (fd >= 0)
		mg_sys_close(fd);
	if (ret) {
		if (fd < 0 || ret == -ENOENT)
			out_error(-ret, "/sys/kernel/debug/modegate/stats",
				  "is debugfs mounted (mount -t debugfs none /sys/kernel/debug) and the module loaded?");
		else
			mg_ioc_fail(MODEGATE_IOC_STATS, ret);
		return out_end(MG_EXIT_FAIL);
	}
	out_str("source", "%s", debugfs ? "debugfs" : "MODEGATE_IOC_STATS");
	for (i = 0; i < MG_ARRAY_SIZE(mg_counters); i++) {
		out_u64(mg_counters[i].name, *(__u64 *)((char *)&st + mg_counters[i].off));
		out_comment("%s", mg_counters[i].what);
	}
	return out_end(MG_EXIT_OK);
}

MG_COMMAND(stats, "[--debugfs]",
	   "show the device's counters",
	   "  -d, --debugfs  read /sys/kernel/debug/modegate/stats instead of the ioctl\n"
	   "The ioctl is used when it exists; debugfs is the fallback.\n");
