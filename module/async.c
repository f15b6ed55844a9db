// SPDX-License-Identifier: GPL-2.0
/*
 * modegate async read engine: submit, the simulated device interrupt, the
 * delivery work, the completion ring, cancel, wait, poll and eventfd.
 *
 * A request asks for @len bytes of the store at @offset to be written into
 * @buf, @latency_ns later, by an "interrupt" on @cpu.  The interrupt is an
 * hrtimer in hard irq mode (HRTIMER_MODE_REL_PINNED_HARD: hard irq even on
 * PREEMPT_RT), started on the requested CPU, so it fires on whatever thread
 * is running there: the idle task, a kernel thread, any process.  It records
 * that context -- the evidence -- and queues the delivery on the modegate
 * workqueue; the strategies (deliver.c) write through the address space
 * captured at submit.
 *
 * Request states
 * --------------
 *
 *              submit (ioctl, submitter's context): validate, reserve,
 *              mmgrab(current->mm), strategy prepare, onto ctx->inflight
 *                                   |
 *                                ARMING
 *                                   |  on the target CPU, IRQs off:
 *                                   |  hrtimer_start(), then QUEUED
 *                                   v
 *        +---------------------- QUEUED
 *        |                          |  timer callback (hard irq): record the
 *        |                          |  interrupted context, queue_work()
 *        |                          v
 *        +---------------------- FIRED
 *        |                          |  work item (kworker)
 *        | cancel / release         v
 *        |                     DELIVERING   strategy deliver, cannot be
 *        v                          |       cancelled any more
 *    CANCELLED                      v
 *        |                      COMPLETED
 *        |  hrtimer_cancel(),       |
 *        |  cancel_work_sync()      |
 *        v                          v
 *        +-----> on ctx->done: the completion ring <-----+
 *                                   |
 *                                   |  reap (copied out), or release
 *                                   v
 *                          REAPED: freed
 *
 * Every transition out of ARMING, QUEUED and FIRED is an atomic cmpxchg of
 * req->state, and its winner owns the request:
 *
 *  - ARMING -> QUEUED happens in the IPI that starts the timer.  IRQs are
 *    off there and the timer is pinned to that CPU, so it cannot fire before
 *    the state says QUEUED; cancel ignores ARMING requests (they are still
 *    inside their submit call), so it never sees a timer not yet started.
 *  - QUEUED -> FIRED: the timer callback, which then hands the request to
 *    the work item.  It touches nothing after queue_work().
 *  - FIRED -> DELIVERING: the work item; from here on the request is
 *    delivered, and posted to ctx->done.
 *  - QUEUED or FIRED -> CANCELLED: ASYNC_CANCEL or the release of the file.
 *    The canceller then waits out the loser -- hrtimer_cancel() for a
 *    callback that may be running, cancel_work_sync() for a work item that
 *    may be queued or running (it sees CANCELLED and returns) -- and only
 *    then posts the cancellation or frees the request.
 *
 * So each request yields exactly one completion (or, when its file is
 * released first, is freed exactly once), and nothing runs on a freed one.
 *
 * Locking
 * -------
 * ctx->lock (a spinlock, process context only) protects the file's lists,
 * counts, closing flag and eventfd.  The timer callback never takes it: it
 * touches only its own request (state by cmpxchg) and the bystander
 * registry, whose raw spinlock is taken with IRQs off.  A request lives
 * until it is unlinked from ctx->done under ctx->lock, so the work item
 * publishes, wakes the waiters and signals the eventfd all under that lock
 * and touches nothing afterwards.  Each request holds a reference on its
 * ctx, so a delivery that is still running when the file is released
 * finishes into a ctx that is still there (and then frees itself); module
 * exit destroys the workqueue, which drains such deliveries.
 */
#include "modegate.h"

#include <linux/cpumask.h>
#include <linux/eventfd.h>
#include <linux/kref.h>
#include <linux/mmu_notifier.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <asm/irq_regs.h>

#include "trace.h"

/**
 * struct modegate_async_ctx - the async engine's state for one open file
 * @lock: protects everything below but @ref and @wait.
 * @inflight: requests submitted and not yet posted.
 * @done: the completion ring: posted, not yet reaped, in order.
 * @nr_alive: requests submitted and not yet freed (the in-flight limit).
 * @nr_done: entries on @done.
 * @nr_for_originator: entries on @done that only the originator can reap.
 * @closing: the file is being released: post nothing more.
 * @eventfd: signalled once per completion posted, or NULL.
 * @wait: ASYNC_WAIT and poll sleep here.
 * @ref: one for the file, one per request.
 * @all: on modegate_ctxs.
 */
