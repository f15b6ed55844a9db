// SPDX-License-Identifier: GPL-2.0
/*
 * modegate async read engine: the request life cycle -- submit, the
 * simulated device interrupt, the delivery work, cancel.  The completion
 * side (ring, reap, wait, poll, eventfd) is ring.c; the strategies that move
 * the bytes are deliver.c.
 *
 * A request asks for @len bytes of the store at @offset to be written into
 * @buf, @latency_ns later, by an "interrupt" on @cpu.  The interrupt is an
 * hrtimer in hard irq mode (HRTIMER_MODE_ABS_PINNED_HARD: hard irq even on
 * PREEMPT_RT), started on the requested CPU, so it fires on whatever thread
 * is running there: the idle task, a kernel thread, any process.  It
 * records that context -- the evidence -- and hands the request to the
 * file's delivery thread, which writes through the address space captured
 * at submit.
 *
 * Interrupt coalescing
 * --------------------
 * Like an NVMe queue or a NIC, the device does not raise one interrupt per
 * request.  Each open file has one "line" per CPU: a timerqueue of its
 * queued requests (an rbtree by expiry: O(log n) to insert with IRQs off)
 * and one hrtimer armed for the earliest.  Each firing completes the
 * requests that are due, up to MODEGATE_LINE_MAX_PER_IRQ, in one hard irq:
 * it still records, for each of them, the interrupted task, the CPU,
 * whether that task's mm was the originator's and the time -- the whole
 * point of the wrong-address-space lesson.  More than that re-arms the
 * line a little later instead of running again at once, so one interrupt's
 * work is bounded however many requests are due.  A submit of a batch for
 * one CPU programs that CPU's timer at most once (one IPI).
 *
 * Who may be disturbed, who may be named
 * --------------------------------------
 * Interrupts go only to housekeeping CPUs (not isolated by isolcpus= or
 * nohz_full=) unless the submitter has CAP_SYS_NICE.  The interrupted task
 * is named only to a submitter that could ptrace it by credentials
 * (modegate_irq_may_name()); any other is "another user's task".
 *
 * The delivery thread
 * -------------------
 * The interrupt pushes the requests it fired onto the file's lock-free
 * list (ctx->deliver) and queues the file's one kthread_work on the
 * delivery thread of the process that first submitted on the file
 * (worker.c): created in that process's cgroups and at its nice, it takes
 * the nice (and, for a file shared with another process, the cgroups) of
 * whoever submitted each run it delivers, so the CPU a copy costs is
 * charged to the user who asked for it.  It takes the whole list and
 * delivers each run of requests of one strategy, one mm and one submitter
 * together: ADOPT_MM adopts the mm once per run, not once per request, and
 * the clock is read once per run.  It posts and yields every
 * MODEGATE_RUN_BYTES copied, and posts the rest under one lock at the end.
 *
 * Request states
 * --------------
 *
 *     submit (ioctl, submitter's context): validate, reserve (ctx.c),
 *     capture the mm, strategy prepare; onto the line, timer programmed
 *                                  |
 *        +--------------------- QUEUED     cancellable: on its line
 *        |                         |
 *        |                         |  the line's timer (hard irq, any task):
 *        |                         |  off the line, record the context,
 *        |                         |  strategy irq, onto ctx->deliver
 *        | cancel / release        v
 *        |                       FIRED     the device has completed: past
 *        |                         |       cancelling (a NAIVE demo may
 *        |                         |       already have written)
 *        v                         |  ctx->work (the file's thread): deliver
 *    CANCELLED                     v
 *        |                     COMPLETED
 *        v                         v
 *        +-----> ring.c: on ctx->done <-----+   reap, or release: freed
 *
 * Locking and lifetimes
 * ---------------------
 * Each line's raw spinlock (taken with IRQs off; raw because the timer is
 * hard irq even on PREEMPT_RT) protects its pending list and the expiry
 * its timer is armed for.  QUEUED -> FIRED and QUEUED -> CANCELLED both
 * happen under it, with the request taken off the list: whoever takes it
 * owns it, so the interrupt and a canceller never both act on one request.
 * A FIRED request belongs to the delivery path alone.
 *
 * The interrupt touches a request only before pushing it onto
 * ctx->deliver, and the ctx only until it queues the work.  Release stops
 * all of it before the ctx can go: it cancels what is queued, then
 * hrtimer_cancel()s every line (waiting out a callback in progress), then
 * waits for the file's delivery work to finish -- which never waits
 * on user space (store.c, deliver.c), so release and module unload finish
 * in bounded time even when the originator stalls its own faults forever.
 */
