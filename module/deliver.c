// SPDX-License-Identifier: GPL-2.0
/*
 * modegate delivery strategies: how the bytes of an async read reach the
 * buffer of the process that asked for them, when the "device" completes in
 * an interrupt on whatever thread happens to be running.
 *
 * The interrupt (async.c's timer callback) must not write the buffer: the
 * address the submitter gave is meaningful only in the submitter's address
 * space, and the interrupted task may be any process, a kernel thread or the
 * idle task.  So the callback only queues a work item, and a kworker -- a
 * kernel thread with no user address space of its own -- delivers, through
 * the address space captured at submit (mmgrab(), as fs/proc/base.c's
 * mem_open() does: the mm, not the task, so an exec after submit cannot
 * redirect the write into the new image).
 *
 * One table entry per strategy; async.c calls the ops:
 *
 *  ADOPT_MM  The kworker takes a user reference on the captured mm
 *            (mmget_not_zero(): -ESRCH once the process exited or exec'd),
 *            adopts it with kthread_use_mm() and uses plain copy_to_user(),
 *            faults and all -- as vhost and io_uring's old workers do.
 *  PIN       The pages are pinned at submit, in the submitter's own context
 *            (pin_user_pages_fast(FOLL_WRITE)); the kworker writes them
 *            through kmap_local_page() and unpins them dirty.  No
 *            FOLL_LONGTERM: a pin lasts at most the device latency, like an
 *            O_DIRECT bio's.  Pinned anonymous pages stay with the parent
 *            across fork() (the child gets copies).  If the buffer is
 *            unmapped after submit, the bytes land in the pinned pages that
 *            no longer belong to any mapping: invisible, harmless.
 *  REMOTE    At completion the kworker pins the captured mm's pages itself
 *            (pin_user_pages_remote() under mmap_read_lock, as ptrace's
 *            access_remote_vm() does), then writes through kmap.
 *  BUFFERED  The kworker fills a kernel buffer; the originator copies it
 *            out with plain copy_to_user() when it reaps, in its own
 *            context -- the classic "deferred copy" of a driver that will
 *            not touch user memory from the completion path.
 *  NAIVE     What a careless driver does.  Nothing correct can be done at
 *            interrupt time, so it writes nothing: it records what it hit
 *            and completes with -EXDEV.  Only for the wrong-process demo
 *            (module parameter allow_wrong_process_demo, a registered
 *            bystander interrupted, MODEGATE_REQ_DEMO_WRONG_PROCESS) does
 *            it write at the raw address with copy_to_user_nofault() -- into
 *            the bystander's address space, which is the point.
 *
 * The data is a snapshot of the store taken with modegate_store_copy_out()
 * into a kernel buffer: the store lock is never held across user memory.
 */
#include "modegate.h"

#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

/* Pages PIN requests hold now, against MODEGATE_ASYNC_MAX_PINNED_PAGES. */
static atomic_long_t modegate_pin_budget = ATOMIC_LONG_INIT(0);
/* Bytes reserved by BUFFERED requests, against MODEGATE_ASYNC_MAX_BUFFERED. */
static atomic_long_t modegate_buffered_budget = ATOMIC_LONG_INIT(0);

/* Pages spanned by @len bytes at user address @uaddr; 0 on overflow. */
static unsigned long modegate_span_pages(u64 uaddr, size_t len)
{
	size_t end;

	if (!len || check_add_overflow(offset_in_page(uaddr), len, &end))
		return 0;
	return DIV_ROUND_UP(end, PAGE_SIZE);
}

/* Take the device's data: a snapshot of the store into req->kbuf. */
static ssize_t modegate_snapshot(struct modegate_request *req)
{
	ssize_t n;

	req->kbuf = kvmalloc(req->len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!req->kbuf)
		return -ENOMEM;
	n = modegate_store_copy_out(req->offset, req->kbuf, req->len);
	req->kbuf_len = n > 0 ? n : 0;
	return n;
}

static void modegate_delivered(struct modegate_request *req, u32 by)
{
	req->comp.delivered_by = by;
	req->comp.deliver_pid = task_pid_nr(current);
	req->comp.t_deliver_ns = ktime_get_ns();
}

/* Copy @len bytes to the pinned @pages that map user address @uaddr. */
static void modegate_copy_to_pages(struct page **pages, u64 uaddr,
				   const void *src, size_t len)
{
	size_t off = offset_in_page(uaddr), done = 0;

	while (done < len) {
		size_t chunk = min_t(size_t, len - done, PAGE_SIZE - off);
		void *dst = kmap_local_page(*pages);

		memcpy(dst + off, src + done, chunk);
		kunmap_local(dst);
		flush_dcache_page(*pages);
		pages++;
		done += chunk;
		off = 0;
	}
}

