// SPDX-License-Identifier: GPL-2.0
/*
 * modegate completion ring: post, reap, wait, poll readiness, eventfd.
 *
 * Completions wait on ctx->done, in the order they were posted, until a
 * reaper copies them out.  One post (a whole delivered run, or a cancel)
 * takes ctx->lock once, signals the eventfd once per completion (after
 * the lock, under ctx->eventfd_lock), wakes the
 * poll sleepers, and wakes the ASYNC_WAIT sleepers only once the smallest
 * min_complete among them (ctx->wake_at) is reached -- not once per event.
 *
 * What the reaper sees
 * --------------------
 * A BUFFERED completion is left for the originator: its copy happens at
 * reap, in the originator's own address space, and a task of another
 * address space neither sees nor counts it -- until the originating address
 * space exits, when anyone may reap it (-ESRCH).  An mmu notifier's
 * ->release tells when that happens, and wakes the sleepers of the files
 * that hold requests of that address space (the notifier keeps their
 * list), and of no other file, so that they look again.
 *
 * Waking at a count
 * -----------------
 * A sleeper that cannot see every completion on the ring arms ctx->wake_at
 * above the completions already there (it wakes at the next post).  A reap
 * that takes completions off the ring lowers ctx->wake_at by as many: the
 * threshold stays counted from what is on the ring, and a sleeper whose
 * invisible completions another process reaped is still woken by its own.
 *
 * Timeouts
 * --------
 * ASYNC_WAIT's timeout is a deadline taken when the call begins.  A signal
 * that interrupts the wait writes the time left back into the caller's
 * struct (as select() does), so that the restarted call -- or the caller's
 * own retry after -EINTR -- ends at the same deadline.
 *
 * The pids a completion carries are translated into the reaper's pid
 * namespace when it is reaped: origin_tgid from the submitter's struct pid,
 * deliver_pid from the global pid the delivery recorded (a kworker is
 * never visible from a child namespace).  The interrupted task's pid and
 * comm were recorded in the submitter's namespace at interrupt time
 * (async.c).
 */
#include "modegate.h"

#include <linux/eventfd.h>
#include <linux/mmu_notifier.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "trace.h"

/**
 * struct modegate_mm_watch - an address space that BUFFERED requests wait on
 * @mn: its notifier, one per mm (mmu_notifier_get()), a reference per
 *	request.
 * @lock: protects @files.
 * @files: the files that hold requests of the mm, as &struct
 *	modegate_mm_file: the ones its exit wakes.
 */
struct modegate_mm_watch {
	struct mmu_notifier mn;
	spinlock_t lock;	/* see above */
	struct list_head files;
};

/**
 * struct modegate_mm_file - one file that holds requests of a watched mm
 * @node: on &modegate_mm_watch.files.
 * @ctx: the file (its requests hold references on it).
 * @nr: requests of the mm in @ctx.
 */
struct modegate_mm_file {
	struct list_head node;
	struct modegate_ctx *ctx;
	unsigned int nr;
};

static struct modegate_mm_watch *modegate_mm_watch(struct mmu_notifier *mn)
{
	return container_of(mn, struct modegate_mm_watch, mn);
}

/* The address space exits: wake the files that hold its requests. */
static void modegate_mm_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct modegate_mm_watch *w = modegate_mm_watch(mn);
	struct modegate_mm_file *f;

	spin_lock(&w->lock);
	list_for_each_entry(f, &w->files, node) {
		wake_up_all(&f->ctx->wait);
		wake_up_all(&f->ctx->poll_wait);
	}
	spin_unlock(&w->lock);
}

static struct mmu_notifier *modegate_mm_alloc_notifier(struct mm_struct *mm)
{
	struct modegate_mm_watch *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&w->lock);
	INIT_LIST_HEAD(&w->files);
	return &w->mn;
}

static void modegate_mm_free_notifier(struct mmu_notifier *mn)
{
	kfree(modegate_mm_watch(mn));
}