#include "modegate.h"

#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/cred.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/isolation.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>
#include <linux/timerqueue.h>
#include <linux/uaccess.h>
#include <asm/irq_regs.h>

#include <kunit/visibility.h>

#include "trace.h"

/*
 * Requests one interrupt of a line completes at most.  When more are due,
 * the line is re-armed MODEGATE_LINE_REARM_NS ahead, so that one hard irq
 * does a bounded amount of work and the CPU runs something else in
 * between.  (A budget shared by all the lines of a CPU would make every
 * line left without one re-arm and fire for nothing, over and over.)
 */
#define MODEGATE_LINE_MAX_PER_IRQ	64
#define MODEGATE_LINE_REARM_NS		(20 * NSEC_PER_USEC)
/* Bytes the delivery thread copies before it posts and yields the CPU. */
#define MODEGATE_RUN_BYTES		SZ_1M

/**
 * struct modegate_line - one file's simulated interrupt line on one CPU
 * @lock: protects @pending and @armed.
 * @pending: QUEUED requests, by expiry (O(log n) to insert, O(1) to peek).
 * @armed: expiry the timer is programmed for; KTIME_MAX when idle.
 * @timer: the interrupt, pinned to @cpu.
 * @ctx: the file.
 * @cpu: the CPU.
 */
struct modegate_line {
	raw_spinlock_t lock;	/* see above */
	struct timerqueue_head pending;
	ktime_t armed;
	struct hrtimer timer;
	struct modegate_ctx *ctx;
	int cpu;
};

/*
 * May the submitter of @req learn who @tsk is?  As ptrace_may_access()
 * decides by credentials -- which hard irq cannot call: @tsk's real,
 * effective and saved ids are the submitter's, or the submitter had
 * CAP_SYS_PTRACE.  The submitter's side was captured at submit.
 */
static bool modegate_irq_may_name(const struct modegate_request *req,
				  struct task_struct *tsk)
{
	const struct cred *tcred;
	bool ok;

	if (req->see_all)
		return true;
	/* Not a task its own user cannot ptrace (setuid, PR_SET_DUMPABLE 0). */
	if (!modegate_task_dumpable(tsk))
		return false;
	rcu_read_lock();
	tcred = __task_cred(tsk);
	ok = uid_eq(tcred->uid, req->euid) && uid_eq(tcred->euid, req->euid) &&
	     uid_eq(tcred->suid, req->euid) && gid_eq(tcred->gid, req->egid) &&
	     gid_eq(tcred->egid, req->egid) && gid_eq(tcred->sgid, req->egid);
	rcu_read_unlock();
	return ok;
}

/*
 * Who the interrupt interrupted, as the submitter may see it: in its pid
 * namespace, and only a task it could ptrace.  Another user's task is
 * "another user's task" and nothing more -- not even whether it was idle,
 * a kernel thread or in user mode, which would make the device a sampler
 * of that user's activity.
 */
