// SPDX-License-Identifier: GPL-2.0
/*
 * The device, its ioctls and its module: opening with an explanation when
 * it fails, ioctls that name their errno, module parameters, and the names
 * of the ABI's constants.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmodload.h"
#include "mgtool.h"

int mg_dev_open(int flags)
{
	struct stat st;
	int fd, err;

	fd = mg_sys_open(MG_DEV, flags);
	if (fd >= 0)
		return fd;
	err = errno;
	if (err == ENOENT && !mg_loaded())
		out_error(err, "open " MG_DEV, "the module is not loaded: run 'modegate load' as root%s",
			  access("/proc/modules", F_OK) ?
			  " (this kernel cannot load modules: use 'make demo', which boots a VM)" : "");
	else if (err == ENOENT)
		out_error(err, "open " MG_DEV,
			  "the module is loaded but the node is missing: is devtmpfs mounted on /dev?");
	else if ((err == EACCES || err == EPERM) && !stat(MG_DEV, &st))
		out_error(err, "open " MG_DEV,
			  "the node is mode %04o, owner uid %u: run as root, or reload the module with node_mode=0666",
			  st.st_mode & 07777, st.st_uid);
	else if (err == ENXIO || err == ENODEV)
		out_error(err, "open " MG_DEV,
			  "a stale node without a driver: reload the module ('modegate load')");
	else
		out_error(err, "open " MG_DEV, NULL);
	errno = err;
	return -1;
}

static const struct {
	unsigned long cmd;
	const char *name;
	const char *part;	/* which part of the module implements it */
} mg_iocs[] = {
	{ MODEGATE_IOC_INFO, "MODEGATE_IOC_INFO", "INFO" },
	{ MODEGATE_IOC_PROBE, "MODEGATE_IOC_PROBE", "PROBE (probe.c)" },
	{ MODEGATE_IOC_VA_TRANSLATE, "MODEGATE_IOC_VA_TRANSLATE", "VA_TRANSLATE (probe.c)" },
	{ MODEGATE_IOC_STATS, "MODEGATE_IOC_STATS", "STATS" },
	{ MODEGATE_IOC_ASYNC_SUBMIT, "MODEGATE_IOC_ASYNC_SUBMIT", "the async engine (async.c)" },
	{ MODEGATE_IOC_ASYNC_REAP, "MODEGATE_IOC_ASYNC_REAP", "the async engine (async.c)" },
	{ MODEGATE_IOC_ASYNC_WAIT, "MODEGATE_IOC_ASYNC_WAIT", "the async engine (async.c)" },
	{ MODEGATE_IOC_ASYNC_CANCEL, "MODEGATE_IOC_ASYNC_CANCEL", "the async engine (async.c)" },
	{ MODEGATE_IOC_ASYNC_EVENTFD, "MODEGATE_IOC_ASYNC_EVENTFD", "the async engine (async.c)" },
	{ MODEGATE_IOC_BYSTANDER, "MODEGATE_IOC_BYSTANDER", "the bystander demo (async.c)" },
};

static unsigned int mg_ioc_index(unsigned long cmd)
{
	unsigned int i;

	for (i = 0; i < MG_ARRAY_SIZE(mg_iocs); i++)
		if (mg_iocs[i].cmd == cmd)
			return i;
	return 0;
}

const char *mg_ioc_name(unsigned long cmd)
{
	return mg_iocs[mg_ioc_index(cmd)].name;
}

