// SPDX-License-Identifier: GPL-2.0
/*
 * modegate device-wide counters: /sys/kernel/debug/modegate/stats and
 * MODEGATE_IOC_STATS.
 *
 * Per CPU, so that counting costs one unlocked add on the hot paths; a
 * reader sums the CPUs.  The gauges (requests in flight, pinned pages, ...)
 * go up on one CPU and down on another: only their sum means anything, and
 * a sum taken while they move may be off by the moves in progress.
 */
#include "modegate.h"

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>

DEFINE_PER_CPU(struct modegate_counters, modegate_counters);

static struct dentry *modegate_debugfs;

/*
 * struct modegate_counters is struct modegate_stats without its reserved
 * tail, field for field: sum the CPUs as arrays of u64.
 */
#define MODEGATE_NR_COUNTERS	(sizeof(struct modegate_counters) / sizeof(u64))
#define MODEGATE_FIRST_GAUGE	(offsetof(struct modegate_counters, async_inflight) / sizeof(u64))

static void modegate_stats_fill(struct modegate_stats *st)
{
	u64 *sum = (u64 *)st;
	unsigned int i;
	int cpu;

	BUILD_BUG_ON(sizeof(struct modegate_counters) !=
		     offsetof(struct modegate_stats, reserved));
	BUILD_BUG_ON(offsetof(struct modegate_counters, async_inflight) !=
		     offsetof(struct modegate_stats, async_inflight));
	memset(st, 0, sizeof(*st));
	for_each_possible_cpu(cpu) {
		const u64 *c = (const u64 *)per_cpu_ptr(&modegate_counters, cpu);

		for (i = 0; i < MODEGATE_NR_COUNTERS; i++)
			sum[i] += READ_ONCE(c[i]);
	}
	/* A gauge caught mid-move may sum below zero: report 0 then. */
	for (i = MODEGATE_FIRST_GAUGE; i < MODEGATE_NR_COUNTERS; i++)
		if ((s64)sum[i] < 0)
			sum[i] = 0;
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

/*
 * The longest simulated interrupt, per CPU: how long one hard irq of the
 * engine ran and how many requests it completed.  debugfs "irq" shows the
 * maximum over the CPUs; writing to it starts a new measurement.
 */
struct modegate_irq_time {
	u64 max_ns;
	u64 fired;	/* requests completed by that interrupt */
	u64 count;	/* interrupts */
};

static DEFINE_PER_CPU(struct modegate_irq_time, modegate_irq_time);

/**
 * modegate_stats_irq_time() - account one simulated interrupt
 * @fired: requests it completed.
 * @ns: how long it ran.
 *
 * Context: hard irq, on the CPU it ran on.
 */
void modegate_stats_irq_time(unsigned int fired, u64 ns)
{
	struct modegate_irq_time *t = this_cpu_ptr(&modegate_irq_time);

	WRITE_ONCE(t->count, t->count + 1);
	if (ns > t->max_ns) {
		WRITE_ONCE(t->max_ns, ns);
		WRITE_ONCE(t->fired, fired);
	}
}

static int modegate_irq_show(struct seq_file *m, void *v)
{
	u64 max_ns = 0, fired = 0, count = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct modegate_irq_time *t = per_cpu_ptr(&modegate_irq_time, cpu);
		u64 ns = READ_ONCE(t->max_ns);

		count += READ_ONCE(t->count);
		if (ns > max_ns) {
			max_ns = ns;
			fired = READ_ONCE(t->fired);
		}
	}
	seq_printf(m, "%-16s %llu\n%-16s %llu\n%-16s %llu\n", "irq_count", count,
		   "irq_max_ns", max_ns, "irq_max_fired", fired);
	return 0;
}

static int modegate_irq_open(struct inode *inode, struct file *file)
{
	return single_open(file, modegate_irq_show, NULL);
}

/* Any write resets the measurement (racing interrupts may survive it). */
static ssize_t modegate_irq_write(struct file *file, const char __user *buf,
				  size_t len, loff_t *ppos)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct modegate_irq_time *t = per_cpu_ptr(&modegate_irq_time, cpu);

		WRITE_ONCE(t->max_ns, 0);
		WRITE_ONCE(t->fired, 0);
		WRITE_ONCE(t->count, 0);
	}
	return len;
}

static const struct file_operations modegate_irq_fops = {
	.owner = THIS_MODULE,
	.open = modegate_irq_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.write = modegate_irq_write,
	.release = single_release,
};

void modegate_stats_init(void)
{
	/* debugfs failures are not errors: the device works without it. */
	modegate_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0400, modegate_debugfs, NULL,
			    &modegate_stats_fops);
	debugfs_create_file("irq", 0600, modegate_debugfs, NULL,
			    &modegate_irq_fops);
}

void modegate_stats_exit(void)
{
	debugfs_remove(modegate_debugfs);
}
