/* SPDX-License-Identifier: GPL-2.0 */
/*
 * modegate internal declarations shared by the files of the module.
 *
 * Every .c file of the module includes this header first, so that pr_fmt
 * is defined once, before <linux/printk.h>.
 */
#ifndef _MODEGATE_H
#define _MODEGATE_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/miscdevice.h>
#include <linux/siphash.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/modegate.h>

#include "compat.h"

struct modegate_store;
struct modegate_async_ctx;

/* Module parameters (main.c). */
extern unsigned long modegate_store_size;
extern int modegate_trace;
extern unsigned int modegate_max_inflight;
extern unsigned int modegate_max_inflight_global;
extern bool modegate_allow_wrong_process_demo;

/**
 * struct modegate_file - per open file description
 * @async: the async engine's state for this file (async.c).
 */
struct modegate_file {
	struct modegate_async_ctx *async;
};

/* store.c: the store and the file operations. */
extern const struct file_operations modegate_fops;
int modegate_store_init(size_t capacity);
void modegate_store_exit(void);
size_t modegate_store_capacity(void);
size_t modegate_store_used(void);
ssize_t modegate_store_read_to_iter(loff_t pos, struct iov_iter *to);
ssize_t modegate_store_copy_out(loff_t pos, void *dst, size_t len);

/* ioctl.c: the dispatch table. */
long modegate_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/*
 * Handlers called by modegate_ioctl() with the argument already copied in
 * (and copied out again on success for commands that read).
 */
int modegate_ioc_info(struct file *file, void *arg);
int modegate_ioc_probe(struct file *file, void *arg);
int modegate_ioc_va_translate(struct file *file, void *arg);
int modegate_ioc_stats(struct file *file, void *arg);
int modegate_ioc_async_submit(struct file *file, void *arg);
int modegate_ioc_async_reap(struct file *file, void *arg);
int modegate_ioc_async_wait(struct file *file, void *arg);
int modegate_ioc_async_cancel(struct file *file, void *arg);
int modegate_ioc_async_eventfd(struct file *file, void *arg);
int modegate_ioc_bystander(struct file *file, void *arg);

/* probe.c */
int modegate_probe_init(void);

/* async limits (reported by INFO; enforced by async.c) */
#define MODEGATE_ASYNC_MAX_BATCH	256
#define MODEGATE_ASYNC_MAX_LATENCY_NS	(10ULL * NSEC_PER_SEC)

/* async.c */
int modegate_async_init(void);
void modegate_async_exit(void);
int modegate_async_open(struct modegate_file *mf);
void modegate_async_release(struct modegate_file *mf);
__poll_t modegate_async_poll(struct file *file, struct poll_table_struct *wait);

/*
 * async: what async.c (the request life cycle) and deliver.c (the
 * strategies) share.  The state diagram is at the top of async.c.
 */

/* User pages pinned at once by PIN requests, in all (64 MiB). */
#define MODEGATE_ASYNC_MAX_PINNED_PAGES	((64UL << 20) >> PAGE_SHIFT)
/* Bytes BUFFERED requests may hold in kernel buffers, in all. */
#define MODEGATE_ASYNC_MAX_BUFFERED	(64UL << 20)

enum modegate_req_state {
	MODEGATE_REQ_ARMING,
	MODEGATE_REQ_QUEUED,
	MODEGATE_REQ_FIRED,
	MODEGATE_REQ_DELIVERING,
	MODEGATE_REQ_COMPLETED,
	MODEGATE_REQ_CANCELLED,
};

struct modegate_strategy;
struct mmu_notifier;

/**
 * struct modegate_request - one async read, from submit to reap
 * @node: on &modegate_async_ctx.inflight, then on .done (under its lock).
 * @ctx: the file's engine state; the request holds a reference.
 * @state: &enum modegate_req_state; changed by cmpxchg (async.c).
 * @timer: the simulated device interrupt.
 * @work: delivery, in the modegate workqueue.
 * @strat: the delivery strategy.
 * @mm: the submitter's address space, captured with mmgrab().
 * @mn: for strategies with @reap: tells when @mm exits, so that waiters
 *	learn that its completions became reapable by anyone.
 * @buf: user buffer, in @mm.
 * @len: bytes requested.
 * @offset: store offset.
 * @latency_ns: device latency.
 * @cpu: CPU of the interrupt, or %MODEGATE_CPU_ANY.
 * @flags: MODEGATE_REQ_* bits.
 * @for_originator: completed, waiting for a reap by the originator.
 * @kbuf: kernel copy of the data (kvmalloc), or NULL.
 * @kbuf_len: bytes in @kbuf.
 * @pages: pages pinned at submit (PIN), or NULL.
 * @nr_pages: entries in @pages.
 * @budget: bytes reserved against MODEGATE_ASYNC_MAX_BUFFERED (BUFFERED).
 * @comp: the completion, filled in as the request goes.
 */