static void modegate_record_irq(struct modegate_request *req, bool mm_match,
				u64 now, u32 flags)
{
	struct modegate_async_completion *c = &req->comp;
	struct task_struct *tsk = current;
	bool visible;

	c->t_irq_ns = now;
	c->irq_cpu = smp_processor_id();
	if (!modegate_irq_may_name(req, tsk)) {
		c->ctx_flags |= MODEGATE_CTX_IRQ_OTHER_USER |
				(flags & MODEGATE_CTX_IRQ_HARDIRQ);
		return;
	}
	c->ctx_flags |= flags;
	if (mm_match)
		c->ctx_flags |= MODEGATE_CTX_IRQ_MM_MATCH;
	if (is_idle_task(tsk)) {
		c->ctx_flags |= MODEGATE_CTX_IRQ_IDLE;
		visible = req->ns == &init_pid_ns;
	} else {
		c->irq_pid = task_pid_nr_ns(tsk, req->ns);
		c->irq_tgid = task_tgid_nr_ns(tsk, req->ns);
		visible = c->irq_pid;
	}
	if (visible) {
		memcpy(c->irq_comm, tsk->comm, sizeof(c->irq_comm));
		c->irq_comm[sizeof(c->irq_comm) - 1] = '\0';
	}
}

/* The flags that describe the interrupted context, the same for all. */
static u32 modegate_irq_flags(void)
{
	struct pt_regs *regs = get_irq_regs();
	u32 flags = 0;

	if (current->flags & PF_KTHREAD)
		flags |= MODEGATE_CTX_IRQ_KTHREAD;
	if (in_hardirq())
		flags |= MODEGATE_CTX_IRQ_HARDIRQ;
	if (regs && user_mode(regs))
		flags |= MODEGATE_CTX_IRQ_USER;
	return flags;
}

/* In the interrupt: the request is FIRED and ours; hand it on. */
static void modegate_fire(struct modegate_request *req, u64 now, u32 flags)
{
	struct modegate_ctx *ctx = req->ctx;
	bool mm_match = current->mm == req->mm;

	modegate_record_irq(req, mm_match, now, flags);
	trace_modegate_async_irq(req->comp.user_data, req->comp.strategy,
				 pid_nr(req->origin), mm_match);
	modegate_trace_crossing("async_irq", req->offset, req->len, 0);
	if (req->strat->irq)
		req->strat->irq(req);
	llist_add(&req->lnode, &ctx->deliver);
}

/* The request queued on a line's timerqueue node @node. */
static struct modegate_request *modegate_tq_req(struct timerqueue_node *node)
{
	return node ? container_of(node, struct modegate_request, tq) : NULL;
}

/*
 * The simulated device interrupt.  Hard irq, on whatever task was running
 * on the line's CPU: complete every due request, re-arm for the next.  No
 * user memory of the originator is touched here.
 */
static enum hrtimer_restart modegate_line_irq(struct hrtimer *timer)
{
	struct modegate_line *line = container_of(timer, struct modegate_line, timer);
	enum hrtimer_restart restart = HRTIMER_RESTART;
	struct modegate_request *req, *tmp;
	ktime_t now = ktime_get(), next;
	unsigned int n = 0;
	LIST_HEAD(fired);
	u32 flags;

	raw_spin_lock(&line->lock);
	while ((req = modegate_tq_req(timerqueue_getnext(&line->pending))) &&
	       req->tq.expires <= now && n < MODEGATE_LINE_MAX_PER_IRQ) {
		timerqueue_del(&line->pending, &req->tq);
		list_add_tail(&req->node, &fired);
		atomic_set(&req->state, MODEGATE_REQ_FIRED);
		n++;
	}
	if (!req)
		next = KTIME_MAX;
	else if (req->tq.expires <= now)
		next = ktime_add_ns(now, MODEGATE_LINE_REARM_NS); /* not in this irq */
	else
		next = req->tq.expires;
	/*
	 * The expiry is set under the lock: once a hotplug moved the timer
	 * off the line's CPU, modegate_line_program() may run on that CPU
	 * while this runs, and have started the timer already -- for an
	 * expiry no later than @next, which is then kept.
	 */
	if (hrtimer_is_queued(timer)) {
		next = hrtimer_get_expires(timer);
		restart = HRTIMER_NORESTART;
	} else if (next == KTIME_MAX) {
		restart = HRTIMER_NORESTART;
	} else {
		hrtimer_set_expires(timer, next);
	}
	line->armed = next;
	raw_spin_unlock(&line->lock);

