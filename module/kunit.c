// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites of modegate's internals: what user space cannot reach
 * deterministically.  Built as modegate_kunit.ko, only against a kernel
 * with CONFIG_KUNIT (the debug kernel of scripts/debug/); the functions it
 * calls are exported to it with EXPORT_SYMBOL_IF_KUNIT.  The suites run
 * when the module is loaded; their KTAP is in
 * /sys/kernel/debug/kunit/<suite>/results.
 *
 *   modegate_user_array  modegate_check_user_array(): count and element size
 *   modegate_limits      the per-file, per-user and global reservations, the
 *                        BUFFERED bytes, the release of a request
 *   modegate_ring        the completion ring's accounting: visible and
 *                        invisible completions, take and put back, the
 *                        ASYNC_WAIT threshold, a closing file, release
 *
 * The cases run in a kthread: those that allocate requests (which capture
 * the submitter's mm) borrow the address space of the task that loaded the
 * module, with kthread_use_mm().  They change the max_inflight parameters
 * and put them back, so nothing else may use the device meanwhile
 * (check-debug loads this module alone).
 */
#include "modegate.h"

#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/timerqueue.h>

/* The mm of the task that loaded the module (suite_init runs in it). */
static struct mm_struct *modegate_test_mm;

struct modegate_test {
	struct modegate_ctx *ctx;
	struct modegate_user *user;
	unsigned int max_inflight;
	unsigned int max_inflight_user;
	unsigned int max_inflight_global;
	bool use_mm;
	unsigned int released;	/* calls of modegate_test_strat.release */
	/* Reservations a case holds, given back by the exit if it failed. */
	struct modegate_ctx *held[8];
	unsigned int nr_held;
};

static struct modegate_test *modegate_test_cur;

static void modegate_test_release(struct modegate_request *req)
{
	modegate_test_cur->released++;
}

static const struct modegate_strategy modegate_test_strat = {
	.name = "kunit",
	.release = modegate_test_release,
};

static int modegate_test_suite_init(struct kunit_suite *suite)
{
	modegate_test_mm = get_task_mm(current);
	return modegate_test_mm ? 0 : -ESRCH;
}

static void modegate_test_suite_exit(struct kunit_suite *suite)
{
	if (modegate_test_mm)
		mmput(modegate_test_mm);
	modegate_test_mm = NULL;
}

/* modegate_reserve(), remembered so that a failed case leaks nothing. */
static int modegate_test_reserve(struct kunit *test, struct modegate_ctx *ctx)
{
	struct modegate_test *t = test->priv;
	int ret = -ENOSPC;

	if (t->nr_held < ARRAY_SIZE(t->held))
		ret = modegate_reserve(ctx, t->user);
	if (!ret)
		t->held[t->nr_held++] = ctx;
	return ret;
}

/* Give back the latest reservation held on @ctx. */
static void modegate_test_unreserve(struct kunit *test, struct modegate_ctx *ctx)
{
	struct modegate_test *t = test->priv;
	unsigned int i = t->nr_held;

	while (i-- > 0) {
		if (t->held[i] != ctx)
			continue;
		modegate_unreserve(ctx, t->user);
		t->held[i] = t->held[--t->nr_held];
		return;
	}
	KUNIT_FAIL(test, "no reservation held on this file");
}

/* Give back what is held on a second file of a case, and close it. */
static void modegate_test_put_file(struct kunit *test, struct modegate_ctx *ctx)
{
	struct modegate_test *t = test->priv;
	unsigned int i = t->nr_held;

	while (i-- > 0)
		if (t->held[i] == ctx)
			modegate_test_unreserve(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->nr_alive, 0U);
	modegate_ctx_put(ctx);
}

static int modegate_test_init(struct kunit *test)
{
	struct modegate_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->ctx = modegate_ctx_alloc(current_cred());
	if (!t->ctx)
		return -ENOMEM;
	t->user = t->ctx->user;	/* the opener's budget */
	t->max_inflight = READ_ONCE(modegate_max_inflight);
	t->max_inflight_user = READ_ONCE(modegate_max_inflight_user);
	t->max_inflight_global = READ_ONCE(modegate_max_inflight_global);
	kthread_use_mm(modegate_test_mm);
	t->use_mm = true;
	modegate_test_cur = t;
	test->priv = t;
	return 0;
}

static void modegate_test_exit(struct kunit *test)
{
	struct modegate_test *t = test->priv;

	if (!t)
		return;
	/* What a failed case still holds goes back; so does the ring. */
	while (t->nr_held)
		modegate_test_unreserve(test, t->held[t->nr_held - 1]);
	modegate_ring_release(t->ctx);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 0U);
	modegate_ctx_put(t->ctx);
	WRITE_ONCE(modegate_max_inflight, t->max_inflight);
	WRITE_ONCE(modegate_max_inflight_user, t->max_inflight_user);
	WRITE_ONCE(modegate_max_inflight_global, t->max_inflight_global);
	/* Not when a failed assertion ended the case's thread. */
	if (t->use_mm && (current->flags & PF_KTHREAD) && current->mm == modegate_test_mm)
		kthread_unuse_mm(modegate_test_mm);
	modegate_test_cur = NULL;
}

