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
#include <linux/miscdevice.h>
#include <linux/siphash.h>
#include <linux/types.h>
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