	if (n) {
		flags = modegate_irq_flags();
		list_for_each_entry_safe(req, tmp, &fired, node)
			modegate_fire(req, ktime_to_ns(now), flags);
		modegate_worker_queue(line->ctx->worker, &line->ctx->work);
	}
	modegate_stats_irq_time(n, ktime_to_ns(ktime_sub(ktime_get(), now)));
	return restart;
}

/* In an IPI on the line's CPU (or locally with IRQs off): program it. */
static void modegate_line_program(void *info)
{
	struct modegate_line *line = info;
	struct modegate_request *first;

	raw_spin_lock(&line->lock);
	first = modegate_tq_req(timerqueue_getnext(&line->pending));
	if (first && first->tq.expires < line->armed) {
		line->armed = first->tq.expires;
		hrtimer_start(&line->timer, line->armed, HRTIMER_MODE_ABS_PINNED_HARD);
	}
	raw_spin_unlock(&line->lock);
}

/* The ctx's line on @cpu, created on first use.  Process context. */
VISIBLE_IF_KUNIT struct modegate_line *modegate_line_get(struct modegate_ctx *ctx, int cpu)
{
	struct modegate_line *line;

	cpu = array_index_nospec(cpu, nr_cpu_ids);
	line = READ_ONCE(ctx->lines[cpu]);

	if (line)
		return line;
	line = kzalloc(sizeof(*line), GFP_KERNEL_ACCOUNT);
	if (!line)
		return NULL;
	raw_spin_lock_init(&line->lock);
	timerqueue_init_head(&line->pending);
	line->armed = KTIME_MAX;
	line->ctx = ctx;
	line->cpu = cpu;
	modegate_hrtimer_setup(&line->timer, modegate_line_irq, CLOCK_MONOTONIC,
			       HRTIMER_MODE_ABS_PINNED_HARD);
	if (cmpxchg(&ctx->lines[cpu], NULL, line)) {
		kfree(line);
		line = ctx->lines[cpu];
	}
	return line;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_line_get);

/*
 * Queue @req on @line, in expiry order: O(log n) with IRQs off, however
 * many are queued.  Returns true if the timer must be programmed earlier.
 */
VISIBLE_IF_KUNIT bool modegate_line_add(struct modegate_line *line,
					struct modegate_request *req)
{
	unsigned long irqflags;
	bool earlier;

	raw_spin_lock_irqsave(&line->lock, irqflags);
	timerqueue_add(&line->pending, &req->tq);
	atomic_set(&req->state, MODEGATE_REQ_QUEUED);
	earlier = req->tq.expires < line->armed;
	raw_spin_unlock_irqrestore(&line->lock, irqflags);
	return earlier;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_line_add);

/* Program @line's timer on its CPU: one IPI (none for the local CPU). */
static int modegate_line_kick(struct modegate_line *line)
{
	return smp_call_function_single(line->cpu, modegate_line_program,
					line, 1) ? -ENODEV : 0;
}

/*
 * Take QUEUED requests of @line (those matching @user_data, or all) for
 * cancelling, onto @victims.  Returns how many.
 */
VISIBLE_IF_KUNIT unsigned int modegate_line_claim(struct modegate_line *line, bool all,
						  u64 user_data, struct list_head *victims)
{
	struct timerqueue_node *node, *next;
	struct modegate_request *req;
	unsigned long irqflags;
	unsigned int n = 0;

	raw_spin_lock_irqsave(&line->lock, irqflags);
	for (node = timerqueue_getnext(&line->pending); node; node = next) {
		next = timerqueue_iterate_next(node);
		req = modegate_tq_req(node);
		if (!all && req->comp.user_data != user_data)
			continue;
		timerqueue_del(&line->pending, node);
		list_add_tail(&req->node, victims);
		atomic_set(&req->state, MODEGATE_REQ_CANCELLED);
		n++;
	}
	raw_spin_unlock_irqrestore(&line->lock, irqflags);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_line_claim);

