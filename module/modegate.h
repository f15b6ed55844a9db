/* SPDX-License-Identifier: GPL-2.0 */
/*
 * modegate internal declarations shared by the files of the module.
 *
 * Every .c file of the module includes this header first, so that pr_fmt
 * is defined once, before <linux/printk.h>.
 *
 * Calls between the files go one way (scripts/layers.sh checks it):
 *
 *   main    -> ioctl, async, ring, store, bystander, ctx, probe, stats, worker
 *   ioctl   -> probe, stats, async, ring, bystander
 *   async   -> deliver, ring, ctx, store, worker, stats
 *   deliver -> ring, store, bystander, ctx
 *   ring    -> ctx
 *   probe   -> store
 *   store, bystander, ctx, stats, worker: call no other file (trace.c is the
 *   tracepoints, which every file may fire)
 */
#ifndef _MODEGATE_H
#define _MODEGATE_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched/isolation.h>
#include <linux/siphash.h>
#include <linux/spinlock.h>
#include <linux/timerqueue.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/modegate.h>

#include "compat.h"

/* Module parameters (main.c). */
extern int modegate_trace;
extern unsigned int modegate_max_inflight;
extern unsigned int modegate_max_inflight_user;
extern unsigned int modegate_max_inflight_global;
extern bool modegate_allow_wrong_process_demo;

/* Limits reported by INFO and enforced by async.c and deliver.c. */
#define MODEGATE_ASYNC_MAX_BATCH	256
#define MODEGATE_ASYNC_MAX_LATENCY_NS	(10ULL * NSEC_PER_SEC)
/* User pages pinned at once by PIN requests, in all (64 MiB). */
#define MODEGATE_ASYNC_MAX_PINNED_PAGES	((64UL << 20) >> PAGE_SHIFT)
/* Bytes BUFFERED requests may hold in kernel buffers, per user. */
#define MODEGATE_ASYNC_MAX_BUFFERED	(64UL << 20)
/* modegate_request.flags above the uapi's MODEGATE_REQ_* bits. */
#define MODEGATE_REQF_RELEASED		BIT(15)	/* strategy ->release done */
#define MODEGATE_REQF_MEMLOCK		BIT(14)	/* PIN: pages on user's locked_vm */

/* PIN requests up to this many pages keep their page array inline. */
#define MODEGATE_PIN_INLINE_PAGES	2

/* store.c: the store; calls no other file of the module. */
int modegate_store_init(size_t capacity);
void modegate_store_exit(void);
size_t modegate_store_capacity(void);
size_t modegate_store_used(void);
void modegate_store_truncate(void);
/* How a store read may fault its destination in (store.c). */
enum modegate_fault {
	MODEGATE_FAULT_WAIT,	/* a read(): the caller's own faults may sleep */
	MODEGATE_FAULT_NOWAIT,	/* a delivery: the mmap lock polled a while */
	MODEGATE_FAULT_TRYLOCK,	/* a delivery after a stalled lock: one try */
};

ssize_t modegate_store_read(loff_t pos, struct iov_iter *to, enum modegate_fault *how);
long modegate_store_pin_nowait(struct mm_struct *mm, unsigned long start,
			       unsigned long nr, struct page **pages,
			       bool wait_lock, bool dirty);
ssize_t modegate_store_write(loff_t *pos, bool append, struct iov_iter *from);

/* stats.c: per-CPU counters, in debugfs and MODEGATE_IOC_STATS. */
struct modegate_counters {
	u64 reads;
	u64 writes;
	u64 bytes_read;
	u64 bytes_written;
	u64 faults;
	u64 ioctls;
	u64 probes;
	u64 async_submitted;
	u64 async_completed;
	u64 async_cancelled;
	/* Gauges: their per-CPU parts go up and down; the sum is the value. */
	u64 async_inflight;
	u64 async_pending;
	u64 pinned_pages;
	u64 mm_refs;
	u64 open_files;
};

DECLARE_PER_CPU(struct modegate_counters, modegate_counters);

#define modegate_count(name)		this_cpu_inc(modegate_counters.name)
#define modegate_count_add(name, n)	this_cpu_add(modegate_counters.name, (n))
#define modegate_count_sub(name, n)	this_cpu_sub(modegate_counters.name, (n))
#define modegate_count_dec(name)	this_cpu_dec(modegate_counters.name)

void modegate_stats_init(void);
void modegate_stats_exit(void);
void modegate_stats_irq_time(unsigned int fired, u64 ns);

/* trace.c */
const char *modegate_ctx_name(void);

/*
 * modegate_trace_crossing() - one ratelimited line per boundary crossing
 * when the module parameter trace is 1, e.g.
 *   modegate: read pid=123 comm=cat ctx=process off=0 len=4096 -> 4096
 */