static const struct mmu_notifier_ops modegate_mm_ops = {
	.release = modegate_mm_release,
	.alloc_notifier = modegate_mm_alloc_notifier,
	.free_notifier = modegate_mm_free_notifier,
};

/**
 * modegate_ring_watch_mm() - learn when the request's mm exits
 * @req: a request whose completion waits for its originator.
 *
 * One notifier per mm (mmu_notifier_get), shared by its requests, which
 * knows the files that hold them; the strategy's ->release undoes this
 * with modegate_ring_unwatch_mm().
 *
 * Context: the submitter's.
 * Return: 0, -EINTR, -ENOMEM.
 */
int modegate_ring_watch_mm(struct modegate_request *req)
{
	struct modegate_mm_file *f, *new;
	struct modegate_mm_watch *w;
	struct mmu_notifier *mn;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	if (mmap_write_lock_killable(req->mm)) {
		kfree(new);
		return -EINTR;
	}
	mn = mmu_notifier_get_locked(&modegate_mm_ops, req->mm);
	mmap_write_unlock(req->mm);
	if (IS_ERR(mn)) {
		kfree(new);
		return PTR_ERR(mn);
	}
	w = modegate_mm_watch(mn);
	spin_lock(&w->lock);
	list_for_each_entry(f, &w->files, node)
		if (f->ctx == req->ctx)
			goto found;
	f = new;
	new = NULL;
	f->ctx = req->ctx;
	list_add(&f->node, &w->files);
found:
	f->nr++;
	spin_unlock(&w->lock);
	kfree(new);
	req->kbuf.mn = mn;
	return 0;
}

/**
 * modegate_ring_unwatch_mm() - undo modegate_ring_watch_mm()
 * @req: the request.
 *
 * Context: process context.
 */
void modegate_ring_unwatch_mm(struct modegate_request *req)
{
	struct modegate_mm_watch *w = modegate_mm_watch(req->kbuf.mn);
	struct modegate_mm_file *f, *gone = NULL;

	spin_lock(&w->lock);
	list_for_each_entry(f, &w->files, node) {
		if (f->ctx != req->ctx)
			continue;
		if (!--f->nr) {
			list_del(&f->node);
			gone = f;
		}
		break;
	}
	spin_unlock(&w->lock);
	kfree(gone);
	mmu_notifier_put(req->kbuf.mn);
}

/* May @req be reaped by the current task? */
static bool modegate_ring_visible(const struct modegate_request *req)
{
	if (!req->for_originator)
		return true;
	return req->mm == current->mm || !atomic_read(&req->mm->mm_users);
}

/* Completions on ctx->done the current task may reap.  ctx->lock held. */
static unsigned int modegate_ring_ready_locked(struct modegate_ctx *ctx)
{
	struct modegate_request *req;
	unsigned int n = ctx->nr_done;

	if (ctx->nr_for_originator) {
		n = 0;
		list_for_each_entry(req, &ctx->done, node)
			n += modegate_ring_visible(req);
	}
	return n;
}