/* ------------------------------------------------------------------ */
/* modegate_check_user_array()                                          */

#define MODEGATE_TEST_UBASE	((const void __user *)0x10000)

static void modegate_test_array_count(struct kunit *test)
{
	const size_t min = sizeof(struct modegate_async_completion);

	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 0, min, min), -EINVAL);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 1, min, min), 0);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE,
							MODEGATE_ASYNC_MAX_BATCH, min, min), 0);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE,
							MODEGATE_ASYNC_MAX_BATCH + 1, min, min),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, U32_MAX, min, min),
			-EINVAL);
}

static void modegate_test_array_size(struct kunit *test)
{
	const size_t min = sizeof(struct modegate_async_completion);

	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 1, 0, min), -EINVAL);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 1, min - 1, min),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 1, min + 1, min), 0);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 1, PAGE_SIZE, min), 0);
	/* The largest batch of the largest elements still fits a u64 sum. */
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE,
							MODEGATE_ASYNC_MAX_BATCH,
							PAGE_SIZE, min), 0);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 1, PAGE_SIZE + 1, min),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 1, U32_MAX, min),
			-E2BIG);
	/* A short count with a bad size is still -EINVAL, not -E2BIG. */
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(MODEGATE_TEST_UBASE, 0, U32_MAX, min),
			-EINVAL);
}

static void modegate_test_array_range(struct kunit *test)
{
	const size_t min = sizeof(struct modegate_async_completion);
	const void __user *last = (const void __user *)(TASK_SIZE_MAX - PAGE_SIZE);

	/* One page below the top of user space: one page fits, two do not. */
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(last, 1, PAGE_SIZE, min), 0);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array(last, 2, PAGE_SIZE, min), -EFAULT);
	KUNIT_EXPECT_EQ(test, modegate_check_user_array((const void __user *)TASK_SIZE_MAX,
							1, min, min), -EFAULT);
}

static struct kunit_case modegate_user_array_cases[] = {
	KUNIT_CASE(modegate_test_array_count),
	KUNIT_CASE(modegate_test_array_size),
	KUNIT_CASE(modegate_test_array_range),
	{}
};

static struct kunit_suite modegate_user_array_suite = {
	.name = "modegate_user_array",
	.test_cases = modegate_user_array_cases,
};

/* ------------------------------------------------------------------ */
/* ctx.c: the limits                                                    */

static void modegate_test_file_limit(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	struct modegate_ctx *other = modegate_ctx_alloc(current_cred());

	KUNIT_ASSERT_NOT_NULL(test, other);
	WRITE_ONCE(modegate_max_inflight, 2);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), 0);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), 0);
	/* The last slot is taken: the third fails, and changes nothing. */
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), -EAGAIN);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 2U);
	/* Another file of the same user has its own two. */
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, other), 0);
	KUNIT_EXPECT_EQ(test, other->nr_alive, 1U);
	modegate_test_unreserve(test, other);
	/* A slot given back is usable again, once. */
	modegate_test_unreserve(test, t->ctx);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 1U);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), 0);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), -EAGAIN);
	modegate_test_unreserve(test, t->ctx);
	modegate_test_unreserve(test, t->ctx);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 0U);
	/* A limit of zero (the module refuses to load with one) admits nothing. */
	WRITE_ONCE(modegate_max_inflight, 0);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), -EAGAIN);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 0U);
	modegate_test_put_file(test, other);
}