#define modegate_trace_crossing(op, off, len, ret)			\
	do {								\
		if (unlikely(READ_ONCE(modegate_trace)))		\
			pr_info_ratelimited("%s pid=%d comm=%s ctx=%s off=%lld len=%zu -> %lld\n", \
					    op, task_pid_nr(current),	\
					    current->comm,		\
					    modegate_ctx_name(),	\
					    (long long)(off), (size_t)(len), \
					    (long long)(ret));		\
	} while (0)

/*
 * The async engine.  The request states and the locking are described at
 * the top of async.c; the completion side at the top of ring.c.
 */

enum modegate_req_state {
	MODEGATE_REQ_QUEUED,		/* on a line, timer pending: cancellable */
	MODEGATE_REQ_FIRED,		/* interrupt taken, delivery queued */
	MODEGATE_REQ_COMPLETED,		/* on the completion ring */
	MODEGATE_REQ_CANCELLED,
};

struct modegate_user;
struct modegate_worker;
struct modegate_line;
struct modegate_strategy;
struct mm_struct;
struct mmu_notifier;
struct pid;
struct pid_namespace;

/**
 * struct modegate_ctx - one open file of the device
 * @lock: protects @done, the counts, @closing and @wake_at.
 * @eventfd_lock: protects @eventfd (a post signals it in process context).
 * @done: the completion ring: posted, not yet reaped, in order.
 * @nr_alive: requests submitted and not yet freed (max_inflight).
 * @nr_done: entries on @done.
 * @nr_for_originator: entries on @done only the originator can reap.
 * @wake_at: smallest min_complete of the ASYNC_WAIT sleepers.
 * @closing: the file is being released: post nothing more.
 * @show_pfn: VA_TRANSLATE shows frame numbers (decided at open).
 * @user: the opener's budget (file->f_cred), which every request of the
 *	file is charged to, with a reference.
 * @page_id_key: VA_TRANSLATE's page_id key, random for each open file.
 * @eventfd: signalled once per completion posted, or NULL.
 * @wait: ASYNC_WAIT sleeps here, woken when @wake_at is reached.
 * @poll_wait: poll and epoll sleep here, woken on every post.
 * @deliver: fired requests waiting for @work, newest first.
 * @work: delivers @deliver, on @worker.
 * @worker: the delivery thread of the process that first submitted on
 *	the file (worker.c); NULL until then.
 * @worker_lock: serialises setting @worker.
 * @fault: how this delivery pass may fault user pages in (store.c); a
 *	stalled mmap lock makes the rest of the pass only try it.
 * @stall_until: jiffies until which passes only try the mmap lock, after
 *	one found it stalled (@fault and @stall_until: the thread's alone).
 * @lines: per CPU, the simulated interrupt line (allocated on first use).
 * @ref: one for the file, one per request (release flushes @work, which
 *	holds none).
 */
struct modegate_ctx {
	spinlock_t lock;	/* see above */
	struct list_head done;
	unsigned int nr_alive;
	unsigned int nr_done;
	unsigned int nr_for_originator;
	unsigned int wake_at;
	bool closing;
	bool show_pfn;
	struct modegate_user *user;
	siphash_key_t page_id_key;
	struct mutex eventfd_lock;	/* see above */
	struct eventfd_ctx *eventfd;
	wait_queue_head_t wait;
	wait_queue_head_t poll_wait;
	struct llist_head deliver;
	struct kthread_work work;
	struct modegate_worker *worker;
	struct mutex worker_lock;	/* see above */
	enum modegate_fault fault;
	unsigned long stall_until;
	struct modegate_line **lines;
	struct kref ref;
};

/**
 * struct modegate_request - one async read, from submit to reap
 * @tq: on its line's timerqueue, by expiry, while QUEUED.
 * @node: once off the line: on the list of requests one interrupt fired
 *	or a cancel claimed, then on ctx->done.
 * @lnode: on ctx->deliver (FIRED).
 * @ctx: the file; the request holds a reference.
 * @strat: the delivery strategy.
 * @mm: the submitter's address space, captured with mmgrab().
 * @user: the submitter's budget (ctx.c).
 * @ns: the submitter's pid namespace: the interrupt reports pids in it.
 * @origin: the submitting process, for origin_tgid at reap.
 * @buf: user buffer, in @mm.
 * @offset: store offset.
 * @len: bytes requested.
 * @state: &enum modegate_req_state.
 * @cpu: CPU of the interrupt.
 * @euid: the submitter's effective uid: the interrupt names a task to it
 *	only if that task's real, effective and saved uids are this one...
 * @egid: ... and its gids are this one,
 * @see_all: ... or if the submitter had CAP_SYS_PTRACE.
 * @nice: the submitting thread's nice; its delivery runs at it.
 * @flags: MODEGATE_REQ_* bits.
 * @for_originator: completed, the copy left to the originator's reap.
 * @reap_done: @for_originator, and a reap made the copy, but could not
 *	hand the completion out; it still waits for the originator.
 * @pin: PIN: the pages pinned at submit.
 * @pin.pages: the page array (@pin.inline_pages when it fits).
 * @pin.inline_pages: room for small requests.
 * @pin.nr: entries in @pin.pages.
 * @kbuf: BUFFERED and the NAIVE demo: the kernel buffer.
 * @kbuf.data: allocated at submit, in the submitter's context.
 * @kbuf.len: bytes of data in it.
 * @kbuf.mn: BUFFERED: the mm's notifier (exit wakes the waiters).
 * @kbuf.euid: NAIVE demo: the submitter's euid (a bystander must share it).
 * @comp: the completion, filled in as the request goes.
 */