/* Unpin @nr pages, the first @dirty of them written. Process context. */
static void modegate_unpin(struct page **pages, unsigned long nr,
			   unsigned long dirty)
{
	dirty = min(dirty, nr);
	if (dirty)
		unpin_user_pages_dirty_lock(pages, dirty, true);
	if (nr > dirty)
		unpin_user_pages(pages + dirty, nr - dirty);
	modegate_count_sub(pinned_pages, nr);
}

/* ADOPT_MM */

static s64 modegate_adopt_deliver(struct modegate_request *req)
{
	struct mm_struct *mm = req->mm;
	unsigned long left;
	ssize_t n;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	n = modegate_snapshot(req);
	if (n <= 0)
		goto out_mmput;

	kthread_use_mm(mm);
	left = copy_to_user(u64_to_user_ptr(req->buf), req->kbuf, n);
	kthread_unuse_mm(mm);

	if (left == n) {
		n = -EFAULT;
		goto out_mmput;
	}
	n -= left;
	modegate_delivered(req, MODEGATE_DELIVER_WORKER);
out_mmput:
	mmput(mm);
	return n;
}

/* PIN */

static int modegate_pin_prepare(struct modegate_request *req)
{
	unsigned long nr = modegate_span_pages(req->buf, req->len);
	struct page **pages;
	long got;
	int ret;

	if (!nr || nr > INT_MAX)
		return -EINVAL;
	if (atomic_long_add_return(nr, &modegate_pin_budget) >
	    MODEGATE_ASYNC_MAX_PINNED_PAGES) {
		ret = -EAGAIN;
		goto err_budget;
	}
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages) {
		ret = -ENOMEM;
		goto err_budget;
	}
	got = pin_user_pages_fast(req->buf & PAGE_MASK, nr, FOLL_WRITE, pages);
	if (got != nr) {
		if (got > 0)
			unpin_user_pages(pages, got);
		ret = got < 0 ? got : -EFAULT;
		goto err_free_pages;
	}
	modegate_count_add(pinned_pages, nr);
	req->pages = pages;
	req->nr_pages = nr;
	return 0;

err_free_pages:
	kvfree(pages);
err_budget:
	atomic_long_sub(nr, &modegate_pin_budget);
	return ret;
}

static void modegate_pin_unpin(struct modegate_request *req, size_t written)
{
	if (!req->pages)
		return;
	modegate_unpin(req->pages, req->nr_pages,
		       modegate_span_pages(req->buf, written));
	atomic_long_sub(req->nr_pages, &modegate_pin_budget);
	kvfree(req->pages);
	req->pages = NULL;
	req->nr_pages = 0;
}

static s64 modegate_pin_deliver(struct modegate_request *req)
{
	ssize_t n;

	/*
	 * The pinned pages could be written even after the process is gone;
	 * the user reference makes -ESRCH mean what it means for the other
	 * strategies, and nothing lands after an exec.
	 */
	if (!mmget_not_zero(req->mm)) {
		modegate_pin_unpin(req, 0);
		return -ESRCH;
	}
	n = modegate_snapshot(req);
	if (n > 0) {
		modegate_copy_to_pages(req->pages, req->buf, req->kbuf, n);
		modegate_delivered(req, MODEGATE_DELIVER_KMAP);
	}
	mmput(req->mm);
	modegate_pin_unpin(req, n > 0 ? n : 0);
	return n;
}

static void modegate_pin_release(struct modegate_request *req)
{
	modegate_pin_unpin(req, 0);
}

/* REMOTE */

static s64 modegate_remote_deliver(struct modegate_request *req)
{
	struct mm_struct *mm = req->mm;
	unsigned long nr, got = 0;
	struct page **pages;
	ssize_t n;
	long ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	n = modegate_snapshot(req);
	if (n <= 0)
		goto out_mmput;
	nr = modegate_span_pages(req->buf, n);
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages) {
		n = -ENOMEM;
		goto out_mmput;
	}

	mmap_read_lock(mm);
	while (got < nr) {
		ret = modegate_pin_user_pages_remote(mm, (req->buf & PAGE_MASK) +
						     got * PAGE_SIZE, nr - got,
						     FOLL_WRITE, pages + got);
		if (ret <= 0)
			break;
		got += ret;
	}
	mmap_read_unlock(mm);
	modegate_count_add(pinned_pages, got);

	if (!got) {
		n = -EFAULT;
		goto out_free_pages;
	}
	/* A hole part-way: deliver what the pinned pages cover. */
	if (got < nr)
		n = got * PAGE_SIZE - offset_in_page(req->buf);
	modegate_copy_to_pages(pages, req->buf, req->kbuf, n);
	modegate_delivered(req, MODEGATE_DELIVER_KMAP);
	modegate_unpin(pages, got, got);
out_free_pages:
	kvfree(pages);
out_mmput:
	mmput(mm);
	return n;
}

/* BUFFERED */

/*
 * The data waits in the kernel until the originator reaps it, for as long
 * as it likes: reserve the room at submit, so that a flood of requests is
 * refused (-EAGAIN) rather than filling memory.
 */