static void modegate_test_user_limit(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	struct modegate_ctx *other = modegate_ctx_alloc(current_cred());

	KUNIT_ASSERT_NOT_NULL(test, other);
	WRITE_ONCE(modegate_max_inflight_user, 2);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), 0);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, other), 0);
	/* Two files, one user: the user's last slot is taken in both. */
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), -EAGAIN);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, other), -EAGAIN);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive + other->nr_alive, 2U);
	/* Released on one file, the slot is free on the other. */
	modegate_test_unreserve(test, t->ctx);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, other), 0);
	KUNIT_EXPECT_EQ(test, other->nr_alive, 2U);
	modegate_test_unreserve(test, other);
	modegate_test_unreserve(test, other);
	modegate_test_put_file(test, other);
}

static void modegate_test_global_limit(struct kunit *test)
{
	struct modegate_test *t = test->priv;

	/* Nothing else holds a request while the suite runs. */
	WRITE_ONCE(modegate_max_inflight_global, 1);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), 0);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), -EAGAIN);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 1U);
	modegate_test_unreserve(test, t->ctx);
	KUNIT_EXPECT_EQ(test, modegate_test_reserve(test, t->ctx), 0);
	modegate_test_unreserve(test, t->ctx);
}

static void modegate_test_buffered(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	const size_t max = MODEGATE_ASYNC_MAX_BUFFERED;

	KUNIT_EXPECT_EQ(test, modegate_user_charge_buffered(t->user, max - 1), 0);
	KUNIT_EXPECT_EQ(test, modegate_user_charge_buffered(t->user, 2), -EAGAIN);
	/* Exactly the limit is allowed. */
	KUNIT_EXPECT_EQ(test, modegate_user_charge_buffered(t->user, 1), 0);
	KUNIT_EXPECT_EQ(test, modegate_user_charge_buffered(t->user, 1), -EAGAIN);
	modegate_user_uncharge_buffered(t->user, max);
	/* A size that would wrap the sum is refused, not wrapped. */
	KUNIT_EXPECT_EQ(test, modegate_user_charge_buffered(t->user, 1), 0);
	KUNIT_EXPECT_EQ(test, modegate_user_charge_buffered(t->user, SIZE_MAX), -EAGAIN);
	modegate_user_uncharge_buffered(t->user, 1);
	KUNIT_EXPECT_EQ(test, modegate_user_charge_buffered(t->user, max), 0);
	modegate_user_uncharge_buffered(t->user, max);
}

/* A request of the current ctx, or NULL (the failure is reported). */
static struct modegate_request *modegate_test_req(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	struct modegate_request *req = modegate_request_alloc(t->ctx);

	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(req));
	return IS_ERR_OR_NULL(req) ? NULL : req;
}

static void modegate_test_request_lifetime(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	struct modegate_request *req, *over;

	WRITE_ONCE(modegate_max_inflight, 1);
	req = modegate_test_req(test);
	if (!req)
		return;
	KUNIT_EXPECT_PTR_EQ(test, req->mm, modegate_test_mm);
	KUNIT_EXPECT_PTR_EQ(test, req->ctx, t->ctx);
	KUNIT_EXPECT_EQ(test, kref_read(&t->ctx->ref), 2U);
	/* Over the limit: -EAGAIN, and nothing reserved or referenced. */
	over = modegate_request_alloc(t->ctx);
	KUNIT_EXPECT_PTR_EQ(test, over, ERR_PTR(-EAGAIN));
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 1U);
	KUNIT_EXPECT_EQ(test, kref_read(&t->ctx->ref), 2U);
	/* The strategy's release runs once, whoever asks first. */
	req->strat = &modegate_test_strat;
	modegate_request_release(req);
	modegate_request_release(req);
	KUNIT_EXPECT_EQ(test, t->released, 1U);
	modegate_request_free(req);
	KUNIT_EXPECT_EQ(test, t->released, 1U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 0U);
	KUNIT_EXPECT_EQ(test, kref_read(&t->ctx->ref), 1U);
	/* The slot came back with the free. */
	req = modegate_test_req(test);
	if (req) {
		req->strat = &modegate_test_strat;
		modegate_request_free(req);
		KUNIT_EXPECT_EQ(test, t->released, 2U);
	}
}

static struct kunit_case modegate_limits_cases[] = {
	KUNIT_CASE(modegate_test_file_limit),
	KUNIT_CASE(modegate_test_user_limit),
	KUNIT_CASE(modegate_test_global_limit),
	KUNIT_CASE(modegate_test_buffered),
	KUNIT_CASE(modegate_test_request_lifetime),
	{}
};

static struct kunit_suite modegate_limits_suite = {
	.name = "modegate_limits",
	.suite_init = modegate_test_suite_init,
	.suite_exit = modegate_test_suite_exit,
	.init = modegate_test_init,
	.exit = modegate_test_exit,
	.test_cases = modegate_limits_cases,
};