struct modegate_request {
	union {
		struct timerqueue_node tq;
		struct list_head node;
	};
	struct llist_node lnode;
	struct modegate_ctx *ctx;
	const struct modegate_strategy *strat;
	struct mm_struct *mm;
	struct modegate_user *user;
	struct pid_namespace *ns;
	struct pid *origin;
	u64 buf;
	loff_t offset;
	u32 len;
	atomic_t state;
	int cpu;
	kuid_t euid;
	kgid_t egid;
	bool see_all;
	s8 nice;
	u16 flags;
	bool for_originator;
	bool reap_done;
	union {
		struct {
			struct page **pages;
			struct page *inline_pages[MODEGATE_PIN_INLINE_PAGES];
			unsigned int nr;
		} pin;
		struct {
			void *data;
			struct mmu_notifier *mn;
			u32 len;
			kuid_t euid;
		} kbuf;
	};
	struct modegate_async_completion comp;
};

/**
 * struct modegate_strategy - how one MODEGATE_STRAT_* reaches the user buffer
 * @name: for messages.
 * @prepare: at submit, in the submitter's context; a negative errno fails
 *	the request.  Optional.
 * @irq: in the interrupt (hard irq, on whatever task was running).  Must
 *	not sleep and must not touch the originator's memory.  Optional.
 * @deliver: in the file's delivery thread, for a run of requests of this strategy
 *	and one mm (@nr of them, linked by @lnode from @first): sets each
 *	comp.result, and modegate_delivered() for each it wrote (the run is
 *	stamped with the time once it ends).  May set @for_originator to
 *	leave the copy to the reap.
 * @reap: in the reaper's context, for a request left for the originator;
 *	returns the result.  Required with @for_originator.
 * @release: drops what @prepare or @deliver still hold.  Optional; called
 *	once, in process context: when a cancelled request is posted (its
 *	budget comes back at once), else when the request is freed.
 */
struct modegate_strategy {
	const char *name;
	int (*prepare)(struct modegate_request *req);
	void (*irq)(struct modegate_request *req);
	void (*deliver)(struct modegate_request *first, unsigned int nr);
	s64 (*reap)(struct modegate_request *req);
	void (*release)(struct modegate_request *req);
};

/**
 * modegate_check_user_array() - the checks of an ioctl's array of elements
 * @base: the caller's array.
 * @nr: elements; 1 to MODEGATE_ASYNC_MAX_BATCH.
 * @size: the size of an element as the caller knows it: at least
 *	@min_size (the ABI's first version), at most a page, as openat2,
 *	clone3 and sched_setattr bound theirs.
 * @min_size: sizeof the element in this ABI.
 *
 * Return: 0, -EINVAL, -E2BIG or -EFAULT.
 */
static inline int modegate_check_user_array(const void __user *base, u32 nr,
					    u32 size, size_t min_size)
{
	if (!nr || nr > MODEGATE_ASYNC_MAX_BATCH || size < min_size)
		return -EINVAL;
	if (size > PAGE_SIZE)
		return -E2BIG;
	if (!access_ok(base, (size_t)nr * size))
		return -EFAULT;
	return 0;
}

/* deliver.c: the strategies, a table indexed by MODEGATE_STRAT_*. */
const struct modegate_strategy *modegate_strategy_get(u32 id);
void modegate_delivered(struct modegate_request *req, u32 by);

/* bystander.c: the wrong-process demo's registry. */
bool modegate_bystander_write(kuid_t submitter_euid, void __user *dst,
			      const void *src, size_t len);
void modegate_bystander_release(struct modegate_ctx *ctx);
int modegate_ioc_bystander(struct file *file, void *arg);

/*
 * The user whose budgets a caller with @cred is charged: for a caller in
 * user namespaces an unprivileged user created, that user (the outermost
 * such owner) -- its subordinate uids are its own, not new users; else
 * (the initial namespace, or namespaces root made for containers, whose
 * uids root gave out as distinct users) the caller's real uid.
 */
