// SPDX-License-Identifier: GPL-2.0
/*
 * modegate device-wide counters: /sys/kernel/debug/modegate/stats and
 * MODEGATE_IOC_STATS.
 */
#include "modegate.h"

#include <linux/debugfs.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

struct modegate_counters modegate_counters;

static struct dentry *modegate_debugfs;

const char *modegate_ctx_name(void)
{
	if (in_nmi())
		return "nmi";
	if (in_hardirq())
		return "hardirq";
	if (in_serving_softirq())
		return "softirq";
	if (current->flags & PF_KTHREAD)
		return "kthread";
	return "process";
}

static void modegate_stats_fill(struct modegate_stats *st)
{
	struct modegate_counters *c = &modegate_counters;

	st->reads = atomic64_read(&c->reads);
	st->writes = atomic64_read(&c->writes);
	st->bytes_read = atomic64_read(&c->bytes_read);
	st->bytes_written = atomic64_read(&c->bytes_written);
	st->faults = atomic64_read(&c->faults);
	st->ioctls = atomic64_read(&c->ioctls);
	st->probes = atomic64_read(&c->probes);
	st->async_submitted = atomic64_read(&c->async_submitted);
	st->async_completed = atomic64_read(&c->async_completed);
	st->async_cancelled = atomic64_read(&c->async_cancelled);
	st->async_inflight = atomic64_read(&c->async_inflight);
	st->async_pending = atomic64_read(&c->async_pending);
	st->pinned_pages = atomic64_read(&c->pinned_pages);
	st->mm_refs = atomic64_read(&c->mm_refs);
	st->open_files = atomic64_read(&c->open_files);
	st->reserved = 0;
}

int modegate_ioc_stats(struct file *file, void *arg)
{
	modegate_stats_fill(arg);
	return 0;
}

static int modegate_stats_show(struct seq_file *m, void *v)
{
	struct modegate_stats st;

	modegate_stats_fill(&st);
#define MODEGATE_SHOW(name) seq_printf(m, "%-16s %llu\n", #name, st.name)
	MODEGATE_SHOW(reads);
	MODEGATE_SHOW(writes);
	MODEGATE_SHOW(bytes_read);
	MODEGATE_SHOW(bytes_written);
	MODEGATE_SHOW(faults);
	MODEGATE_SHOW(ioctls);
	MODEGATE_SHOW(probes);
	MODEGATE_SHOW(async_submitted);
	MODEGATE_SHOW(async_completed);
	MODEGATE_SHOW(async_cancelled);
	MODEGATE_SHOW(async_inflight);
	MODEGATE_SHOW(async_pending);
	MODEGATE_SHOW(pinned_pages);
	MODEGATE_SHOW(mm_refs);
	MODEGATE_SHOW(open_files);
#undef MODEGATE_SHOW
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(modegate_stats);

struct dentry *modegate_debugfs_dir(void)
{
	return modegate_debugfs;
}

void modegate_stats_init(void)
{
	/* debugfs failures are not errors: the device works without it. */
	modegate_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0400, modegate_debugfs, NULL,
			    &modegate_stats_fops);
}

void modegate_stats_exit(void)
{
	debugfs_remove(modegate_debugfs);
}