/* ------------------------------------------------------------------ */
/* ring.c: the completion ring's accounting                             */

/*
 * Post @nr requests, the first @for_originator of them left for the
 * originator (BUFFERED).  Return: how many were posted.
 */
static unsigned int modegate_test_post(struct kunit *test, unsigned int nr,
				       unsigned int for_originator, u64 first_data)
{
	struct modegate_test *t = test->priv;
	struct modegate_request *req;
	unsigned int i;
	LIST_HEAD(reqs);

	for (i = 0; i < nr; i++) {
		req = modegate_test_req(test);
		if (!req)
			break;
		req->for_originator = i < for_originator;
		req->comp.user_data = first_data + i;
		atomic_set(&req->state, MODEGATE_REQ_FIRED);
		list_add_tail(&req->node, &reqs);
	}
	modegate_ring_post(t->ctx, &reqs, i);
	return i;
}

static void modegate_test_ring_visible(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	struct modegate_request *req;
	LIST_HEAD(batch);

	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 3, 0, 1), 3U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_done, 3U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_for_originator, 0U);
	KUNIT_EXPECT_EQ(test, modegate_ring_ready(t->ctx), 3U);
	list_for_each_entry(req, &t->ctx->done, node)
		KUNIT_EXPECT_EQ(test, atomic_read(&req->state), (int)MODEGATE_REQ_COMPLETED);
	/* Taken in the order posted, no more than asked. */
	KUNIT_EXPECT_EQ(test, modegate_ring_take(t->ctx, 2, &batch), 2U);
	KUNIT_EXPECT_EQ(test, list_first_entry(&batch, struct modegate_request,
					       node)->comp.user_data, 1ULL);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_done, 1U);
	KUNIT_EXPECT_EQ(test, modegate_ring_ready(t->ctx), 1U);
	modegate_ring_untake(t->ctx, &batch);
}

static void modegate_test_ring_invisible(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	LIST_HEAD(batch);

	/* Two left for the originator (this mm), then one anyone may reap. */
	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 3, 2, 1), 3U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_for_originator, 2U);
	KUNIT_EXPECT_EQ(test, modegate_ring_ready(t->ctx), 3U);
	/* Another address space (none) sees only the third. */
	kthread_unuse_mm(modegate_test_mm);
	t->use_mm = false;
	KUNIT_EXPECT_EQ(test, modegate_ring_ready(t->ctx), 1U);
	KUNIT_EXPECT_FALSE(test, modegate_ring_wait_done(t->ctx, 2));
	/* Its waiter is woken by the next completion, not by these two. */
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, 4U);
	KUNIT_EXPECT_EQ(test, modegate_ring_take(t->ctx, 3, &batch), 1U);
	KUNIT_EXPECT_EQ(test, list_first_entry(&batch, struct modegate_request,
					       node)->comp.user_data, 3ULL);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_done, 2U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_for_originator, 2U);
	KUNIT_EXPECT_EQ(test, modegate_ring_ready(t->ctx), 0U);
	KUNIT_EXPECT_EQ(test, modegate_ring_take(t->ctx, 3, &batch), 0U);
	modegate_ring_untake(t->ctx, &batch);
	INIT_LIST_HEAD(&batch);	/* untake splices it without emptying it */
	kthread_use_mm(modegate_test_mm);
	t->use_mm = true;
	/* The originator sees all three, the put-back one first. */
	KUNIT_EXPECT_EQ(test, modegate_ring_ready(t->ctx), 3U);
	KUNIT_EXPECT_EQ(test, modegate_ring_take(t->ctx, 3, &batch), 3U);
	KUNIT_EXPECT_EQ(test, list_first_entry(&batch, struct modegate_request,
					       node)->comp.user_data, 3ULL);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_for_originator, 0U);
	modegate_ring_untake(t->ctx, &batch);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_for_originator, 2U);
}

static void modegate_test_ring_untake(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	struct modegate_request *req;
	LIST_HEAD(batch);
	u64 want = 1;

	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 2, 0, 1), 2U);
	KUNIT_EXPECT_EQ(test, modegate_ring_take(t->ctx, 2, &batch), 2U);
	/* Posted while the batch was out. */
	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 1, 1, 3), 1U);
	/* A waiter for 3 began meanwhile: the ring holds 1, so it sleeps. */
	KUNIT_EXPECT_FALSE(test, modegate_ring_wait_done(t->ctx, 3));
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, 3U);
	/* The put-back makes three: the waiter is due, the mark disarmed. */
	modegate_ring_untake(t->ctx, &batch);
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, UINT_MAX);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_done, 3U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_for_originator, 1U);
	/* In order: the put-back ones ahead of the newer one. */
	list_for_each_entry(req, &t->ctx->done, node)
		KUNIT_EXPECT_EQ(test, req->comp.user_data, want++);
	KUNIT_EXPECT_TRUE(test, modegate_ring_wait_done(t->ctx, 3));
}