static int modegate_buffered_prepare(struct modegate_request *req)
{
	if (atomic_long_add_return(req->len, &modegate_buffered_budget) >
	    MODEGATE_ASYNC_MAX_BUFFERED) {
		atomic_long_sub(req->len, &modegate_buffered_budget);
		return -EAGAIN;
	}
	req->budget = req->len;
	return 0;
}

static void modegate_buffered_release(struct modegate_request *req)
{
	atomic_long_sub(req->budget, &modegate_buffered_budget);
	req->budget = 0;
}

static s64 modegate_buffered_deliver(struct modegate_request *req)
{
	ssize_t n = modegate_snapshot(req);

	if (n >= 0)
		req->for_originator = true;
	return n;
}

static s64 modegate_buffered_reap(struct modegate_request *req)
{
	unsigned long left;

	/* Visible to another mm only once the originator's mm has exited. */
	if (current->mm != req->mm)
		return -ESRCH;
	if (!req->kbuf_len)
		return 0;
	left = copy_to_user(u64_to_user_ptr(req->buf), req->kbuf,
			    req->kbuf_len);
	if (left == req->kbuf_len)
		return -EFAULT;
	modegate_delivered(req, MODEGATE_DELIVER_ORIGINATOR);
	return req->kbuf_len - left;
}

/* NAIVE */

static int modegate_naive_prepare(struct modegate_request *req)
{
	if (!(req->flags & MODEGATE_REQ_DEMO_WRONG_PROCESS))
		return 0;
	/*
	 * The demo writes from hard irq: at most one page, so that the write
	 * is all or nothing and short.
	 */
	if (modegate_span_pages(req->buf, req->len) != 1)
		return -EINVAL;
	if (!modegate_allow_wrong_process_demo)
		return 0;
	/* The data must be ready before the interrupt: it cannot sleep. */
	return modegate_snapshot(req) < 0 ? -ENOMEM : 0;
}

static void modegate_naive_irq(struct modegate_request *req)
{
	long ret;

	if (!(req->flags & MODEGATE_REQ_DEMO_WRONG_PROCESS) ||
	    !modegate_allow_wrong_process_demo || !req->kbuf_len ||
	    !modegate_bystander_is_current())
		return;
	/* Not into an address space being torn down under us. */
	if (!current->mm || (current->flags & PF_EXITING))
		return;
	/*
	 * This is the bug the demo shows: in the interrupt, the user half of
	 * the page tables is the interrupted task's, so the submitter's
	 * address is resolved in the bystander's address space.  The write
	 * cannot fault (page faults are disabled: a page that is not present
	 * and writable is simply not written), like bpf_probe_write_user().
	 *
	 * The explicit pagefault_disable() is for kernels whose access_ok()
	 * warns outside task context unless page faults are disabled (6.1
	 * with CONFIG_DEBUG_ATOMIC_SLEEP: WARN_ON_IN_IRQ()); it nests with
	 * the one copy_to_user_nofault() does itself.
	 */
	pagefault_disable();
	ret = copy_to_user_nofault(u64_to_user_ptr(req->buf), req->kbuf,
				   req->kbuf_len);
	pagefault_enable();
	if (ret)
		return;
	req->comp.ctx_flags |= MODEGATE_CTX_WRONG_PROCESS;
	modegate_delivered(req, MODEGATE_DELIVER_BYSTANDER);
}

static s64 modegate_naive_deliver(struct modegate_request *req)
{
	return -EXDEV;
}

static const struct modegate_strategy modegate_strategies[] = {
	{
		.id = MODEGATE_STRAT_ADOPT_MM,
		.name = "ADOPT_MM",
		.deliver = modegate_adopt_deliver,
	},
	{
		.id = MODEGATE_STRAT_PIN,
		.name = "PIN",
		.prepare = modegate_pin_prepare,
		.deliver = modegate_pin_deliver,
		.release = modegate_pin_release,
	},
	{
		.id = MODEGATE_STRAT_REMOTE,
		.name = "REMOTE",
		.deliver = modegate_remote_deliver,
	},
	{
		.id = MODEGATE_STRAT_BUFFERED,
		.name = "BUFFERED",
		.prepare = modegate_buffered_prepare,
		.deliver = modegate_buffered_deliver,
		.reap = modegate_buffered_reap,
		.release = modegate_buffered_release,
	},
	{
		.id = MODEGATE_STRAT_NAIVE,
		.name = "NAIVE",
		.prepare = modegate_naive_prepare,
		.irq = modegate_naive_irq,
		.deliver = modegate_naive_deliver,
	},
};

const struct modegate_strategy *modegate_strategy_get(u32 id)
{
	const struct modegate_strategy *s = modegate_strategies;

	for (; s < modegate_strategies + ARRAY_SIZE(modegate_strategies); s++)
		if (s->id == id)
			return s;
	return NULL;
}