static unsigned int modegate_claim_all(struct modegate_ctx *ctx, bool all,
				       u64 user_data, struct list_head *victims)
{
	struct modegate_line *line;
	unsigned int cpu, n = 0;

	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		line = READ_ONCE(ctx->lines[cpu]);
		if (line)
			n += modegate_line_claim(line, all, user_data, victims);
	}
	return n;
}

static void modegate_count_done(unsigned int nr, bool cancelled)
{
	modegate_count_sub(async_inflight, nr);
	modegate_count_add(async_completed, nr);
	if (cancelled)
		modegate_count_add(async_cancelled, nr);
}

/* Deliver the run of @nr requests from @first (one strategy, one mm). */
static void modegate_deliver_run(struct modegate_request *first, unsigned int nr,
				 struct list_head *out)
{
	struct modegate_request *req = first;
	unsigned int i;
	u64 now;

	first->strat->deliver(first, nr);
	/*
	 * One clock read for the run (under TCG the clocksource is often the
	 * HPET, whose every read is an emulated MMIO): each request that was
	 * delivered had its data written by now.
	 */
	now = ktime_get_ns();
	for (i = 0; i < nr; i++) {
		if (req->comp.delivered_by && !req->comp.t_deliver_ns)
			req->comp.t_deliver_ns = now;
		trace_modegate_async_deliver(req->comp.user_data, req->comp.strategy,
					     req->comp.delivered_by, req->comp.result);
		trace_modegate_async_complete(req->comp.user_data, req->comp.result,
					      false);
		modegate_trace_crossing("async_deliver", req->offset, req->len,
					req->comp.result);
		list_add_tail(&req->node, out);
		req = llist_entry(req->lnode.next, struct modegate_request, lnode);
	}
}

/* Do @a and @b belong in one run: one strategy, one mm, one owner? */
static bool modegate_same_run(const struct modegate_request *a,
			      const struct modegate_request *b)
{
	return a->strat == b->strat && a->mm == b->mm &&
	       a->origin == b->origin && a->nice == b->nice;
}

/*
 * The file's delivery work, on its thread: deliver everything fired, in
 * runs, then post.  Every MODEGATE_RUN_BYTES it posts what it has and
 * lets the scheduler run something else, so that one user's large copies
 * neither hold their completions back nor the CPU.
 */
static void modegate_async_work(struct kthread_work *work)
{
	struct modegate_ctx *ctx = container_of(work, struct modegate_ctx, work);
	struct modegate_request *first, *req;
	struct llist_node *list;
	unsigned int nr, total = 0;
	size_t bytes = 0;
	LIST_HEAD(done);
	bool stalled;

	/*
	 * A process that stalls its own mmap lock costs its deliveries one
	 * poll of it (store.c) per second, however many runs and passes it
	 * makes, and a file being released none: its pass ends at once.
	 */
	if (READ_ONCE(ctx->closing) || time_before(jiffies, ctx->stall_until))
		ctx->fault = MODEGATE_FAULT_TRYLOCK;
	else
		ctx->fault = MODEGATE_FAULT_NOWAIT;
	stalled = ctx->fault == MODEGATE_FAULT_TRYLOCK;

	list = llist_reverse_order(llist_del_all(&ctx->deliver));
	while (list) {
		first = llist_entry(list, struct modegate_request, lnode);
		nr = 0;
		llist_for_each_entry(req, list, lnode) {
			if (!modegate_same_run(first, req) ||
			    (nr && bytes + req->len > MODEGATE_RUN_BYTES))
				break;
			bytes += req->len;
			nr++;
			list = req->lnode.next;
		}
		modegate_worker_become(ctx->worker, first->origin, first->nice);
		modegate_deliver_run(first, nr, &done);
		total += nr;
		if (bytes >= MODEGATE_RUN_BYTES && list) {
			modegate_count_done(total, false);
			modegate_ring_post(ctx, &done, total);
			INIT_LIST_HEAD(&done);
			total = 0;
			bytes = 0;
		}
		cond_resched();
	}
	if (total) {
		modegate_count_done(total, false);
		modegate_ring_post(ctx, &done, total);
	}
	if (!stalled && ctx->fault == MODEGATE_FAULT_TRYLOCK)
		ctx->stall_until = jiffies + HZ;
}