VISIBLE_IF_KUNIT unsigned int modegate_ring_ready(struct modegate_ctx *ctx)
{
	unsigned int n;

	spin_lock(&ctx->lock);
	n = modegate_ring_ready_locked(ctx);
	spin_unlock(&ctx->lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ring_ready);

/*
 * Completions were added to ctx->done: is a waiter's min_complete reached?
 * (It is then disarmed until a waiter arms it again.)  ctx->lock held.
 */
static bool modegate_ring_wake_due_locked(struct modegate_ctx *ctx)
{
	bool due = ctx->nr_done >= ctx->wake_at;

	if (due)
		ctx->wake_at = UINT_MAX;
	return due;
}

/* After the lock: wake the waiters if @due, and any poller. */
static void modegate_ring_wake(struct modegate_ctx *ctx, bool due)
{
	if (due)
		wake_up_all(&ctx->wait);
	if (wq_has_sleeper(&ctx->poll_wait))
		wake_up_poll(&ctx->poll_wait, EPOLLPRI);
}

/**
 * modegate_ring_post() - post completions to the ring
 * @ctx: the file.
 * @reqs: @nr requests, linked by ->node, delivered or cancelled.
 * @nr: how many.
 *
 * After this the requests belong to the ring: the caller must not touch
 * them.  When the file is being released they are freed instead.
 *
 * Context: process context.
 */
void modegate_ring_post(struct modegate_ctx *ctx, struct list_head *reqs,
			unsigned int nr)
{
	struct modegate_request *req, *tmp;
	unsigned int for_originator = 0;
	bool wake;

	list_for_each_entry(req, reqs, node) {
		for_originator += req->for_originator;
		if (atomic_read(&req->state) != MODEGATE_REQ_CANCELLED)
			atomic_set(&req->state, MODEGATE_REQ_COMPLETED);
	}

	spin_lock(&ctx->lock);
	if (ctx->closing) {
		spin_unlock(&ctx->lock);
		list_for_each_entry_safe(req, tmp, reqs, node) {
			list_del(&req->node);
			modegate_request_free(req);
		}
		return;
	}
	list_splice_tail_init(reqs, &ctx->done);
	ctx->nr_done += nr;
	ctx->nr_for_originator += for_originator;
	modegate_count_add(async_pending, nr);
	wake = modegate_ring_wake_due_locked(ctx);
	spin_unlock(&ctx->lock);
	/*
	 * Outside the ring's spinlock (a signal wakes every waiter of the
	 * eventfd, as many as its holder registered, and from 6.8 on it is
	 * one call per completion), but before the sleepers are woken: a
	 * waiter that reaps, then reads the eventfd, finds them counted.
	 */
	mutex_lock(&ctx->eventfd_lock);
	if (ctx->eventfd)
		modegate_eventfd_signal(ctx->eventfd, nr);
	mutex_unlock(&ctx->eventfd_lock);
	modegate_ring_wake(ctx, wake);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ring_post);

/*
 * Finish the completions of @batch left for the originator, in the
 * reaper's context (BUFFERED: the copy to the user buffer happens here).
 * One clock read stamps them all once every copy is done, as the kworker
 * stamps a run it delivers (under TCG each read may be an emulated HPET
 * access).  A finished completion stays @for_originator until it is
 * handed out: one that goes back to the ring (the completion array
 * faulted) is still the originator's alone, and is not copied again.
 */
static void modegate_ring_finish(struct list_head *batch)
{
	struct modegate_request *req;
	bool stamp = false;
	u64 now;

	list_for_each_entry(req, batch, node) {
		if (!req->for_originator || req->reap_done)
			continue;
		req->comp.result = req->strat->reap(req);
		req->reap_done = true;
		trace_modegate_async_deliver(req->comp.user_data,
					     req->comp.strategy,
					     req->comp.delivered_by,
					     req->comp.result);
		modegate_trace_crossing("async_reap_deliver", req->offset,
					req->len, req->comp.result);
		stamp |= req->comp.delivered_by && !req->comp.t_deliver_ns;
	}
	if (!stamp)
		return;
	now = ktime_get_ns();
	list_for_each_entry(req, batch, node) {
		if (req->for_originator && req->comp.delivered_by &&
		    !req->comp.t_deliver_ns)
			req->comp.t_deliver_ns = now;
	}
}

/* The completion as the reaper sees it: pids in the reaper's namespace. */
static void modegate_ring_view(const struct modegate_request *req,
			       struct modegate_async_completion *c)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct pid *pid;

	*c = req->comp;
	c->origin_tgid = pid_nr_ns(req->origin, ns);
	if (!c->deliver_pid || ns == &init_pid_ns)
		return;
	/* Usually the reaper made the copy itself (BUFFERED): no lookup. */
	if (c->deliver_pid == task_pid_nr(current)) {
		c->deliver_pid = task_pid_nr_ns(current, ns);
		return;
	}
	rcu_read_lock();
	pid = find_pid_ns(c->deliver_pid, &init_pid_ns);
	c->deliver_pid = pid ? pid_nr_ns(pid, ns) : 0;
	rcu_read_unlock();
}