struct modegate_async_ctx {
	spinlock_t lock;	/* see "Locking" above */
	struct list_head inflight;
	struct list_head done;
	unsigned int nr_alive;
	unsigned int nr_done;
	unsigned int nr_for_originator;
	bool closing;
	struct eventfd_ctx *eventfd;
	wait_queue_head_t wait;
	struct kref ref;
	struct list_head all;
};

/**
 * struct modegate_bystander_reg - a thread that volunteered as bystander
 * @node: on modegate_bystanders.
 * @task: the thread, with a reference (so the pointer cannot be reused).
 * @ctx: the file it registered through; the registration ends with it.
 */
struct modegate_bystander_reg {
	struct list_head node;
	struct task_struct *task;
	struct modegate_async_ctx *ctx;
};

static struct workqueue_struct *modegate_wq;
/* Requests alive in all files, against max_inflight_global. */
static atomic_t modegate_async_alive = ATOMIC_INIT(0);

/* Every ctx, for modegate_mm_release(). */
static LIST_HEAD(modegate_ctxs);
static DEFINE_SPINLOCK(modegate_ctxs_lock);

static LIST_HEAD(modegate_bystanders);
/* Raw: taken in the timer callback, hard irq even on PREEMPT_RT. */
static DEFINE_RAW_SPINLOCK(modegate_bystanders_lock);

static struct modegate_async_ctx *modegate_ctx(struct file *file)
{
	struct modegate_file *mf = file->private_data;

	return mf->async;
}

static void modegate_async_ctx_free(struct kref *ref)
{
	struct modegate_async_ctx *ctx =
		container_of(ref, struct modegate_async_ctx, ref);

	spin_lock(&modegate_ctxs_lock);
	list_del(&ctx->all);
	spin_unlock(&modegate_ctxs_lock);
	if (ctx->eventfd)
		eventfd_ctx_put(ctx->eventfd);
	kfree(ctx);
}

/*
 * A completion left for the originator (BUFFERED) becomes reapable by
 * anyone when the originator's address space exits -- an event no
 * completion announces.  An mmu notifier's ->release is the kernel's word
 * that an mm is being torn down (exit, or the old mm of an exec): wake every
 * waiter so that ASYNC_WAIT and poll look again.
 */
static void modegate_mm_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct modegate_async_ctx *ctx;

	spin_lock(&modegate_ctxs_lock);
	list_for_each_entry(ctx, &modegate_ctxs, all)
		wake_up_all(&ctx->wait);
	spin_unlock(&modegate_ctxs_lock);
}

static struct mmu_notifier *modegate_mm_alloc_notifier(struct mm_struct *mm)
{
	struct mmu_notifier *mn = kzalloc(sizeof(*mn), GFP_KERNEL);

	return mn ? mn : ERR_PTR(-ENOMEM);
}

static void modegate_mm_free_notifier(struct mmu_notifier *mn)
{
	kfree(mn);
}

static const struct mmu_notifier_ops modegate_mm_ops = {
	.release = modegate_mm_release,
	.alloc_notifier = modegate_mm_alloc_notifier,
	.free_notifier = modegate_mm_free_notifier,
};

/* One notifier per mm (mmu_notifier_get), shared by its requests. */
static int modegate_mm_watch(struct modegate_request *req)
{
	struct mmu_notifier *mn;

	if (mmap_write_lock_killable(req->mm))
		return -EINTR;
	mn = mmu_notifier_get_locked(&modegate_mm_ops, req->mm);
	mmap_write_unlock(req->mm);
	if (IS_ERR(mn))
		return PTR_ERR(mn);
	req->mn = mn;
	return 0;
}

static int modegate_async_reserve(struct modegate_async_ctx *ctx)
{
	int ret = 0;

	spin_lock(&ctx->lock);
	if (ctx->nr_alive >= READ_ONCE(modegate_max_inflight))
		ret = -EAGAIN;
	else
		ctx->nr_alive++;
	spin_unlock(&ctx->lock);
	if (ret)
		return ret;

	if (atomic_inc_return(&modegate_async_alive) >
	    READ_ONCE(modegate_max_inflight_global)) {
		atomic_dec(&modegate_async_alive);
		spin_lock(&ctx->lock);
		ctx->nr_alive--;
		spin_unlock(&ctx->lock);
		return -EAGAIN;
	}
	return 0;
}