static void modegate_test_ring_threshold(struct kunit *test)
{
	struct modegate_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, UINT_MAX);
	KUNIT_EXPECT_TRUE(test, modegate_ring_wait_done(t->ctx, 0));
	KUNIT_EXPECT_FALSE(test, modegate_ring_wait_done(t->ctx, 3));
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, 3U);
	/* A second waiter with a smaller min_complete lowers the mark. */
	KUNIT_EXPECT_FALSE(test, modegate_ring_wait_done(t->ctx, 2));
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, 2U);
	/* ... and a larger one does not raise it. */
	KUNIT_EXPECT_FALSE(test, modegate_ring_wait_done(t->ctx, 5));
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, 2U);
	/* One post of one: below the mark, still armed. */
	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 1, 0, 1), 1U);
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, 2U);
	/* The second reaches it: woken, disarmed. */
	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 1, 0, 2), 1U);
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, UINT_MAX);
	/* The waiter for 3 re-arms when it looks again. */
	KUNIT_EXPECT_FALSE(test, modegate_ring_wait_done(t->ctx, 3));
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, 3U);
	/* One post of several crosses the mark once. */
	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 4, 0, 3), 4U);
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, UINT_MAX);
	KUNIT_EXPECT_TRUE(test, modegate_ring_wait_done(t->ctx, 5));
	KUNIT_EXPECT_EQ(test, t->ctx->wake_at, UINT_MAX);
}

static void modegate_test_ring_cancelled(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	struct modegate_request *req;
	LIST_HEAD(reqs);

	req = modegate_test_req(test);
	if (!req)
		return;
	atomic_set(&req->state, MODEGATE_REQ_CANCELLED);
	list_add_tail(&req->node, &reqs);
	modegate_ring_post(t->ctx, &reqs, 1);
	/* A cancelled request stays cancelled on the ring. */
	KUNIT_EXPECT_EQ(test, atomic_read(&req->state), (int)MODEGATE_REQ_CANCELLED);
	KUNIT_EXPECT_EQ(test, modegate_ring_ready(t->ctx), 1U);
}

static void modegate_test_ring_closing(struct kunit *test)
{
	struct modegate_test *t = test->priv;

	/* Posted to a file being released: freed at once, budget returned. */
	spin_lock(&t->ctx->lock);
	t->ctx->closing = true;
	spin_unlock(&t->ctx->lock);
	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 2, 1, 1), 2U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_done, 0U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_for_originator, 0U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&t->ctx->done));
	KUNIT_EXPECT_EQ(test, kref_read(&t->ctx->ref), 1U);
}

static void modegate_test_ring_release(struct kunit *test)
{
	struct modegate_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, modegate_test_post(test, 3, 1, 1), 3U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 3U);
	modegate_ring_release(t->ctx);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_done, 0U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_for_originator, 0U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 0U);
	KUNIT_EXPECT_EQ(test, modegate_ring_ready(t->ctx), 0U);
	KUNIT_EXPECT_EQ(test, kref_read(&t->ctx->ref), 1U);
}

static struct kunit_case modegate_ring_cases[] = {
	KUNIT_CASE(modegate_test_ring_visible),
	KUNIT_CASE(modegate_test_ring_invisible),
	KUNIT_CASE(modegate_test_ring_untake),
	KUNIT_CASE(modegate_test_ring_threshold),
	KUNIT_CASE(modegate_test_ring_cancelled),
	KUNIT_CASE(modegate_test_ring_closing),
	KUNIT_CASE(modegate_test_ring_release),
	{}
};

static struct kunit_suite modegate_ring_suite = {
	.name = "modegate_ring",
	.suite_init = modegate_test_suite_init,
	.suite_exit = modegate_test_suite_exit,
	.init = modegate_test_init,
	.exit = modegate_test_exit,
	.test_cases = modegate_ring_cases,
};

/* ---- the interrupt line: queued requests in a timerqueue, by expiry ---- */