static int modegate_ring_copy_out(u8 __user *dst, u32 size,
				  const struct modegate_request *req)
{
	struct modegate_async_completion c;

	modegate_ring_view(req, &c);
	if (copy_to_user(dst, &c, sizeof(c)))
		return -EFAULT;
	if (size > sizeof(c) && clear_user(dst + sizeof(c), size - sizeof(c)))
		return -EFAULT;
	return 0;
}

/* Take up to @nr completions the caller may see off the ring, onto @batch. */
VISIBLE_IF_KUNIT unsigned int modegate_ring_take(struct modegate_ctx *ctx, unsigned int nr,
						 struct list_head *batch)
{
	struct modegate_request *req, *tmp;
	unsigned int taken = 0;

	spin_lock(&ctx->lock);
	list_for_each_entry_safe(req, tmp, &ctx->done, node) {
		if (taken == nr)
			break;
		if (!modegate_ring_visible(req))
			continue;
		list_move_tail(&req->node, batch);
		ctx->nr_done--;
		ctx->nr_for_originator -= req->for_originator;
		taken++;
	}
	/* Keep the sleepers' threshold counted from what is left (top). */
	if (ctx->wake_at != UINT_MAX)
		ctx->wake_at -= min(taken, ctx->wake_at - 1);
	spin_unlock(&ctx->lock);
	return taken;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ring_take);

/*
 * Put what could not be copied out back at the head of the ring, and wake
 * whoever began waiting while the batch was out: to it, these are new.
 */
VISIBLE_IF_KUNIT void modegate_ring_untake(struct modegate_ctx *ctx, struct list_head *batch)
{
	struct modegate_request *req;
	bool wake;

	spin_lock(&ctx->lock);
	list_for_each_entry(req, batch, node) {
		ctx->nr_done++;
		ctx->nr_for_originator += req->for_originator;
	}
	list_splice(batch, &ctx->done);
	wake = modegate_ring_wake_due_locked(ctx);
	spin_unlock(&ctx->lock);
	modegate_ring_wake(ctx, wake);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ring_untake);

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
 * Return: completions reaped; -EFAULT if none could be copied out; -E2BIG
 * for elements larger than a page.
 */
int modegate_ioc_async_reap(struct file *file, void *arg)
{
	struct modegate_ctx *ctx = modegate_file_ctx(file);
	struct modegate_async_reap *r = arg;
	u8 __user *ucomps = u64_to_user_ptr(r->comps);
	struct modegate_request *req, *tmp;
	unsigned int taken, reaped = 0;
	LIST_HEAD(batch);
	int ret;

	if (r->flags)
		return -EINVAL;
	ret = modegate_check_user_array(ucomps, r->nr, r->comp_size,
					sizeof(struct modegate_async_completion));
	if (ret)
		return ret;

	taken = modegate_ring_take(ctx, r->nr, &batch);
	modegate_ring_finish(&batch);
	list_for_each_entry_safe(req, tmp, &batch, node) {
		if (modegate_ring_copy_out(ucomps + (size_t)reaped * r->comp_size,
					   r->comp_size, req))
			break;
		list_del(&req->node);
		modegate_count_dec(async_pending);
		modegate_request_free(req);
		reaped++;
	}
	if (!list_empty(&batch))
		modegate_ring_untake(ctx, &batch);
	r->reaped = reaped;
	if (!reaped && taken)
		return -EFAULT;
	return reaped;
}

/*
 * The ASYNC_WAIT condition: @min completions ready for the caller.  If not,
 * register @min so that the poster wakes the sleepers once it is reached.
 */
VISIBLE_IF_KUNIT bool modegate_ring_wait_done(struct modegate_ctx *ctx, u32 min)
{
	bool done;

	spin_lock(&ctx->lock);
	done = modegate_ring_ready_locked(ctx) >= min;
	if (!done)
		ctx->wake_at = min(ctx->wake_at, max(min, ctx->nr_done + 1));
	spin_unlock(&ctx->lock);
	return done;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ring_wait_done);