static void modegate_async_unreserve(struct modegate_async_ctx *ctx)
{
	atomic_dec(&modegate_async_alive);
	spin_lock(&ctx->lock);
	ctx->nr_alive--;
	spin_unlock(&ctx->lock);
}

/* Free a request nobody else can reach any more.  Process context. */
static void modegate_request_free(struct modegate_request *req)
{
	struct modegate_async_ctx *ctx = req->ctx;

	/* A callback that queued the work may still be on its way out. */
	hrtimer_cancel(&req->timer);
	if (req->strat->release)
		req->strat->release(req);
	kvfree(req->kbuf);
	if (req->mn)
		mmu_notifier_put(req->mn);
	mmdrop(req->mm);
	modegate_count_dec(mm_refs);
	kfree(req);
	modegate_async_unreserve(ctx);
	kref_put(&ctx->ref, modegate_async_ctx_free);
}

/* May @req be reaped by the current task? */
static bool modegate_async_visible(const struct modegate_request *req)
{
	if (!req->for_originator)
		return true;
	return req->mm == current->mm || !atomic_read(&req->mm->mm_users);
}

/* Completions on ctx->done the current task may reap. */
static unsigned int modegate_async_ready(struct modegate_async_ctx *ctx)
{
	struct modegate_request *req;
	unsigned int n;

	spin_lock(&ctx->lock);
	n = ctx->nr_done;
	if (ctx->nr_for_originator) {
		n = 0;
		list_for_each_entry(req, &ctx->done, node)
			n += modegate_async_visible(req);
	}
	spin_unlock(&ctx->lock);
	return n;
}

static void modegate_async_count_done(bool cancelled)
{
	modegate_count_dec(async_inflight);
	modegate_count(async_completed);
	if (cancelled)
		modegate_count(async_cancelled);
}

/*
 * Post the completion of @req (delivered or cancelled; it is on
 * ctx->inflight or on a private list) to the completion ring.  After this
 * the request belongs to the ring: the caller must not touch it.
 */
static void modegate_async_post(struct modegate_request *req)
{
	struct modegate_async_ctx *ctx = req->ctx;
	bool cancelled = atomic_read(&req->state) == MODEGATE_REQ_CANCELLED;

	trace_modegate_async_complete(req->comp.user_data, req->comp.result,
				      cancelled);
	modegate_async_count_done(cancelled);

	spin_lock(&ctx->lock);
	if (ctx->closing) {
		list_del(&req->node);
		spin_unlock(&ctx->lock);
		modegate_request_free(req);
		return;
	}
	if (!cancelled)
		atomic_set(&req->state, MODEGATE_REQ_COMPLETED);
	list_move_tail(&req->node, &ctx->done);
	ctx->nr_done++;
	ctx->nr_for_originator += req->for_originator;
	modegate_count(async_pending);
	wake_up_all(&ctx->wait);
	if (ctx->eventfd)
		modegate_eventfd_signal(ctx->eventfd);
	spin_unlock(&ctx->lock);
}

/* The work item: deliver with the request's strategy, then post. */
static void modegate_async_work(struct work_struct *work)
{
	struct modegate_request *req =
		container_of(work, struct modegate_request, work);
	s64 result;

	if (atomic_cmpxchg(&req->state, MODEGATE_REQ_FIRED,
			   MODEGATE_REQ_DELIVERING) != MODEGATE_REQ_FIRED)
		return;	/* cancelled: the canceller owns it */

	result = req->strat->deliver(req);
	req->comp.result = result;
	if (!req->for_originator) {
		/* The snapshot has been delivered: do not keep it until reap. */
		kvfree(req->kbuf);
		req->kbuf = NULL;
		req->kbuf_len = 0;
	}
	trace_modegate_async_deliver(req->comp.user_data, req->comp.strategy,
				     req->comp.delivered_by, result);
	modegate_trace_crossing("async_deliver", req->offset, req->len, result);
	modegate_async_post(req);
}

/*
 * The simulated device interrupt.  Hard irq, on whatever task was running:
 * record who that was, let the strategy look (NAIVE), queue the delivery.
 * No user memory is touched here, and nothing after queue_work().
 */