/*
 * Is @cpu one a submitter may aim interrupts at?  A housekeeping CPU for
 * timers and scheduler domains, or any CPU with CAP_SYS_NICE: a CPU that
 * isolcpus= or nohz_full= isolated belongs to whoever isolated it, and an
 * interrupt (and the IPI that programs it) is work done there.  The
 * capability is checked only for an isolated CPU, so it is audited only
 * when it is what grants the request.
 */
static bool modegate_cpu_ours(int cpu)
{
	return modegate_cpu_housekeeping(cpu) || capable(CAP_SYS_NICE);
}

/* MODEGATE_CPU_ANY: this CPU if it is a housekeeping one, else one that is. */
static int modegate_cpu_any(void)
{
	int cpu = raw_smp_processor_id(), other;

	if (modegate_cpu_housekeeping(cpu))
		return cpu;
	for_each_online_cpu(other)
		if (modegate_cpu_housekeeping(other))
			return other;
	return cpu;	/* no housekeeping CPU online: the kernel's own trouble */
}

static int modegate_async_validate(const struct modegate_async_req *r)
{
	u64 end;

	if (r->flags & ~MODEGATE_REQ_DEMO_WRONG_PROCESS)
		return -EINVAL;
	if ((r->flags & MODEGATE_REQ_DEMO_WRONG_PROCESS) &&
	    r->strategy != MODEGATE_STRAT_NAIVE)
		return -EINVAL;
	if (!r->len || r->len > modegate_store_capacity())
		return -EINVAL;
	if (check_add_overflow(r->offset, r->len, &end) || end > LLONG_MAX)
		return -EINVAL;
	if (r->latency_ns > MODEGATE_ASYNC_MAX_LATENCY_NS)
		return -EINVAL;
	if (r->cpu != MODEGATE_CPU_ANY &&
	    (r->cpu < 0 || r->cpu >= nr_cpu_ids || !cpu_online(r->cpu) ||
	     !modegate_cpu_ours(r->cpu)))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(r->buf), r->len))
		return -EFAULT;
	return 0;
}

/* Build the request for @r; not yet queued.  ERR_PTR on failure. */
static struct modegate_request *
modegate_request_make(struct modegate_ctx *ctx, const struct modegate_async_req *r,
		      int cpu, ktime_t now)
{
	const struct modegate_strategy *strat = modegate_strategy_get(r->strategy);
	struct modegate_request *req;
	int ret;

	if (!strat)
		return ERR_PTR(-EINVAL);
	ret = modegate_async_validate(r);
	if (ret)
		return ERR_PTR(ret);
	req = modegate_request_alloc(ctx);
	if (IS_ERR(req))
		return req;
	req->buf = r->buf;
	req->len = r->len;
	req->offset = r->offset;
	req->cpu = cpu;
	req->euid = current_euid();
	req->egid = current_egid();
	req->see_all = ns_capable_noaudit(&init_user_ns, CAP_SYS_PTRACE);
	req->nice = task_nice(current);
	req->flags = r->flags;
	timerqueue_init(&req->tq);
	req->tq.expires = ktime_add_ns(now, r->latency_ns);
	req->comp.user_data = r->user_data;
	req->comp.strategy = r->strategy;
	req->comp.t_submit_ns = ktime_to_ns(now);
	if (strat->prepare) {
		ret = strat->prepare(req);
		if (ret) {
			modegate_request_free(req);
			return ERR_PTR(ret);
		}
	}
	req->strat = strat;	/* from here on, free calls ->release */
	return req;
}