/**
 * modegate_ioc_async_wait() - MODEGATE_IOC_ASYNC_WAIT
 * @file: the device file.
 * @arg: &struct modegate_async_wait.
 *
 * Return: 0 once @min_complete completions are ready for the caller,
 * -ETIMEDOUT, or -EINTR when a signal handler ran (a wake-up with no
 * handler to run restarts the wait).  Interrupted, the wait leaves the
 * time left to its deadline in @timeout_ns (ioctl.c copies the struct
 * out for -ERESTARTNOHAND).
 */
int modegate_ioc_async_wait(struct file *file, void *arg)
{
	struct modegate_ctx *ctx = modegate_file_ctx(file);
	struct modegate_async_wait *w = arg;
	u32 min = w->min_complete;
	bool timed = w->timeout_ns && w->timeout_ns <= KTIME_MAX;
	ktime_t deadline = 0;
	s64 left;
	long ret = 0;

	if (w->flags || w->reserved)
		return -EINVAL;
	if (min > READ_ONCE(modegate_max_inflight))
		return -EINVAL;

	if (timed)
		deadline = ktime_add_safe(ktime_get(), ns_to_ktime(w->timeout_ns));
	if (!min)
		ret = 0;
	else if (!timed)
		ret = wait_event_interruptible(ctx->wait,
					       modegate_ring_wait_done(ctx, min));
	else
		ret = wait_event_interruptible_hrtimeout(ctx->wait,
							 modegate_ring_wait_done(ctx, min),
							 ns_to_ktime(w->timeout_ns));
	if (ret == -ETIME)
		return -ETIMEDOUT;
	/*
	 * Woken by a signal: -EINTR if a handler ran; restarted at once when
	 * none did (task work such as io_uring's sets signal_pending() too).
	 * Either way the call that follows gets the time left, not the
	 * whole timeout again; none left is the timeout.
	 */
	if (ret) {
		if (!timed)
			return -ERESTARTNOHAND;
		left = ktime_to_ns(ktime_sub(deadline, ktime_get()));
		if (left <= 0)
			return -ETIMEDOUT;
		w->timeout_ns = left;
		return -ERESTARTNOHAND;
	}
	w->ready = modegate_ring_ready(ctx);
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
	struct modegate_ctx *ctx = modegate_file_ctx(file);
	struct modegate_async_eventfd *e = arg;
	struct eventfd_ctx *new = NULL, *old;

	if (e->flags)
		return -EINVAL;
	if (e->fd != -1) {
		new = eventfd_ctx_fdget(e->fd);
		if (IS_ERR(new))
			return PTR_ERR(new);
	}
	mutex_lock(&ctx->eventfd_lock);
	old = ctx->eventfd;
	ctx->eventfd = new;
	mutex_unlock(&ctx->eventfd_lock);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

/**
 * modegate_ring_poll() - the async part of the device's poll
 * @file: the device file.
 * @wait: the poll table.
 *
 * EPOLLPRI while completions are ready for the caller.  Not EPOLLIN: the
 * store is always readable, and a poller waiting for EPOLLIN before a
 * read (io_uring arms exactly such a poll) must not wait for a completion.
 *
 * Return: EPOLLPRI or 0.
 */
__poll_t modegate_ring_poll(struct file *file, struct poll_table_struct *wait)
{
	struct modegate_ctx *ctx = modegate_file_ctx(file);

	poll_wait(file, &ctx->poll_wait, wait);
	return modegate_ring_ready(ctx) ? EPOLLPRI : 0;
}

/* The file is going away: free the completions nobody reaped. */
void modegate_ring_release(struct modegate_ctx *ctx)
{
	struct modegate_request *req, *tmp;
	LIST_HEAD(done);

	spin_lock(&ctx->lock);
	list_splice_init(&ctx->done, &done);
	ctx->nr_done = 0;
	ctx->nr_for_originator = 0;
	spin_unlock(&ctx->lock);

	list_for_each_entry_safe(req, tmp, &done, node) {
		list_del(&req->node);
		modegate_count_dec(async_pending);
		modegate_request_free(req);
	}
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ring_release);