struct modegate_request {
	struct list_head node;
	struct modegate_async_ctx *ctx;
	atomic_t state;
	struct hrtimer timer;
	struct work_struct work;
	const struct modegate_strategy *strat;
	struct mm_struct *mm;
	struct mmu_notifier *mn;
	u64 buf;
	u64 len;
	loff_t offset;
	u64 latency_ns;
	int cpu;
	u32 flags;
	bool for_originator;
	void *kbuf;
	size_t kbuf_len;
	struct page **pages;
	unsigned int nr_pages;
	size_t budget;
	struct modegate_async_completion comp;
};

/**
 * struct modegate_strategy - how one MODEGATE_STRAT_* reaches the user buffer
 * @id: MODEGATE_STRAT_*.
 * @name: for messages.
 * @prepare: at submit, in the submitter's context; a negative errno fails
 *	the request.  Optional.
 * @irq: in the timer callback (hard irq, on whatever task was running).
 *	Must not sleep and must not touch the originator's memory.  Optional.
 * @deliver: in a kworker; returns the result (bytes or -errno).  Sets
 *	@for_originator to leave the copy to the originator's reap.
 * @reap: in the reaper's context, for a request left for the originator;
 *	returns the result.  Required with @for_originator.
 * @release: drops what @prepare or @deliver still hold.  Optional; called
 *	once, when the request is freed, in process context.
 */
struct modegate_strategy {
	u32 id;
	const char *name;
	int (*prepare)(struct modegate_request *req);
	void (*irq)(struct modegate_request *req);
	s64 (*deliver)(struct modegate_request *req);
	s64 (*reap)(struct modegate_request *req);
	void (*release)(struct modegate_request *req);
};

const struct modegate_strategy *modegate_strategy_get(u32 id);
bool modegate_bystander_is_current(void);

/* stats.c: device-wide counters, in debugfs and MODEGATE_IOC_STATS. */
struct modegate_counters {
	atomic64_t reads;
	atomic64_t writes;
	atomic64_t bytes_read;
	atomic64_t bytes_written;
	atomic64_t faults;
	atomic64_t ioctls;
	atomic64_t probes;
	atomic64_t async_submitted;
	atomic64_t async_completed;
	atomic64_t async_cancelled;
	atomic64_t async_inflight;
	atomic64_t async_pending;
	atomic64_t pinned_pages;
	atomic64_t mm_refs;
	atomic64_t open_files;
};

extern struct modegate_counters modegate_counters;

#define modegate_count(name)		atomic64_inc(&modegate_counters.name)
#define modegate_count_add(name, n)	atomic64_add((n), &modegate_counters.name)
#define modegate_count_sub(name, n)	atomic64_sub((n), &modegate_counters.name)
#define modegate_count_dec(name)	atomic64_dec(&modegate_counters.name)

void modegate_stats_init(void);
void modegate_stats_exit(void);
struct dentry *modegate_debugfs_dir(void);

/*
 * modegate_trace_crossing() - one ratelimited line per boundary crossing
 * when the module parameter trace is 1, e.g.
 *   modegate: read pid=123 comm=cat ctx=process off=0 len=4096 -> 4096
 */
#define modegate_trace_crossing(op, off, len, ret)			\
	do {								\
		if (READ_ONCE(modegate_trace))				\
			pr_info_ratelimited("%s pid=%d comm=%s ctx=%s off=%lld len=%zu -> %lld\n", \
					    op, task_pid_nr(current),	\
					    current->comm,		\
					    modegate_ctx_name(),	\
					    (long long)(off), (size_t)(len), \
					    (long long)(ret));		\
	} while (0)

const char *modegate_ctx_name(void);

#endif /* _MODEGATE_H */
