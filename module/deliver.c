// SPDX-License-Identifier: GPL-2.0
/*
 * modegate delivery strategies: how the bytes of an async read reach the
 * buffer of the process that asked for them, when the "device" completes in
 * an interrupt on whatever thread happens to be running.
 *
 * The interrupt (async.c) must not write the buffer: the address the
 * submitter gave is meaningful only in the submitter's address space, and
 * the interrupted task may be any process, a kernel thread or the idle
 * task.  So the interrupt only hands the request on, and the file's delivery thread -- a
 * kernel thread with no user address space of its own -- delivers, through
 * the address space captured at submit (mmgrab(), as fs/proc/base.c's
 * mem_open() does: the mm, not the task, so an exec after submit cannot
 * redirect the write into the new image).
 *
 * The bytes go straight from the store to their destination, once: the
 * store's lock is held across the copy, which is safe because the copy
 * cannot sleep on user memory (store.c) -- into pinned pages it cannot
 * fault at all, and into an adopted mm it runs with page faults disabled
 * and faults in without waiting.  The delivery thread never waits on user space: a
 * buffer behind a userfaultfd that nobody answers, or a FUSE mapping, ends
 * the copy with the bytes written so far, or -EAGAIN if there are none, and
 * other files' deliveries and the release of this one go on.
 *
 * One table entry per MODEGATE_STRAT_*; async.c calls the ops:
 *
 *  ADOPT_MM  The delivery thread takes a user reference on the captured mm
 *            (mmget_not_zero(): -ESRCH once the process exited or exec'd),
 *            adopts it with kthread_use_mm() -- once for a whole run of
 *            requests -- and copies from the store with the store's
 *            single-copy loop, as io_uring's io-wq and f_fs.c do.
 *  PIN       The pages are pinned at submit, in the submitter's own context
 *            (FOLL_LONGTERM: the pin may last the whole device latency),
 *            and the delivery thread copies into them through kmap.  A buffer in a
 *            shared file mapping other than shmem is refused with
 *            -EOPNOTSUPP: writeback could clean such a page while it is
 *            pinned, and the data written through the pin would be lost or
 *            land in a page the filesystem no longer expects to change.
 *  REMOTE    At completion the delivery thread pins the captured mm's pages itself
 *            (pin_user_pages_remote(), as ptrace's access_remote_vm()
 *            does, but with the mmap lock polled for a bounded time and
 *            faults that do not wait: modegate_store_pin_nowait()), a chunk
 *            at a time.
 *  BUFFERED  A kernel buffer, allocated at submit in the submitter's
 *            context (charged to its memory cgroup and to its user's
 *            budget); the delivery thread fills it, and the originator copies it out
 *            when it reaps, in its own context -- the classic "deferred
 *            copy" of a driver that will not touch user memory from the
 *            completion path.
 *  NAIVE     What a careless driver does.  Nothing correct can be done at
 *            interrupt time, so it writes nothing: it records what it hit
 *            and completes with -EXDEV.  Only for the wrong-process demo
 *            (module parameter allow_wrong_process_demo, a consenting
 *            bystander interrupted, MODEGATE_REQ_DEMO_WRONG_PROCESS) does it
 *            write at the raw address with copy_to_user_nofault() -- into
 *            the bystander's address space, which is the point.
 */
#include "modegate.h"

#include <linux/bvec.h>
#include <linux/cred.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

/* Pages copied per store lock hold into pinned pages. */
#define MODEGATE_PAGES_PER_COPY	16

/* Pages PIN requests hold now, against MODEGATE_ASYNC_MAX_PINNED_PAGES. */
static atomic_long_t modegate_pin_budget = ATOMIC_LONG_INIT(0);

/* Pages spanned by @len bytes at user address @uaddr; 0 on overflow. */
static unsigned long modegate_span_pages(u64 uaddr, size_t len)
{
	size_t end;

	if (!len || check_add_overflow(offset_in_page(uaddr), len, &end))
		return 0;
	return DIV_ROUND_UP(end, PAGE_SIZE);
}

static struct modegate_request *modegate_next(struct modegate_request *req)
{
	return llist_entry(req->lnode.next, struct modegate_request, lnode);
}