/*
 * One element of a submit batch, submitted at @now: read, make, queue.
 * Returns -EFAULT if it could not be read, else 0 with the element's own
 * errno in *@err.
 */
static int modegate_submit_one(struct modegate_ctx *ctx, u8 __user *u, u32 size,
			       ktime_t now,
			       unsigned long *kick, int *err)
{
	struct modegate_async_req r;
	struct modegate_request *req;
	struct modegate_line *line;
	int cpu;

	*err = copy_struct_from_user(&r, sizeof(r), u, size);
	if (*err == -EFAULT)
		return -EFAULT;
	if (*err)
		return 0;
	cpu = r.cpu == MODEGATE_CPU_ANY ? modegate_cpu_any() : r.cpu;
	req = modegate_request_make(ctx, &r, cpu, now);
	if (IS_ERR(req)) {
		*err = PTR_ERR(req);
		return 0;
	}
	line = modegate_line_get(ctx, cpu);
	if (!line) {
		modegate_request_free(req);
		*err = -ENOMEM;
		return 0;
	}
	modegate_count(async_submitted);
	modegate_count(async_inflight);
	trace_modegate_async_submit(r.user_data, r.strategy, r.cpu, r.len,
				    r.latency_ns);
	if (modegate_line_add(line, req))
		__set_bit(cpu, kick);
	return 0;
}

/* Program the timers of the CPUs in @kick, once each. */
static void modegate_submit_kick(struct modegate_ctx *ctx, unsigned long *kick)
{
	struct modegate_request *req, *tmp;
	struct modegate_line *line;
	LIST_HEAD(victims);
	unsigned int cpu, n;

	for_each_set_bit(cpu, kick, nr_cpu_ids) {
		line = ctx->lines[cpu];
		if (!modegate_line_kick(line))
			continue;
		/* The CPU went away: its requests complete with -ENODEV. */
		n = modegate_line_claim(line, true, 0, &victims);
		list_for_each_entry_safe(req, tmp, &victims, node) {
			req->comp.result = -ENODEV;
			atomic_set(&req->state, MODEGATE_REQ_COMPLETED);
		}
		modegate_count_done(n, false);
		modegate_ring_post(ctx, &victims, n);
	}
}

/*
 * The file's delivery thread: the one of the process that submits first
 * (worker.c), in its cgroups and at its nice.  Return: 0, or the error of
 * modegate_worker_get().
 */
static int modegate_worker_start(struct modegate_ctx *ctx)
{
	struct modegate_worker *worker;
	int ret = 0;

	/* Pairs with the smp_store_release() below: the worker is set up. */
	if (smp_load_acquire(&ctx->worker))
		return 0;
	mutex_lock(&ctx->worker_lock);
	if (ctx->worker)
		goto out;
	worker = modegate_worker_get();
	if (IS_ERR(worker)) {
		ret = PTR_ERR(worker);
		goto out;
	}
	/* The lines read ctx->worker only for requests queued after this. */
	smp_store_release(&ctx->worker, worker);
out:
	mutex_unlock(&ctx->worker_lock);
	return ret;
}

/**
 * modegate_ioc_async_submit() - MODEGATE_IOC_ASYNC_SUBMIT
 * @file: the device file.
 * @arg: &struct modegate_async_submit.
 *
 * Each request is read, validated and queued on its own, and its error
 * field written back.  A request that cannot be read (or whose error cannot
 * be written) stops the batch there.  The whole batch is submitted at one
 * time (one clock read, its t_submit_ns), and the timers of its CPUs are
 * programmed once, at the end.
 *
 * Return: requests queued; -EFAULT if the first one could not be read;
 * -E2BIG for elements larger than a page.
 */
