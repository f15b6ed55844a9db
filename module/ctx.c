// SPDX-License-Identifier: GPL-2.0
/*
 * modegate objects: the per-file context, the requests, and the limits on
 * them.  Calls no other file of the module.
 *
 * A request counts against three limits at once, all reserved at submit
 * and given back when the request is freed (after its completion is
 * reaped, or when its file is released):
 *
 *   max_inflight         per open file
 *   max_inflight_user    per user, over all of that user's files
 *   max_inflight_global  in all
 *
 * The per-user limit is what keeps one user from holding the global budget
 * -- or the BUFFERED bytes, also counted per user -- and with it every
 * other user's requests, for as long as it never reaps.
 *
 * "The user" is the one who opened the file (the real uid of file->f_cred),
 * not whoever submits through it: a holder of the file that changes uid
 * (setuid into the subordinate uids of a user namespace) is charged to the
 * same budget, as io_uring charges its ring's creator.  The same user's
 * struct user_struct carries the pages PIN requests hold, against
 * RLIMIT_MEMLOCK (modegate_user_charge_pinned()).
 */
#include "modegate.h"

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/eventfd.h>
#include <linux/hashtable.h>
#include <linux/mmu_notifier.h>
#include <linux/overflow.h>
#include <linux/pid_namespace.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

/**
 * struct modegate_user - what one user holds
 * @node: in modegate_users, while anything is held.
 * @uid: the user charged: modegate_budget_uid() of the opener.
 * @pinned: pages PIN requests hold, against RLIMIT_MEMLOCK.
 * @requests: requests alive.
 * @buffered: bytes of BUFFERED kernel buffers.
 * @ref: references (one per open file, one per request, one per submit
 *	call in progress).
 */
struct modegate_user {
	struct hlist_node node;
	kuid_t uid;
	atomic_long_t pinned;
	unsigned int requests;
	size_t buffered;
	unsigned int ref;
};

static DEFINE_HASHTABLE(modegate_users, 6);
static DEFINE_SPINLOCK(modegate_users_lock);	/* the table and its entries */
static unsigned int modegate_alive;		/* under modegate_users_lock */

static struct kmem_cache *modegate_request_cache;