/**
 * modegate_delivered() - record who wrote the data
 * @req: the request.
 * @by: MODEGATE_DELIVER_*.
 *
 * The pid is the global one; ring.c translates it for the reaper.  The
 * time is not read here: a run of deliveries is stamped once, when it
 * ends (async.c), and the reap and the demo stamp their own.
 */
void modegate_delivered(struct modegate_request *req, u32 by)
{
	req->comp.delivered_by = by;
	req->comp.deliver_pid = task_pid_nr(current);
}

/*
 * Copy @len bytes of the store at @offset into the pinned @pages that map
 * user address @uaddr.  Cannot fault; a chunk of pages per lock hold.
 * Returns the bytes copied (fewer at the end of the store's data).
 */
static ssize_t modegate_copy_to_pages(u64 uaddr, loff_t offset,
				      struct page **pages, size_t len)
{
	struct bio_vec bv[MODEGATE_PAGES_PER_COPY];
	enum modegate_fault how = MODEGATE_FAULT_NOWAIT;	/* pages cannot fault */
	size_t off = offset_in_page(uaddr), done = 0;
	struct iov_iter iter;
	unsigned int n;
	ssize_t ret;

	while (done < len) {
		size_t chunk = 0;

		for (n = 0; n < MODEGATE_PAGES_PER_COPY && done + chunk < len; n++) {
			size_t seg = min_t(size_t, len - done - chunk, PAGE_SIZE - off);

			bvec_set_page(&bv[n], *pages++, seg, off);
			chunk += seg;
			off = 0;
		}
		iov_iter_bvec(&iter, ITER_DEST, bv, n, chunk);
		ret = modegate_store_read(offset + done, &iter, &how);
		if (ret <= 0)
			return done ? done : ret;
		done += ret;
		if (ret < chunk)
			break;	/* end of the store's data */
	}
	return done;
}

/* Unpin @nr @pages mapping @uaddr, the first @written bytes written. */
static void modegate_unpin(u64 uaddr, struct page **pages, unsigned long nr,
			   size_t written)
{
	unsigned long dirty = min(modegate_span_pages(uaddr, written), nr);

	if (dirty)
		unpin_user_pages_dirty_lock(pages, dirty, true);
	if (nr > dirty)
		unpin_user_pages(pages + dirty, nr - dirty);
	modegate_count_sub(pinned_pages, nr);
}

/* ADOPT_MM */

static void modegate_adopt_deliver(struct modegate_request *first, unsigned int nr)
{
	struct mm_struct *mm = first->mm;
	enum modegate_fault *how = &first->ctx->fault;
	struct modegate_request *req = first;
	struct iov_iter iter;
	unsigned int i;

	if (!mmget_not_zero(mm)) {
		for (i = 0; i < nr; i++, req = modegate_next(req))
			req->comp.result = -ESRCH;
		return;
	}
	kthread_use_mm(mm);
	for (i = 0; i < nr; i++, req = modegate_next(req)) {
		iov_iter_ubuf(&iter, ITER_DEST, u64_to_user_ptr(req->buf), req->len);
		/* A stalled mmap lock costs the pass one poll, not one per request. */
		req->comp.result = modegate_store_read(req->offset, &iter, how);
		if (req->comp.result > 0)
			modegate_delivered(req, MODEGATE_DELIVER_WORKER);
	}
	kthread_unuse_mm(mm);
	mmput(mm);
}

/* PIN */

/*
 * May @vma hold a long-term pin for writing?  Anonymous memory, private
 * mappings (FOLL_WRITE breaks COW into an anonymous page), shmem and
 * hugetlbfs (a hugetlb memfd; neither is written back): yes.
 * A shared mapping of another file: its pages are written back behind the
 * pin.
 */
static bool modegate_pin_vma_ok(struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED) || !vma->vm_file)
		return true;
	return shmem_mapping(vma->vm_file->f_mapping) || is_vm_hugetlb_page(vma);
}