static enum hrtimer_restart modegate_async_timer(struct hrtimer *timer)
{
	struct modegate_request *req =
		container_of(timer, struct modegate_request, timer);
	struct modegate_async_completion *c = &req->comp;
	struct pt_regs *regs = get_irq_regs();
	struct task_struct *tsk = current;
	bool mm_match = tsk->mm == req->mm;

	if (atomic_cmpxchg(&req->state, MODEGATE_REQ_QUEUED,
			   MODEGATE_REQ_FIRED) != MODEGATE_REQ_QUEUED)
		return HRTIMER_NORESTART;	/* cancelled */

	c->t_irq_ns = ktime_get_ns();
	c->irq_cpu = smp_processor_id();
	memcpy(c->irq_comm, tsk->comm, sizeof(c->irq_comm));
	c->irq_comm[sizeof(c->irq_comm) - 1] = '\0';
	if (is_idle_task(tsk)) {
		c->ctx_flags |= MODEGATE_CTX_IRQ_IDLE;
	} else {
		c->irq_pid = task_pid_nr(tsk);
		c->irq_tgid = task_tgid_nr(tsk);
	}
	if (tsk->flags & PF_KTHREAD)
		c->ctx_flags |= MODEGATE_CTX_IRQ_KTHREAD;
	if (mm_match)
		c->ctx_flags |= MODEGATE_CTX_IRQ_MM_MATCH;
	if (in_hardirq())
		c->ctx_flags |= MODEGATE_CTX_IRQ_HARDIRQ;
	if (regs && user_mode(regs))
		c->ctx_flags |= MODEGATE_CTX_IRQ_USER;

	trace_modegate_async_irq(c->user_data, c->strategy, c->origin_tgid,
				 mm_match);
	modegate_trace_crossing("async_irq", req->offset, req->len, 0);
	if (req->strat->irq)
		req->strat->irq(req);
	queue_work(modegate_wq, &req->work);
	return HRTIMER_NORESTART;
}

/* In an IPI on the target CPU (or locally with IRQs off). */
static void modegate_async_arm_here(void *info)
{
	struct modegate_request *req = info;

	hrtimer_start(&req->timer, ns_to_ktime(req->latency_ns),
		      HRTIMER_MODE_REL_PINNED_HARD);
	atomic_set(&req->state, MODEGATE_REQ_QUEUED);
}

/*
 * hrtimers fire on the CPU whose base they were started on: start the
 * timer from the requested CPU, pinned there (it moves only if that CPU
 * goes offline).  "Any" is the submitter's CPU.
 */
static int modegate_async_arm(struct modegate_request *req)
{
	int ret;

	if (req->cpu == MODEGATE_CPU_ANY) {
		ret = smp_call_function_single(get_cpu(), modegate_async_arm_here,
					       req, 1);
		put_cpu();
	} else {
		ret = smp_call_function_single(req->cpu, modegate_async_arm_here,
					       req, 1);
	}
	return ret ? -ENODEV : 0;
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
	    (r->cpu < 0 || r->cpu >= nr_cpu_ids || !cpu_online(r->cpu)))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(r->buf), r->len))
		return -EFAULT;
	return 0;
}