int modegate_ioc_async_submit(struct file *file, void *arg)
{
	struct modegate_ctx *ctx = modegate_file_ctx(file);
	struct modegate_async_submit *s = arg;
	u8 __user *ureqs = u64_to_user_ptr(s->reqs);
	unsigned long *kick;
	u32 i, queued = 0;
	int ret = 0, err;
	ktime_t now;

	if (s->flags)
		return -EINVAL;
	ret = modegate_check_user_array(ureqs, s->nr, s->req_size,
					sizeof(struct modegate_async_req));
	if (ret)
		return ret;
	if (!current->mm)
		return -EINVAL;
	ret = modegate_worker_start(ctx);
	if (ret)
		return ret;
	modegate_worker_steer(ctx->worker);
	kick = bitmap_zalloc(nr_cpu_ids, GFP_KERNEL);
	if (!kick)
		return -ENOMEM;
	now = ktime_get();
	for (i = 0; i < s->nr; i++) {
		u8 __user *u = ureqs + (size_t)i * s->req_size;

		ret = modegate_submit_one(ctx, u, s->req_size, now, kick, &err);
		if (ret)
			break;
		queued += !err;
		ret = put_user(err, (s32 __user *)(u + offsetof(struct modegate_async_req,
								error)));
		if (ret)
			break;
		cond_resched();
	}
	modegate_submit_kick(ctx, kick);
	bitmap_free(kick);
	s->queued = queued;
	return queued ? queued : ret;
}

/**
 * modegate_ioc_async_cancel() - MODEGATE_IOC_ASYNC_CANCEL
 * @file: the device file.
 * @arg: &struct modegate_async_cancel.
 *
 * Only QUEUED requests are cancelled: once the interrupt fired, the device
 * has completed and the request completes normally.
 *
 * Return: 0; @cancelled says how many were.
 */
int modegate_ioc_async_cancel(struct file *file, void *arg)
{
	struct modegate_ctx *ctx = modegate_file_ctx(file);
	struct modegate_async_cancel *c = arg;
	struct modegate_request *req;
	LIST_HEAD(victims);

	if (c->flags & ~MODEGATE_CANCEL_ALL)
		return -EINVAL;
	c->cancelled = modegate_claim_all(ctx, c->flags & MODEGATE_CANCEL_ALL,
					  c->user_data, &victims);
	if (!c->cancelled)
		return 0;
	list_for_each_entry(req, &victims, node) {
		modegate_request_release(req);
		req->comp.result = -ECANCELED;
		req->comp.ctx_flags |= MODEGATE_CTX_CANCELLED;
		trace_modegate_async_complete(req->comp.user_data, -ECANCELED, true);
	}
	modegate_count_done(c->cancelled, true);
	modegate_ring_post(ctx, &victims, c->cancelled);
	return 0;
}

/*
 * The file is going away: cancel what is queued, silence the lines, and
 * wait for the delivery in progress (bounded: it never waits on user
 * space).  ctx->closing is set, so nothing more is posted: the ring frees
 * what would have been.
 */
void modegate_async_release(struct modegate_ctx *ctx)
{
	struct modegate_request *req, *tmp;
	struct modegate_line *line;
	LIST_HEAD(victims);
	unsigned int cpu, n;

	spin_lock(&ctx->lock);
	ctx->closing = true;
	spin_unlock(&ctx->lock);

	n = modegate_claim_all(ctx, true, 0, &victims);
	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		line = ctx->lines[cpu];
		if (line)
			hrtimer_cancel(&line->timer);
	}
	/* The delivery in progress ends; the thread is the process's. */
	if (ctx->worker) {
		modegate_worker_flush(&ctx->work);
		modegate_worker_put(ctx->worker);
	}

	list_for_each_entry_safe(req, tmp, &victims, node) {
		trace_modegate_async_complete(req->comp.user_data, -ECANCELED, true);
		list_del(&req->node);
		modegate_request_free(req);
	}
	modegate_count_done(n, true);
}

/* A new file: its delivery work; the thread comes with the first submit. */
void modegate_async_open(struct modegate_ctx *ctx)
{
	kthread_init_work(&ctx->work, modegate_async_work);
	mutex_init(&ctx->worker_lock);
}