/* Pin @nr pages at @start for @req under mmap_read_lock, checking each vma. */
static long modegate_pin_locked(struct modegate_request *req, unsigned long start,
				unsigned long nr, struct page **pages)
{
	struct mm_struct *mm = current->mm;
	unsigned long end = start + nr * PAGE_SIZE, addr;
	struct vm_area_struct *vma;
	long got;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for (addr = start; addr < end; addr = vma->vm_end) {
		vma = vma_lookup(mm, addr);
		if (!vma) {
			got = -EFAULT;
			goto out;
		}
		if (!modegate_pin_vma_ok(vma)) {
			got = -EOPNOTSUPP;
			goto out;
		}
	}
	got = modegate_pin_user_pages(start, nr, FOLL_WRITE | FOLL_LONGTERM, pages);
out:
	mmap_read_unlock(mm);
	return got;
}

/* Give back the locked memory of @nr pages (in the worker: never sleeps). */
static void modegate_pin_uncharge(struct modegate_request *req, unsigned long nr)
{
	modegate_user_uncharge_pinned(req->user, req->mm, nr,
				      req->flags & MODEGATE_REQF_MEMLOCK);
	req->flags &= ~MODEGATE_REQF_MEMLOCK;
}

/*
 * Pinned pages are their user's locked memory (ctx.c charges them against
 * RLIMIT_MEMLOCK: -ENOMEM beyond it); the device's budget of
 * MODEGATE_ASYNC_MAX_PINNED_PAGES stays as a last bound (-EAGAIN).
 */
static int modegate_pin_prepare(struct modegate_request *req)
{
	unsigned long nr = modegate_span_pages(req->buf, req->len);
	struct page **pages = req->pin.inline_pages;
	long got;
	int ret;

	if (!nr || nr > INT_MAX)
		return -EINVAL;
	if (atomic_long_add_return(nr, &modegate_pin_budget) >
	    MODEGATE_ASYNC_MAX_PINNED_PAGES) {
		ret = -EAGAIN;
		goto err_budget;
	}
	ret = modegate_user_charge_pinned(req->user, req->mm, nr);
	if (ret < 0)
		goto err_budget;
	if (ret)
		req->flags |= MODEGATE_REQF_MEMLOCK;
	if (nr > MODEGATE_PIN_INLINE_PAGES) {
		pages = kvmalloc_array(nr, sizeof(*pages),
				       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!pages) {
			ret = -ENOMEM;
			goto err_uncharge;
		}
	}
	got = modegate_pin_locked(req, req->buf & PAGE_MASK, nr, pages);
	if (got != nr) {
		if (got > 0)
			unpin_user_pages(pages, got);
		ret = got < 0 ? got : -EFAULT;
		goto err_free_pages;
	}
	modegate_count_add(pinned_pages, nr);
	req->pin.pages = pages;
	req->pin.nr = nr;
	return 0;

err_free_pages:
	if (pages != req->pin.inline_pages)
		kvfree(pages);
err_uncharge:
	modegate_pin_uncharge(req, nr);
err_budget:
	atomic_long_sub(nr, &modegate_pin_budget);
	return ret;
}

static void modegate_pin_drop(struct modegate_request *req, size_t written)
{
	if (!req->pin.pages)
		return;
	modegate_unpin(req->buf, req->pin.pages, req->pin.nr, written);
	modegate_pin_uncharge(req, req->pin.nr);
	atomic_long_sub(req->pin.nr, &modegate_pin_budget);
	if (req->pin.pages != req->pin.inline_pages)
		kvfree(req->pin.pages);
	req->pin.pages = NULL;
	req->pin.nr = 0;
}

static void modegate_pin_deliver(struct modegate_request *first, unsigned int nr)
{
	struct modegate_request *req = first;
	bool alive = mmget_not_zero(first->mm);
	unsigned int i;
	s64 n;

	/*
	 * The pinned pages could be written even after the process is gone;
	 * the user reference makes -ESRCH mean what it means for the other
	 * strategies, and nothing lands after an exec.
	 */
	for (i = 0; i < nr; i++, req = modegate_next(req)) {
		n = alive ? modegate_copy_to_pages(req->buf, req->offset, req->pin.pages,
						   req->len) : -ESRCH;
		if (n > 0)
			modegate_delivered(req, MODEGATE_DELIVER_KMAP);
		req->comp.result = n;
		modegate_pin_drop(req, n > 0 ? n : 0);
	}
	if (alive)
		mmput(first->mm);
}