/* A request due at @at (far in the future: the line's timer is never armed). */
static struct modegate_request *modegate_test_queue(struct kunit *test,
						    struct modegate_line *line,
						    s64 at, u64 user_data)
{
	struct modegate_request *req = modegate_test_req(test);

	if (!req)
		return NULL;
	timerqueue_init(&req->tq);
	req->tq.expires = KTIME_MAX / 2 + at;
	req->comp.user_data = user_data;
	/* Earlier than the expiry the timer is armed for (none). */
	KUNIT_EXPECT_TRUE(test, modegate_line_add(line, req));
	KUNIT_EXPECT_EQ(test, atomic_read(&req->state), MODEGATE_REQ_QUEUED);
	return req;
}

/* Free what a claim took, checking it came in @order of user_data. */
static void modegate_test_claimed(struct kunit *test, struct list_head *victims,
				  const u64 *order, unsigned int nr)
{
	struct modegate_request *req, *tmp;
	unsigned int i = 0;

	list_for_each_entry_safe(req, tmp, victims, node) {
		if (i < nr)
			KUNIT_EXPECT_EQ(test, req->comp.user_data, order[i]);
		KUNIT_EXPECT_EQ(test, atomic_read(&req->state), MODEGATE_REQ_CANCELLED);
		list_del(&req->node);
		modegate_request_free(req);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, nr);
}

/*
 * Requests queued out of order come off the line in expiry order, equal
 * expiries in the order they were queued; a cancel by user_data takes
 * only those.
 */
static void modegate_test_line_order(struct kunit *test)
{
	static const s64 at[] = { 30, 10, 20, 10, 5 };
	static const u64 first[] = { 1 }, rest[] = { 4, 3, 2, 0 };
	struct modegate_test *t = test->priv;
	struct modegate_line *line;
	LIST_HEAD(victims);
	unsigned int i;

	line = modegate_line_get(t->ctx, 0);
	KUNIT_ASSERT_NOT_NULL(test, line);
	KUNIT_EXPECT_PTR_EQ(test, modegate_line_get(t->ctx, 0), line);
	for (i = 0; i < ARRAY_SIZE(at); i++)
		if (!modegate_test_queue(test, line, at[i], i))
			break;
	KUNIT_EXPECT_EQ(test, modegate_line_claim(line, false, 1, &victims), 1U);
	modegate_test_claimed(test, &victims, first, ARRAY_SIZE(first));
	KUNIT_EXPECT_EQ(test, modegate_line_claim(line, false, 99, &victims), 0U);
	KUNIT_EXPECT_EQ(test, modegate_line_claim(line, true, 0, &victims), 4U);
	modegate_test_claimed(test, &victims, rest, ARRAY_SIZE(rest));
	KUNIT_EXPECT_EQ(test, modegate_line_claim(line, true, 0, &victims), 0U);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_alive, 0U);
}

/* Many requests with one expiry: all queued, all claimed, in queue order. */
static void modegate_test_line_same_expiry(struct kunit *test)
{
	struct modegate_test *t = test->priv;
	struct modegate_request *req, *tmp;
	struct modegate_line *line;
	LIST_HEAD(victims);
	unsigned int i, n = 0;

	line = modegate_line_get(t->ctx, 0);
	KUNIT_ASSERT_NOT_NULL(test, line);
	for (i = 0; i < MODEGATE_ASYNC_MAX_BATCH; i++)
		if (!modegate_test_queue(test, line, 7, i))
			break;
	KUNIT_EXPECT_EQ(test, modegate_line_claim(line, true, 0, &victims), i);
	list_for_each_entry_safe(req, tmp, &victims, node) {
		KUNIT_EXPECT_EQ(test, req->comp.user_data, (u64)n);
		list_del(&req->node);
		modegate_request_free(req);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, (unsigned int)MODEGATE_ASYNC_MAX_BATCH);
}

static struct kunit_case modegate_line_cases[] = {
	KUNIT_CASE(modegate_test_line_order),
	KUNIT_CASE(modegate_test_line_same_expiry),
	{}
};

static struct kunit_suite modegate_line_suite = {
	.name = "modegate_line",
	.suite_init = modegate_test_suite_init,
	.suite_exit = modegate_test_suite_exit,
	.init = modegate_test_init,
	.exit = modegate_test_exit,
	.test_cases = modegate_line_cases,
};

kunit_test_suites(&modegate_user_array_suite, &modegate_limits_suite, &modegate_ring_suite,
		  &modegate_line_suite);

MODULE_DESCRIPTION("KUnit suites of modegate's internals");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