/* The budget of the user of @cred, with a reference; NULL without memory. */
static struct modegate_user *modegate_user_of(const struct cred *cred)
{
	kuid_t uid = modegate_budget_uid(cred);
	struct modegate_user *u, *new = NULL;

again:
	spin_lock(&modegate_users_lock);
	hash_for_each_possible(modegate_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			goto found;
	u = new;
	if (u) {
		u->uid = uid;
		hash_add(modegate_users, &u->node, __kuid_val(uid));
		new = NULL;
	}
found:
	if (u)
		u->ref++;
	spin_unlock(&modegate_users_lock);
	if (!u) {
		/* First reference of this user: allocate outside the lock, look again. */
		new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
		if (!new)
			return NULL;
		goto again;
	}
	kfree(new);
	return u;
}

/*
 * Under modegate_users_lock: drop a reference.  The unused entry leaves
 * the table; true if the caller must free it (modegate_user_free()).
 */
static bool modegate_user_put_locked(struct modegate_user *u)
{
	if (--u->ref)
		return false;
	WARN_ON_ONCE(u->requests || u->buffered || atomic_long_read(&u->pinned));
	hash_del(&u->node);
	return true;
}

static void modegate_user_free(struct modegate_user *u)
{
	kfree(u);
}

static void modegate_user_put(struct modegate_user *u)
{
	bool last;

	spin_lock(&modegate_users_lock);
	last = modegate_user_put_locked(u);
	spin_unlock(&modegate_users_lock);
	if (last)
		modegate_user_free(u);
}

/**
 * modegate_user_charge_pinned() - count pinned pages as locked memory
 * @u: the user the request is charged to.
 * @mm: the address space the pages belong to.
 * @nr: pages.
 *
 * As io_uring's registered buffers: @nr pages against what @u has pinned,
 * up to the caller's RLIMIT_MEMLOCK (a caller with CAP_IPC_LOCK is not
 * limited), and into @mm->pinned_vm (VmPin).  @u is the budget's owner --
 * for a caller in a user namespace, the user who created it -- so a user
 * cannot multiply its limit through subordinate uids, as it could through
 * their user_structs' locked_vm.  Atomic, never takes the mmap_lock:
 * modegate_user_uncharge_pinned() runs in the delivery worker, which must
 * not wait on it.
 *
 * Context: the submitter's.
 * Return: 1 if @u was charged, 0 if not (CAP_IPC_LOCK): pass it to the
 * uncharge; -ENOMEM beyond the limit.
 */
int modegate_user_charge_pinned(struct modegate_user *u, struct mm_struct *mm,
				unsigned long nr)
{
	unsigned long limit, cur, new;
	bool charge = !ns_capable_noaudit(&init_user_ns, CAP_IPC_LOCK);

	if (charge) {
		limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
		cur = atomic_long_read(&u->pinned);
		do {
			if (check_add_overflow(cur, nr, &new) || new > limit)
				return -ENOMEM;
		} while (!atomic_long_try_cmpxchg(&u->pinned, &cur, new));
	}
	atomic64_add(nr, &mm->pinned_vm);
	return charge;
}

/**
 * modegate_user_uncharge_pinned() - undo modegate_user_charge_pinned()
 * @u: the user charged.
 * @mm: the address space charged.
 * @nr: pages.
 * @charged: what the charge returned.
 *
 * Context: any; never sleeps.
 */
void modegate_user_uncharge_pinned(struct modegate_user *u, struct mm_struct *mm,
				   unsigned long nr, bool charged)
{
	if (charged)
		atomic_long_sub(nr, &u->pinned);
	atomic64_sub(nr, &mm->pinned_vm);
}

/* BUFFERED bytes: at most MODEGATE_ASYNC_MAX_BUFFERED per user. */
int modegate_user_charge_buffered(struct modegate_user *u, size_t bytes)
{
	int ret = 0;

	spin_lock(&modegate_users_lock);
	if (bytes > MODEGATE_ASYNC_MAX_BUFFERED - u->buffered)
		ret = -EAGAIN;
	else
		u->buffered += bytes;
	spin_unlock(&modegate_users_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_user_charge_buffered);

void modegate_user_uncharge_buffered(struct modegate_user *u, size_t bytes)
{
	spin_lock(&modegate_users_lock);
	u->buffered -= bytes;
	spin_unlock(&modegate_users_lock);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_user_uncharge_buffered);

/* Reserve a request against the three limits: 0 or -EAGAIN. */
VISIBLE_IF_KUNIT int modegate_reserve(struct modegate_ctx *ctx, struct modegate_user *u)
{
	int ret = -EAGAIN;

	spin_lock(&modegate_users_lock);
	if (u->requests >= READ_ONCE(modegate_max_inflight_user) ||
	    modegate_alive >= READ_ONCE(modegate_max_inflight_global))
		goto out;
	spin_lock(&ctx->lock);
	if (ctx->nr_alive < READ_ONCE(modegate_max_inflight)) {
		ctx->nr_alive++;
		u->requests++;
		u->ref++;
		modegate_alive++;
		ret = 0;
	}
	spin_unlock(&ctx->lock);
out:
	spin_unlock(&modegate_users_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_reserve);

VISIBLE_IF_KUNIT void modegate_unreserve(struct modegate_ctx *ctx, struct modegate_user *u)
{
	bool last;

	spin_lock(&modegate_users_lock);
	spin_lock(&ctx->lock);
	ctx->nr_alive--;
	spin_unlock(&ctx->lock);
	u->requests--;
	modegate_alive--;
	last = modegate_user_put_locked(u);
	spin_unlock(&modegate_users_lock);
	if (last)
		modegate_user_free(u);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_unreserve);

/**
 * modegate_request_alloc() - a zeroed request, reserved against the limits
 * @ctx: the file; the request takes a reference on it, and on its
 *	opener's budget, which the request is charged to.
 *
 * Captures the submitter's mm (mmgrab: the mm, not the task, so an exec
 * cannot redirect the write), pid namespace and process.
 *
 * Return: the request, or an ERR_PTR: -EAGAIN over a limit, -ENOMEM.
 */
struct modegate_request *modegate_request_alloc(struct modegate_ctx *ctx)
{
	struct modegate_request *req;
	int ret;

	ret = modegate_reserve(ctx, ctx->user);
	if (ret)
		return ERR_PTR(ret);
	req = kmem_cache_zalloc(modegate_request_cache, GFP_KERNEL_ACCOUNT);
	if (!req) {
		modegate_unreserve(ctx, ctx->user);
		return ERR_PTR(-ENOMEM);
	}
	kref_get(&ctx->ref);
	req->ctx = ctx;
	req->user = ctx->user;
	req->mm = current->mm;
	mmgrab(req->mm);
	modegate_count(mm_refs);
	req->ns = get_pid_ns(task_active_pid_ns(current));
	req->origin = get_task_pid(current, PIDTYPE_TGID);
	return req;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_request_alloc);

/**
 * modegate_request_release() - give back what the strategy holds, once
 * @req: the request.
 *
 * Context: process context.
 */
void modegate_request_release(struct modegate_request *req)
{
	if (!req->strat || !req->strat->release || (req->flags & MODEGATE_REQF_RELEASED))
		return;
	req->flags |= MODEGATE_REQF_RELEASED;
	req->strat->release(req);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_request_release);

/**
 * modegate_request_free() - free a request nobody else can reach any more
 * @req: the request.
 *
 * Context: process context.
 */
void modegate_request_free(struct modegate_request *req)
{
	struct modegate_ctx *ctx = req->ctx;

	modegate_request_release(req);
	put_pid(req->origin);
	put_pid_ns(req->ns);
	mmdrop(req->mm);
	modegate_count_dec(mm_refs);
	modegate_unreserve(ctx, req->user);
	kmem_cache_free(modegate_request_cache, req);
	modegate_ctx_put(ctx);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_request_free);

/**
 * modegate_ctx_alloc() - the state of a new open file
 * @cred: the credentials that open it (file->f_cred): its budget's user.
 *
 * Return: the ctx with one reference (the file's), or NULL.
 */
struct modegate_ctx *modegate_ctx_alloc(const struct cred *cred)
{
	struct modegate_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;
	ctx->lines = kcalloc(nr_cpu_ids, sizeof(*ctx->lines), GFP_KERNEL_ACCOUNT);
	if (!ctx->lines)
		goto err_free_ctx;
	ctx->user = modegate_user_of(cred);
	if (!ctx->user)
		goto err_free_lines;
	get_random_bytes(&ctx->page_id_key, sizeof(ctx->page_id_key));
	spin_lock_init(&ctx->lock);
	mutex_init(&ctx->eventfd_lock);
	INIT_LIST_HEAD(&ctx->done);
	ctx->wake_at = UINT_MAX;
	init_waitqueue_head(&ctx->wait);
	init_waitqueue_head(&ctx->poll_wait);
	init_llist_head(&ctx->deliver);
	kref_init(&ctx->ref);
	return ctx;

err_free_lines:
	kfree(ctx->lines);
err_free_ctx:
	kfree(ctx);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ctx_alloc);

static void modegate_ctx_free(struct kref *ref)
{
	struct modegate_ctx *ctx = container_of(ref, struct modegate_ctx, ref);
	unsigned int cpu;

	if (ctx->eventfd)
		eventfd_ctx_put(ctx->eventfd);
	modegate_user_put(ctx->user);
	/* Their timers were cancelled when the file was released. */
	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		kfree(ctx->lines[cpu]);
	kfree(ctx->lines);
	kfree(ctx);
}

void modegate_ctx_put(struct modegate_ctx *ctx)
{
	kref_put(&ctx->ref, modegate_ctx_free);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ctx_put);

int modegate_ctx_init(void)
{
	BUILD_BUG_ON(sizeof(struct modegate_request) > 256);
	modegate_request_cache = KMEM_CACHE(modegate_request, SLAB_ACCOUNT);
	return modegate_request_cache ? 0 : -ENOMEM;
}

void modegate_ctx_exit(void)
{
	/* mmu_notifier_put() frees asynchronously, with our callbacks. */
	mmu_notifier_synchronize();
	if (modegate_alive)
		pr_err("%u async requests leaked\n", modegate_alive);
	kmem_cache_destroy(modegate_request_cache);
}