static void modegate_pin_release(struct modegate_request *req)
{
	modegate_pin_drop(req, 0);
}

/* REMOTE */

/*
 * Pin the captured mm's pages a chunk at a time, without waiting on user
 * space, and copy into them.  Bytes delivered (up to a hole, or the end of
 * the store's data), or -errno if none.  *@how: MODEGATE_FAULT_TRYLOCK once
 * the mmap lock could not be had in this pass, which then only tries it.
 */
static s64 modegate_remote_one(struct modegate_request *req, enum modegate_fault *how)
{
	struct page *pages[MODEGATE_PAGES_PER_COPY];
	u64 addr = req->buf;
	size_t done = 0, want;
	ssize_t n;
	long got;

	while (done < req->len) {
		want = min_t(size_t, req->len - done,
			     MODEGATE_PAGES_PER_COPY * PAGE_SIZE - offset_in_page(addr));
		got = modegate_store_pin_nowait(req->mm, addr & PAGE_MASK,
						modegate_span_pages(addr, want), pages,
						*how == MODEGATE_FAULT_NOWAIT, true);
		if (got == -EBUSY) {
			*how = MODEGATE_FAULT_TRYLOCK;
			got = -EAGAIN;
		}
		if (got < 0)
			return done ? done : got;
		modegate_count_add(pinned_pages, got);
		/* A hole part-way: deliver what the pinned pages cover. */
		want = min_t(size_t, want, got * PAGE_SIZE - offset_in_page(addr));
		n = modegate_copy_to_pages(addr, req->offset + done, pages, want);
		modegate_unpin(addr, pages, got, n);
		done += n;
		addr += n;
		if (n < want)
			break;
	}
	return done;
}

/*
 * A pass whose mmap lock stays taken (a stall) waits for it once: its
 * requests after the first that gave up only try it (async.c keeps that
 * for a second).
 */
static void modegate_remote_deliver(struct modegate_request *first, unsigned int nr)
{
	struct modegate_request *req = first;
	bool alive = mmget_not_zero(first->mm);
	unsigned int i;

	for (i = 0; i < nr; i++, req = modegate_next(req)) {
		req->comp.result = alive ? modegate_remote_one(req, &first->ctx->fault) :
					   -ESRCH;
		if (req->comp.result > 0)
			modegate_delivered(req, MODEGATE_DELIVER_KMAP);
	}
	if (alive)
		mmput(first->mm);
}

/* BUFFERED */

/*
 * The data waits in the kernel until the originator reaps it, for as long
 * as it likes: allocate it now, in the submitter's context, against its
 * memory cgroup and its user's budget, so that a flood is refused
 * (-EAGAIN) and one user cannot hold what others need.
 */
static int modegate_buffered_prepare(struct modegate_request *req)
{
	int ret;

	ret = modegate_user_charge_buffered(req->user, req->len);
	if (ret)
		return ret;
	req->kbuf.data = kvmalloc(req->len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!req->kbuf.data) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	ret = modegate_ring_watch_mm(req);
	if (ret)
		goto err_free;
	return 0;

err_free:
	kvfree(req->kbuf.data);
	req->kbuf.data = NULL;
err_uncharge:
	modegate_user_uncharge_buffered(req->user, req->len);
	return ret;
}

static void modegate_buffered_release(struct modegate_request *req)
{
	if (!req->kbuf.data)
		return;
	kvfree(req->kbuf.data);
	req->kbuf.data = NULL;
	modegate_user_uncharge_buffered(req->user, req->len);
	modegate_ring_unwatch_mm(req);
}

/* Fill the kernel buffer from the store; a kvec cannot fault. */
static s64 modegate_fill_kbuf(struct modegate_request *req)
{
	struct kvec kv = { .iov_base = req->kbuf.data, .iov_len = req->len };
	enum modegate_fault how = MODEGATE_FAULT_NOWAIT;	/* a kvec cannot fault */
	struct iov_iter iter;
	ssize_t n;

	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, req->len);
	n = modegate_store_read(req->offset, &iter, &how);
	req->kbuf.len = n > 0 ? n : 0;
	return n;
}

