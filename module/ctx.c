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
 *   max_inflight_user    per user (real uid), over all of that user's files
 *   max_inflight_global  in all
 *
 * The per-user limit is what keeps one user from holding the global budget
 * -- or the BUFFERED bytes, also counted per user -- and with it every
 * other user's requests, for as long as it never reaps.
 */
#include "modegate.h"

#include <linux/cred.h>
#include <linux/eventfd.h>
#include <linux/hashtable.h>
#include <linux/mmu_notifier.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

/**
 * struct modegate_user - what one user holds
 * @node: in modegate_users, while anything is held.
 * @uid: the real uid.
 * @requests: requests alive.
 * @buffered: bytes of BUFFERED kernel buffers.
 * @ref: references (one per request, one per submit call in progress).
 */
struct modegate_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int requests;
	size_t buffered;
	unsigned int ref;
};

static DEFINE_HASHTABLE(modegate_users, 6);
static DEFINE_SPINLOCK(modegate_users_lock);	/* the table and its entries */
static unsigned int modegate_alive;		/* under modegate_users_lock */

static struct kmem_cache *modegate_request_cache;

/* Every ctx, for modegate_ctx_wake_all(). */
static LIST_HEAD(modegate_ctxs);
static DEFINE_SPINLOCK(modegate_ctxs_lock);

/**
 * modegate_user_get() - the calling user's budget, with a reference
 *
 * Return: the entry, or NULL without memory.
 */
struct modegate_user *modegate_user_get(void)
{
	kuid_t uid = current_uid();
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
		/* First request of this user: allocate outside the lock, look again. */
		new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
		if (new)
			goto again;
	}
	kfree(new);
	return u;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_user_get);

/* Under modegate_users_lock: drop a reference, free the unused entry. */
static void modegate_user_put_locked(struct modegate_user *u)
{
	if (--u->ref)
		return;
	WARN_ON_ONCE(u->requests || u->buffered);
	hash_del(&u->node);
	kfree(u);
}

void modegate_user_put(struct modegate_user *u)
{
	spin_lock(&modegate_users_lock);
	modegate_user_put_locked(u);
	spin_unlock(&modegate_users_lock);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_user_put);

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
	spin_lock(&modegate_users_lock);
	spin_lock(&ctx->lock);
	ctx->nr_alive--;
	spin_unlock(&ctx->lock);
	u->requests--;
	modegate_alive--;
	modegate_user_put_locked(u);
	spin_unlock(&modegate_users_lock);
}
EXPORT_SYMBOL_IF_KUNIT(modegate_unreserve);

/**
 * modegate_request_alloc() - a zeroed request, reserved against the limits
 * @ctx: the file; the request takes a reference on it.
 * @user: the submitter's budget; the request takes a reference on it.
 *
 * Captures the submitter's mm (mmgrab: the mm, not the task, so an exec
 * cannot redirect the write), pid namespace and process.
 *
 * Return: the request, or an ERR_PTR: -EAGAIN over a limit, -ENOMEM.
 */
struct modegate_request *modegate_request_alloc(struct modegate_ctx *ctx,
						struct modegate_user *user)
{
	struct modegate_request *req;
	int ret;

	ret = modegate_reserve(ctx, user);
	if (ret)
		return ERR_PTR(ret);
	req = kmem_cache_zalloc(modegate_request_cache, GFP_KERNEL_ACCOUNT);
	if (!req) {
		modegate_unreserve(ctx, user);
		return ERR_PTR(-ENOMEM);
	}
	kref_get(&ctx->ref);
	req->ctx = ctx;
	req->user = user;
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
 * @file: the file being opened.
 *
 * Return: the ctx with one reference (the file's), or NULL.
 */
struct modegate_ctx *modegate_ctx_alloc(struct file *file)
{
	struct modegate_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;
	ctx->lines = kcalloc(nr_cpu_ids, sizeof(*ctx->lines), GFP_KERNEL_ACCOUNT);
	if (!ctx->lines) {
		kfree(ctx);
		return NULL;
	}
	spin_lock_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->done);
	ctx->wake_at = UINT_MAX;
	init_waitqueue_head(&ctx->wait);
	init_waitqueue_head(&ctx->poll_wait);
	init_llist_head(&ctx->deliver);
	kref_init(&ctx->ref);
	spin_lock(&modegate_ctxs_lock);
	list_add(&ctx->all, &modegate_ctxs);
	spin_unlock(&modegate_ctxs_lock);
	return ctx;
}
EXPORT_SYMBOL_IF_KUNIT(modegate_ctx_alloc);

static void modegate_ctx_free(struct kref *ref)
{
	struct modegate_ctx *ctx = container_of(ref, struct modegate_ctx, ref);
	unsigned int cpu;

	spin_lock(&modegate_ctxs_lock);
	list_del(&ctx->all);
	spin_unlock(&modegate_ctxs_lock);
	if (ctx->eventfd)
		eventfd_ctx_put(ctx->eventfd);
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

/*
 * Wake every ASYNC_WAIT and poll sleeper of every file: an event no
 * completion announces happened (an originator's address space exited).
 */
void modegate_ctx_wake_all(void)
{
	struct modegate_ctx *ctx;

	spin_lock(&modegate_ctxs_lock);
	list_for_each_entry(ctx, &modegate_ctxs, all) {
		wake_up_all(&ctx->wait);
		wake_up_all(&ctx->poll_wait);
	}
	spin_unlock(&modegate_ctxs_lock);
}

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