static inline kuid_t modegate_budget_uid(const struct cred *cred)
{
	const struct user_namespace *ns;
	kuid_t uid = cred->uid;

	for (ns = cred->user_ns; ns != &init_user_ns; ns = ns->parent)
		if (!uid_eq(ns->owner, GLOBAL_ROOT_UID))
			uid = ns->owner;
	return uid;
}

/*
 * Is @cpu a housekeeping CPU for timers and scheduler domains -- one that
 * isolcpus= or nohz_full= did not isolate?  Interrupts (async.c) and
 * delivery threads (worker.c) go only there.
 */
static inline bool modegate_cpu_housekeeping(int cpu)
{
	return housekeeping_test_cpu(cpu, HK_TYPE_TIMER) &&
	       housekeeping_test_cpu(cpu, HK_TYPE_DOMAIN);
}

/* ctx.c: the objects' lifetimes and the limits on them. */
int modegate_ctx_init(void);
void modegate_ctx_exit(void);
struct modegate_ctx *modegate_ctx_alloc(const struct cred *cred);
void modegate_ctx_put(struct modegate_ctx *ctx);
int modegate_user_charge_buffered(struct modegate_user *user, size_t bytes);
void modegate_user_uncharge_buffered(struct modegate_user *user, size_t bytes);
int modegate_user_charge_pinned(struct modegate_user *user, struct mm_struct *mm,
				unsigned long nr);
void modegate_user_uncharge_pinned(struct modegate_user *user, struct mm_struct *mm,
				   unsigned long nr, bool charged);
struct modegate_request *modegate_request_alloc(struct modegate_ctx *ctx);
void modegate_request_release(struct modegate_request *req);
void modegate_request_free(struct modegate_request *req);

static inline struct modegate_ctx *modegate_file_ctx(struct file *file)
{
	return file->private_data;
}

/* worker.c: the delivery threads, one per submitting process. */
struct modegate_worker *modegate_worker_get(void);
void modegate_worker_put(struct modegate_worker *w);
void modegate_worker_queue(struct modegate_worker *w, struct kthread_work *work);
void modegate_worker_steer(struct modegate_worker *w);
void modegate_worker_flush(struct kthread_work *work);
void modegate_worker_become(struct modegate_worker *w, struct pid *origin, int nice);
void modegate_worker_exit(void);

/* ring.c: the completion side. */
void modegate_ring_post(struct modegate_ctx *ctx, struct list_head *reqs,
			unsigned int nr);
void modegate_ring_release(struct modegate_ctx *ctx);
__poll_t modegate_ring_poll(struct file *file, struct poll_table_struct *wait);
int modegate_ring_watch_mm(struct modegate_request *req);
void modegate_ring_unwatch_mm(struct modegate_request *req);
int modegate_ioc_async_reap(struct file *file, void *arg);
int modegate_ioc_async_wait(struct file *file, void *arg);
int modegate_ioc_async_eventfd(struct file *file, void *arg);

/* async.c: the request life cycle. */
void modegate_async_open(struct modegate_ctx *ctx);
void modegate_async_release(struct modegate_ctx *ctx);
int modegate_ioc_async_submit(struct file *file, void *arg);
int modegate_ioc_async_cancel(struct file *file, void *arg);

/* probe.c, stats.c: ioctl handlers (ioctl.c calls them). */
void modegate_probe_init(void);
int modegate_ioc_info(struct file *file, void __user *uarg, size_t usize);
int modegate_ioc_probe(struct file *file, void *arg);
int modegate_ioc_va_translate(struct file *file, void *arg);
int modegate_ioc_stats(struct file *file, void *arg);

/* ioctl.c: the dispatch table. */
long modegate_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/*
 * Static functions module/kunit.c tests: VISIBLE_IF_KUNIT makes them
 * global, and EXPORT_SYMBOL_IF_KUNIT exports them, only in a kernel with
 * KUnit (<kunit/visibility.h>).
 */
#if IS_ENABLED(CONFIG_KUNIT)
int modegate_reserve(struct modegate_ctx *ctx, struct modegate_user *u);
void modegate_unreserve(struct modegate_ctx *ctx, struct modegate_user *u);
unsigned int modegate_ring_ready(struct modegate_ctx *ctx);
bool modegate_ring_wait_done(struct modegate_ctx *ctx, u32 min);
unsigned int modegate_ring_take(struct modegate_ctx *ctx, unsigned int nr,
				struct list_head *batch);
void modegate_ring_untake(struct modegate_ctx *ctx, struct list_head *batch);
struct modegate_line *modegate_line_get(struct modegate_ctx *ctx, int cpu);
bool modegate_line_add(struct modegate_line *line, struct modegate_request *req);
unsigned int modegate_line_claim(struct modegate_line *line, bool all,
				 u64 user_data, struct list_head *victims);
#endif

#endif /* _MODEGATE_H */