static void modegate_buffered_deliver(struct modegate_request *first, unsigned int nr)
{
	struct modegate_request *req = first;
	unsigned int i;

	for (i = 0; i < nr; i++, req = modegate_next(req)) {
		req->comp.result = modegate_fill_kbuf(req);
		req->for_originator = req->comp.result >= 0;
	}
}

static s64 modegate_buffered_reap(struct modegate_request *req)
{
	unsigned long left;

	/* Visible to another mm only once the originator's mm has exited. */
	if (current->mm != req->mm)
		return -ESRCH;
	if (!req->kbuf.len)
		return 0;
	left = copy_to_user(u64_to_user_ptr(req->buf), req->kbuf.data,
			    req->kbuf.len);
	if (left == req->kbuf.len)
		return -EFAULT;
	modegate_delivered(req, MODEGATE_DELIVER_ORIGINATOR);
	return req->kbuf.len - left;
}

/* NAIVE */

static int modegate_naive_prepare(struct modegate_request *req)
{
	s64 n;

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
	req->kbuf.data = kmalloc(req->len, GFP_KERNEL_ACCOUNT);
	if (!req->kbuf.data)
		return -ENOMEM;
	req->kbuf.euid = current_euid();
	n = modegate_fill_kbuf(req);
	return n < 0 ? n : 0;
}

static void modegate_naive_irq(struct modegate_request *req)
{
	/*
	 * This is the bug the demo shows: in the interrupt, the user half of
	 * the page tables is the interrupted task's, so the submitter's
	 * address is resolved in the bystander's address space (when the
	 * interrupted task is a consenting bystander: bystander.c).
	 */
	if (!req->kbuf.len ||
	    !modegate_bystander_write(req->kbuf.euid, u64_to_user_ptr(req->buf),
				      req->kbuf.data, req->kbuf.len))
		return;
	req->comp.ctx_flags |= MODEGATE_CTX_WRONG_PROCESS;
	modegate_delivered(req, MODEGATE_DELIVER_BYSTANDER);
	req->comp.t_deliver_ns = ktime_get_ns();
}

static void modegate_naive_deliver(struct modegate_request *first, unsigned int nr)
{
	struct modegate_request *req = first;
	unsigned int i;

	for (i = 0; i < nr; i++, req = modegate_next(req))
		req->comp.result = -EXDEV;
}

static void modegate_naive_release(struct modegate_request *req)
{
	kfree(req->kbuf.data);
	req->kbuf.data = NULL;
}

static const struct modegate_strategy modegate_strategies[] = {
	[MODEGATE_STRAT_ADOPT_MM] = {
		.name = "ADOPT_MM",
		.deliver = modegate_adopt_deliver,
	},
	[MODEGATE_STRAT_PIN] = {
		.name = "PIN",
		.prepare = modegate_pin_prepare,
		.deliver = modegate_pin_deliver,
		.release = modegate_pin_release,
	},
	[MODEGATE_STRAT_REMOTE] = {
		.name = "REMOTE",
		.deliver = modegate_remote_deliver,
	},
	[MODEGATE_STRAT_BUFFERED] = {
		.name = "BUFFERED",
		.prepare = modegate_buffered_prepare,
		.deliver = modegate_buffered_deliver,
		.reap = modegate_buffered_reap,
		.release = modegate_buffered_release,
	},
	[MODEGATE_STRAT_NAIVE] = {
		.name = "NAIVE",
		.prepare = modegate_naive_prepare,
		.irq = modegate_naive_irq,
		.deliver = modegate_naive_deliver,
		.release = modegate_naive_release,
	},
};

/**
 * modegate_strategy_get() - the strategy for a MODEGATE_STRAT_* id
 * @id: from the request.
 *
 * Return: the table entry, or NULL for an unknown id.
 */
const struct modegate_strategy *modegate_strategy_get(u32 id)
{
	BUILD_BUG_ON(ARRAY_SIZE(modegate_strategies) != MODEGATE_STRAT_MAX + 1);
	if (id >= ARRAY_SIZE(modegate_strategies) || !modegate_strategies[id].deliver)
		return NULL;
	return &modegate_strategies[array_index_nospec(id, ARRAY_SIZE(modegate_strategies))];
}