static int modegate_async_submit_one(struct modegate_async_ctx *ctx,
				     const struct modegate_async_req *r)
{
	const struct modegate_strategy *strat = modegate_strategy_get(r->strategy);
	struct modegate_request *req;
	int ret;

	if (!strat)
		return -EINVAL;
	ret = modegate_async_validate(r);
	if (ret)
		return ret;
	if (!current->mm)
		return -EINVAL;
	ret = modegate_async_reserve(ctx);
	if (ret)
		return ret;

	req = kzalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	if (!req) {
		modegate_async_unreserve(ctx);
		return -ENOMEM;
	}
	kref_get(&ctx->ref);
	req->ctx = ctx;
	req->strat = strat;
	atomic_set(&req->state, MODEGATE_REQ_ARMING);
	req->mm = current->mm;
	mmgrab(req->mm);
	modegate_count(mm_refs);
	req->buf = r->buf;
	req->len = r->len;
	req->offset = r->offset;
	req->latency_ns = r->latency_ns;
	req->cpu = r->cpu;
	req->flags = r->flags;
	req->comp.user_data = r->user_data;
	req->comp.strategy = r->strategy;
	req->comp.origin_tgid = task_tgid_nr(current);
	req->comp.t_submit_ns = ktime_get_ns();
	modegate_hrtimer_setup(&req->timer, modegate_async_timer,
			       CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	INIT_WORK(&req->work, modegate_async_work);

	if (strat->reap) {
		ret = modegate_mm_watch(req);
		if (ret)
			goto err_free_req;
	}
	if (strat->prepare) {
		ret = strat->prepare(req);
		if (ret)
			goto err_free_req;
	}

	spin_lock(&ctx->lock);
	list_add_tail(&req->node, &ctx->inflight);
	spin_unlock(&ctx->lock);
	modegate_count(async_submitted);
	modegate_count(async_inflight);
	trace_modegate_async_submit(r->user_data, r->strategy, r->cpu, r->len,
				    r->latency_ns);

	ret = modegate_async_arm(req);
	if (ret)
		goto err_unlink;
	return 0;	/* the request may be gone already */

err_unlink:
	spin_lock(&ctx->lock);
	list_del(&req->node);
	spin_unlock(&ctx->lock);
	modegate_count_dec(async_submitted);
	modegate_count_dec(async_inflight);
err_free_req:
	modegate_request_free(req);
	return ret;
}

/**
 * modegate_ioc_async_submit() - MODEGATE_IOC_ASYNC_SUBMIT
 * @file: the device file.
 * @arg: &struct modegate_async_submit.
 *
 * Each request is read, validated and queued on its own, and its error
 * field written back.  A request that cannot be read (or whose error cannot
 * be written) stops the batch there.
 *
 * Return: requests queued; -EFAULT if the first one could not be read.
 */
int modegate_ioc_async_submit(struct file *file, void *arg)
{
	struct modegate_async_ctx *ctx = modegate_ctx(file);
	struct modegate_async_submit *s = arg;
	u8 __user *ureqs = u64_to_user_ptr(s->reqs);
	struct modegate_async_req r;
	u32 i, queued = 0;
	size_t bytes;
	int ret = 0;

	if (s->flags)
		return -EINVAL;
	if (!s->nr || s->nr > MODEGATE_ASYNC_MAX_BATCH)
		return -EINVAL;
	if (s->req_size < sizeof(r))
		return -EINVAL;
	bytes = array_size(s->nr, s->req_size);
	if (bytes == SIZE_MAX || !access_ok(ureqs, bytes))
		return -EFAULT;

	for (i = 0; i < s->nr; i++) {
		u8 __user *u = ureqs + (size_t)i * s->req_size;
		s32 __user *uerr = (s32 __user *)(u + offsetof(struct modegate_async_req, error));
		int err;

		err = copy_struct_from_user(&r, sizeof(r), u, s->req_size);
		if (err == -EFAULT) {
			ret = err;
			break;
		}
		if (!err)
			err = modegate_async_submit_one(ctx, &r);
		if (!err)
			queued++;
		if (put_user(err, uerr)) {
			ret = -EFAULT;
			break;
		}
	}
	s->queued = queued;
	return queued ? queued : ret;
}

/* Finish a completion left for the originator, in the reaper's context. */
static void modegate_async_finish(struct modegate_request *req)
{
	s64 result = req->strat->reap(req);

	req->comp.result = result;
	trace_modegate_async_deliver(req->comp.user_data, req->comp.strategy,
				     req->comp.delivered_by, result);
	modegate_trace_crossing("async_reap_deliver", req->offset, req->len,
				result);
	kvfree(req->kbuf);
	req->kbuf = NULL;
	req->kbuf_len = 0;
	req->for_originator = false;
}

static int modegate_async_copy_comp(u8 __user *dst, u32 size,
				    const struct modegate_async_completion *c)
{
	if (copy_to_user(dst, c, sizeof(*c)))
		return -EFAULT;
	if (size > sizeof(*c) && clear_user(dst + sizeof(*c), size - sizeof(*c)))
		return -EFAULT;
	return 0;
}

/**
 * modegate_ioc_async_reap() - MODEGATE_IOC_ASYNC_REAP
 * @file: the device file.
 * @arg: &struct modegate_async_reap.
 *
 * Takes up to @nr completions the caller may see off the ring, finishes
 * those left for the originator (BUFFERED: the copy happens here), copies
 * them out and frees them.  A completion that cannot be copied out goes
 * back to the head of the ring, with those after it.
 *
 * Return: completions reaped; -EFAULT if none could be copied out.
 */
int modegate_ioc_async_reap(struct file *file, void *arg)
{
	struct modegate_async_ctx *ctx = modegate_ctx(file);
	struct modegate_async_reap *r = arg;
	u8 __user *ucomps = u64_to_user_ptr(r->comps);
	struct modegate_request *req, *tmp;
	unsigned int taken = 0, reaped = 0;
	LIST_HEAD(batch);
	size_t bytes;

	if (r->flags)
		return -EINVAL;
	if (!r->nr || r->nr > MODEGATE_ASYNC_MAX_BATCH)
		return -EINVAL;
	if (r->comp_size < sizeof(struct modegate_async_completion))
		return -EINVAL;
	bytes = array_size(r->nr, r->comp_size);
	if (bytes == SIZE_MAX || !access_ok(ucomps, bytes))
		return -EFAULT;

	spin_lock(&ctx->lock);
	list_for_each_entry_safe(req, tmp, &ctx->done, node) {
		if (taken == r->nr)
			break;
		if (!modegate_async_visible(req))
			continue;
		list_move_tail(&req->node, &batch);
		ctx->nr_done--;
		ctx->nr_for_originator -= req->for_originator;
		taken++;
	}
	spin_unlock(&ctx->lock);

	list_for_each_entry_safe(req, tmp, &batch, node) {
		if (req->for_originator)
			modegate_async_finish(req);
		if (modegate_async_copy_comp(ucomps + (size_t)reaped * r->comp_size,
					     r->comp_size, &req->comp))
			break;
		list_del(&req->node);
		modegate_count_dec(async_pending);
		modegate_request_free(req);
		reaped++;
	}

	if (!list_empty(&batch)) {
		spin_lock(&ctx->lock);
		list_for_each_entry(req, &batch, node) {
			ctx->nr_done++;
			ctx->nr_for_originator += req->for_originator;
		}
		list_splice(&batch, &ctx->done);
		spin_unlock(&ctx->lock);
	}
	r->reaped = reaped;
	if (!reaped && taken)
		return -EFAULT;
	return reaped;
}

/**
 * modegate_ioc_async_wait() - MODEGATE_IOC_ASYNC_WAIT
 * @file: the device file.
 * @arg: &struct modegate_async_wait.
 *
 * Return: 0 once @min_complete completions are ready for the caller,
 * -ETIMEDOUT, or -EINTR on a signal.
 */
int modegate_ioc_async_wait(struct file *file, void *arg)
{
	struct modegate_async_ctx *ctx = modegate_ctx(file);
	struct modegate_async_wait *w = arg;
	u32 min = w->min_complete;
	long ret = 0;

	if (w->flags || w->reserved)
		return -EINVAL;
	if (min > READ_ONCE(modegate_max_inflight))
		return -EINVAL;

	if (!min)
		ret = 0;
	else if (!w->timeout_ns || w->timeout_ns > KTIME_MAX)
		ret = wait_event_interruptible(ctx->wait,
					       modegate_async_ready(ctx) >= min);
	else
		ret = wait_event_interruptible_hrtimeout(ctx->wait,
							 modegate_async_ready(ctx) >= min,
							 ns_to_ktime(w->timeout_ns));
	if (ret == -ETIME)
		return -ETIMEDOUT;
	if (ret)
		return -EINTR;
	w->ready = modegate_async_ready(ctx);
	return 0;
}

/* Claim @req for cancellation; false if it is being armed or delivered. */
static bool modegate_async_claim_cancel(struct modegate_request *req)
{
	int s = atomic_read(&req->state);

	while (s == MODEGATE_REQ_QUEUED || s == MODEGATE_REQ_FIRED)
		if (atomic_try_cmpxchg(&req->state, &s, MODEGATE_REQ_CANCELLED))
			return true;
	return false;
}

/* Move the cancellable requests matching @user_data (or all) to @victims. */
static unsigned int modegate_async_claim_all(struct modegate_async_ctx *ctx,
					     bool all, u64 user_data,
					     struct list_head *victims)
{
	struct modegate_request *req, *tmp;
	unsigned int n = 0;

	lockdep_assert_held(&ctx->lock);
	list_for_each_entry_safe(req, tmp, &ctx->inflight, node) {
		if (!all && req->comp.user_data != user_data)
			continue;
		if (!modegate_async_claim_cancel(req))
			continue;
		list_move_tail(&req->node, victims);
		n++;
	}
	return n;
}

/* Wait until neither the timer callback nor the work item can run. */
static void modegate_async_quiesce(struct modegate_request *req)
{
	hrtimer_cancel(&req->timer);
	cancel_work_sync(&req->work);
}

/**
 * modegate_ioc_async_cancel() - MODEGATE_IOC_ASYNC_CANCEL
 * @file: the device file.
 * @arg: &struct modegate_async_cancel.
 *
 * Return: 0; @cancelled says how many were.
 */
int modegate_ioc_async_cancel(struct file *file, void *arg)
{
	struct modegate_async_ctx *ctx = modegate_ctx(file);
	struct modegate_async_cancel *c = arg;
	struct modegate_request *req, *tmp;
	LIST_HEAD(victims);

	if (c->flags & ~MODEGATE_CANCEL_ALL)
		return -EINVAL;

	spin_lock(&ctx->lock);
	c->cancelled = modegate_async_claim_all(ctx, c->flags & MODEGATE_CANCEL_ALL,
						c->user_data, &victims);
	spin_unlock(&ctx->lock);

	list_for_each_entry_safe(req, tmp, &victims, node) {
		modegate_async_quiesce(req);
		if (req->strat->release)
			req->strat->release(req);
		req->comp.result = -ECANCELED;
		req->comp.ctx_flags |= MODEGATE_CTX_CANCELLED;
		modegate_async_post(req);
	}
	return 0;
}

/**
 * modegate_ioc_async_eventfd() - MODEGATE_IOC_ASYNC_EVENTFD
 * @file: the device file.
 * @arg: &struct modegate_async_eventfd.
 *
 * Return: 0, -EINVAL, or the error of eventfd_ctx_fdget() (-EBADF, -EINVAL).
 */
int modegate_ioc_async_eventfd(struct file *file, void *arg)
{
	struct modegate_async_ctx *ctx = modegate_ctx(file);
	struct modegate_async_eventfd *e = arg;
	struct eventfd_ctx *new = NULL, *old;

	if (e->flags)
		return -EINVAL;
	if (e->fd != -1) {
		new = eventfd_ctx_fdget(e->fd);
		if (IS_ERR(new))
			return PTR_ERR(new);
	}
	spin_lock(&ctx->lock);
	old = ctx->eventfd;
	ctx->eventfd = new;
	spin_unlock(&ctx->lock);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

/**
 * modegate_bystander_is_current() - is the interrupted task a bystander?
 *
 * Context: hard irq (the timer callback).
 * Return: true if current registered with MODEGATE_IOC_BYSTANDER.
 */
bool modegate_bystander_is_current(void)
{
	struct modegate_bystander_reg *b;
	bool found = false;

	raw_spin_lock(&modegate_bystanders_lock);
	list_for_each_entry(b, &modegate_bystanders, node) {
		if (b->task == current) {
			found = true;
			break;
		}
	}
	raw_spin_unlock(&modegate_bystanders_lock);
	return found;
}

static int modegate_bystander_register(struct modegate_async_ctx *ctx)
{
	struct modegate_bystander_reg *b, *new;
	unsigned long flags;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->task = current;
	new->ctx = ctx;

	raw_spin_lock_irqsave(&modegate_bystanders_lock, flags);
	list_for_each_entry(b, &modegate_bystanders, node) {
		if (b->task == current) {
			raw_spin_unlock_irqrestore(&modegate_bystanders_lock, flags);
			kfree(new);
			return -EBUSY;
		}
	}
	get_task_struct(current);
	list_add_tail(&new->node, &modegate_bystanders);
	raw_spin_unlock_irqrestore(&modegate_bystanders_lock, flags);
	return 0;
}

/* Unregister current (@all false) or every thread registered via @ctx. */
static int modegate_bystander_unregister(struct modegate_async_ctx *ctx, bool all)
{
	struct modegate_bystander_reg *b, *tmp;
	unsigned long flags;
	LIST_HEAD(gone);

	raw_spin_lock_irqsave(&modegate_bystanders_lock, flags);
	list_for_each_entry_safe(b, tmp, &modegate_bystanders, node)
		if (b->ctx == ctx && (all || b->task == current))
			list_move(&b->node, &gone);
	raw_spin_unlock_irqrestore(&modegate_bystanders_lock, flags);

	if (list_empty(&gone))
		return -ENOENT;
	list_for_each_entry_safe(b, tmp, &gone, node) {
		put_task_struct(b->task);
		kfree(b);
	}
	return 0;
}

/**
 * modegate_ioc_bystander() - MODEGATE_IOC_BYSTANDER
 * @file: the device file.
 * @arg: &struct modegate_bystander.
 *
 * Return: 0, -EINVAL, -EPERM (demo not allowed), -EBUSY (already
 * registered), -ENOENT (not registered through this file).
 */
int modegate_ioc_bystander(struct file *file, void *arg)
{
	struct modegate_async_ctx *ctx = modegate_ctx(file);
	struct modegate_bystander *b = arg;

	if ((b->flags & ~MODEGATE_BYSTANDER_REGISTER) || b->reserved)
		return -EINVAL;
	if (!modegate_allow_wrong_process_demo)
		return -EPERM;
	if (b->flags & MODEGATE_BYSTANDER_REGISTER)
		return modegate_bystander_register(ctx);
	return modegate_bystander_unregister(ctx, false);
}

/**
 * modegate_async_poll() - the async part of the device's poll
 * @file: the device file.
 * @wait: the poll table.
 *
 * EPOLLPRI while completions are ready for the caller.  Not EPOLLIN: the
 * store is always readable, and a poller waiting for EPOLLIN before a
 * read (io_uring arms exactly such a poll) must not wait for a completion.
 *
 * Return: EPOLLPRI or 0.
 */
__poll_t modegate_async_poll(struct file *file, struct poll_table_struct *wait)
{
	struct modegate_async_ctx *ctx = modegate_ctx(file);

	poll_wait(file, &ctx->wait, wait);
	return modegate_async_ready(ctx) ? EPOLLPRI : 0;
}

int modegate_async_open(struct modegate_file *mf)
{
	struct modegate_async_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	spin_lock_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->inflight);
	INIT_LIST_HEAD(&ctx->done);
	init_waitqueue_head(&ctx->wait);
	kref_init(&ctx->ref);
	spin_lock(&modegate_ctxs_lock);
	list_add(&ctx->all, &modegate_ctxs);
	spin_unlock(&modegate_ctxs_lock);
	mf->async = ctx;
	return 0;
}

/*
 * The file is going away: cancel what has not started delivering, free the
 * completion ring, and let deliveries in progress free themselves.
 */
void modegate_async_release(struct modegate_file *mf)
{
	struct modegate_async_ctx *ctx = mf->async;
	struct modegate_request *req, *tmp;
	LIST_HEAD(victims);
	LIST_HEAD(done);

	modegate_bystander_unregister(ctx, true);

	spin_lock(&ctx->lock);
	ctx->closing = true;
	modegate_async_claim_all(ctx, true, 0, &victims);
	list_splice_init(&ctx->done, &done);
	ctx->nr_done = 0;
	ctx->nr_for_originator = 0;
	spin_unlock(&ctx->lock);

	list_for_each_entry_safe(req, tmp, &victims, node) {
		modegate_async_quiesce(req);
		trace_modegate_async_complete(req->comp.user_data, -ECANCELED, true);
		modegate_async_count_done(true);
		list_del(&req->node);
		modegate_request_free(req);
	}
	list_for_each_entry_safe(req, tmp, &done, node) {
		list_del(&req->node);
		modegate_count_dec(async_pending);
		modegate_request_free(req);
	}
	kref_put(&ctx->ref, modegate_async_ctx_free);
}

int modegate_async_init(void)
{
	/*
	 * Unbound: the delivery must not wait for the CPU the interrupt hit,
	 * which may be monopolised by the very task it interrupted.
	 */
	modegate_wq = alloc_workqueue("modegate", WQ_UNBOUND, 0);
	return modegate_wq ? 0 : -ENOMEM;
}

void modegate_async_exit(void)
{
	/* Files are closed (.owner); this drains deliveries still running. */
	destroy_workqueue(modegate_wq);
	/* mmu_notifier_put() frees asynchronously, with our callbacks. */
	mmu_notifier_synchronize();
	if (atomic_read(&modegate_async_alive))
		pr_err("%d async requests leaked\n", atomic_read(&modegate_async_alive));
}
