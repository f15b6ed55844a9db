/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only place in modegate that knows kernel versions: everything that
 * differs between the kernels of the test matrix (6.1 to 7.x) is wrapped
 * here, so the rest of the module is written against one API.
 */
#ifndef _MODEGATE_COMPAT_H
#define _MODEGATE_COMPAT_H

#include <linux/version.h>

/*
 * ->splice_read for a file whose ->read_iter does not use the page cache:
 * generic_file_splice_read() until 6.4, copy_splice_read() from 6.5.
 */
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
#define modegate_splice_read	copy_splice_read
#else
#define modegate_splice_read	generic_file_splice_read
#endif

/*
 * Tracepoints (trace.h): __assign_str() takes only the field from 6.10 on,
 * the source being the one named in __string().  Expanded where it is used,
 * i.e. inside TP_fast_assign(), where the trace stage defines __assign_str.
 */
#if KERNEL_VERSION(6, 10, 0) <= LINUX_VERSION_CODE
#define modegate_assign_str(dst, src)	__assign_str(dst)
#else
#define modegate_assign_str(dst, src)	__assign_str(dst, src)
#endif

/*
 * The async engine (async.c, ring.c, deliver.c).
 */
#include <linux/eventfd.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/sched.h>

/*
 * eventfd_signal() lost its count argument in 6.8 (it adds 1): add @n.
 * Process context: each call wakes every waiter of the eventfd.
 */
static inline void modegate_eventfd_signal(struct eventfd_ctx *ctx, unsigned int n)
{
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
	while (n--) {
		eventfd_signal(ctx);
		cond_resched();
	}
#else
	eventfd_signal(ctx, n);
#endif
}

/* pin_user_pages() lost its vmas argument in 6.5.  mmap_lock held. */
static inline long modegate_pin_user_pages(unsigned long start,
					   unsigned long nr_pages,
					   unsigned int gup_flags,
					   struct page **pages)
{
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
	return pin_user_pages(start, nr_pages, gup_flags, pages);
#else
	return pin_user_pages(start, nr_pages, gup_flags, pages, NULL);
#endif
}

/* pin_user_pages_remote() lost its vmas argument in 6.5.  mmap_lock held. */
static inline long modegate_pin_user_pages_remote(struct mm_struct *mm,
						  unsigned long start,
						  unsigned long nr_pages,
						  unsigned int gup_flags,
						  struct page **pages)
{
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#endif
}

/*
 * kthread_create_worker() created and woke the thread until 6.14; from
 * 6.14 on it only creates it, and kthread_run_worker() also wakes it.
 */
#include <linux/kthread.h>
#if KERNEL_VERSION(6, 14, 0) <= LINUX_VERSION_CODE
#define modegate_kthread_run_worker(fmt, ...)	kthread_run_worker(0, fmt, __VA_ARGS__)
#else
#define modegate_kthread_run_worker(fmt, ...)	kthread_create_worker(0, fmt, __VA_ARGS__)
#endif

/*
 * May @tsk's own user ptrace it -- is its address space dumpable by its
 * owner?  get_dumpable() and SUID_DUMP_USER until 7.x; later kernels keep
 * the state in a per-task structure no module can read, and then only the
 * credentials decide.
 */
#include <linux/sched/coredump.h>
static inline bool modegate_task_dumpable(struct task_struct *tsk)
{
#ifdef SUID_DUMP_USER
	return !tsk->mm || get_dumpable(tsk->mm) == SUID_DUMP_USER;
#else
	return true;
#endif
}

/* hrtimer_setup() replaced hrtimer_init() and ->function in 6.13. */
static inline void
modegate_hrtimer_setup(struct hrtimer *timer,
		       enum hrtimer_restart (*fn)(struct hrtimer *),
		       clockid_t clock, enum hrtimer_mode mode)
{
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

#endif /* _MODEGATE_COMPAT_H */