int mg_ioc(int fd, unsigned long cmd, void *arg)
{
	int ret = mg_sys_ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

bool mg_unsupported(int err)
{
	return err == -EOPNOTSUPP || err == -ENOTTY;
}

int mg_ioc_fail(unsigned long cmd, int err)
{
	unsigned int i = mg_ioc_index(cmd);

	if (mg_unsupported(err))
		out_error(-err, mg_iocs[i].name,
			  "the loaded module does not implement %s yet (or is older than this tool)",
			  mg_iocs[i].part);
	else if (err == -EPERM && cmd == MODEGATE_IOC_BYSTANDER)
		out_error(-err, mg_iocs[i].name,
			  "the bystander demo is off: reload with allow_wrong_process_demo=1 (as root)");
	else if (err == -EINVAL || err == -E2BIG)
		out_error(-err, mg_iocs[i].name,
			  "the module refused the argument: a tool built against another ABI version?");
	else
		out_error(-err, mg_iocs[i].name, NULL);
	return MG_EXIT_FAIL;
}

int mg_get_info(int fd, struct modegate_info *info)
{
	memset(info, 0, sizeof(*info));
	return mg_ioc(fd, MODEGATE_IOC_INFO, info);
}

/* The counters: MODEGATE_IOC_STATS, else debugfs (fd < 0: debugfs only). */
int mg_get_stats(int fd, struct modegate_stats *st)
{
	static const char *const names[] = {
		"reads", "writes", "bytes_read", "bytes_written", "faults", "ioctls",
		"probes", "async_submitted", "async_completed", "async_cancelled",
		"async_inflight", "async_pending", "pinned_pages", "mm_refs", "open_files",
	};
	__u64 *field = (__u64 *)st;
	char line[128], name[64];
	unsigned long long v;
	unsigned int i;
	int ret = -EOPNOTSUPP;
	FILE *f;

	memset(st, 0, sizeof(*st));
	if (fd >= 0) {
		ret = mg_ioc(fd, MODEGATE_IOC_STATS, st);
		if (!mg_unsupported(ret))
			return ret;
	}
	f = fopen("/sys/kernel/debug/modegate/stats", "re");
	if (!f)
		return fd >= 0 ? ret : -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %llu", name, &v) == 2)
			for (i = 0; i < MG_ARRAY_SIZE(names); i++)
				if (!strcmp(name, names[i]))
					field[i] = v;
	fclose(f);
	return 0;
}

int mg_param_read(const char *name, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), MG_PARAMS "/%s", name);
	return mg_read_file(path, buf, len);
}

int mg_param_write(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), MG_PARAMS "/%s", name);
	return mg_write_file(path, val);
}

static const char *const mg_strategies[] = {
	[MODEGATE_STRAT_ADOPT_MM] = "adopt_mm", [MODEGATE_STRAT_PIN] = "pin",
	[MODEGATE_STRAT_REMOTE] = "remote", [MODEGATE_STRAT_BUFFERED] = "buffered",
	[MODEGATE_STRAT_NAIVE] = "naive",
};

const char *mg_strategy_name(unsigned int strategy)
{
	return strategy && strategy <= MODEGATE_STRAT_MAX ? mg_strategies[strategy] : "?";
}

int mg_strategy_parse(const char *s)
{
	int i;

	for (i = 1; i <= MODEGATE_STRAT_MAX; i++)
		if (!strcasecmp(s, mg_strategies[i]))
			return i;
	return -1;
}

/* Whose address space the interrupt of completion @c found loaded. */
const char *mg_async_mm_name(const struct modegate_async_completion *c)
{
	if (c->ctx_flags & MODEGATE_CTX_IRQ_OTHER_USER)
		return "another user's";
	if (c->ctx_flags & MODEGATE_CTX_IRQ_IDLE)
		return "none (idle)";
	if (c->ctx_flags & MODEGATE_CTX_IRQ_KTHREAD)
		return "none (kthread)";
	if (c->ctx_flags & MODEGATE_CTX_IRQ_MM_MATCH)
		return "origin";
	return "FOREIGN";
}

const char *mg_outcome_name(unsigned int outcome)
{
	static const char *const names[] = {
		[MODEGATE_PROBE_OK] = "OK", [MODEGATE_PROBE_PARTIAL] = "PARTIAL",
		[MODEGATE_PROBE_FAULT] = "FAULT", [MODEGATE_PROBE_READONLY] = "READONLY",
		[MODEGATE_PROBE_NOT_USER] = "NOT_USER", [MODEGATE_PROBE_TOO_BIG] = "TOO_BIG",
	};

	return outcome && outcome < MG_ARRAY_SIZE(names) ? names[outcome] : "?";
}

const char *mg_delivered_name(unsigned int by)
{
	static const char *const names[] = {
		[MODEGATE_DELIVER_NONE] = "none", [MODEGATE_DELIVER_WORKER] = "worker (adopted mm)",
		[MODEGATE_DELIVER_KMAP] = "worker (kmap)",
		[MODEGATE_DELIVER_ORIGINATOR] = "originator",
		[MODEGATE_DELIVER_BYSTANDER] = "BYSTANDER",
	};

	return by < MG_ARRAY_SIZE(names) ? names[by] : "?";
}
