// SPDX-License-Identifier: GPL-2.0
/*
 * modegate store: one buffer per device that behaves like a small file.
 *
 * Every open file description shares it: "echo hi > /dev/modegate" then
 * "cat /dev/modegate" prints hi.  The capacity is the module parameter
 * store_size; the used length is the end of file.  A read copies from the
 * file position up to the used length; a write stores at the file position
 * (at the end under O_APPEND), extends the used length, writes what fits
 * and fails with -ENOSPC when nothing does.  Bytes between the old end of
 * file and a write past it read as zero.
 *
 * Locking design: one copy per byte
 * ---------------------------------
 * One mutex, modegate_store.lock, protects the bytes and the used length.
 * User memory is copied straight to and from the store under it -- one copy
 * per byte, no bounce buffer, no allocation per call -- but never with a
 * page fault that could sleep while the lock is held.  This is the pattern
 * of generic_perform_write() in mm/filemap.c:
 *
 *   1. Under the lock, with page faults disabled, copy_to_iter() or
 *      copy_from_iter() moves as much as it can and stops at the first
 *      byte whose page is not present.  It never sleeps.
 *   2. On a short copy, drop the lock and fault the rest of the range in
 *      (fault_in_iov_iter_writeable() for a read's destination -- it does
 *      not write the buffer -- or fault_in_iov_iter_readable() for a
 *      write's source), with no lock held, then go back to 1.
 *   3. When the fault-in cannot make the first byte present, stop: the
 *      bytes copied so far are the result, or -EFAULT if there are none.
 *
 * Why this keeps every promise a copy through a bounce buffer would keep:
 *
 *  - A stalled copy blocks no other opener: the only sleep on user memory
 *    (a userfaultfd that never answers, a page in from swap or FUSE) is the
 *    fault-in of step 2, and the lock is not held there.
 *  - A failed or short write changes no byte beyond the count it returns:
 *    copy_from_iter() does not zero-fill what it could not read (unlike
 *    copy_from_user()), it stops exactly at the fault, and the used length
 *    grows only by what was copied.  The gap past the old end of file is
 *    zeroed only once at least one byte has landed after it.
 *  - Reads are honest partials: a read that faults part-way returns the
 *    bytes copied; nothing copied is -EFAULT.
 *  - Each lock hold moves at most MODEGATE_STORE_CHUNK bytes, committed
 *    atomically: readers never see a torn used length, concurrent writers
 *    to disjoint regions all land, and under O_APPEND each chunk goes to
 *    the end of file as it is then (a call larger than a chunk is not
 *    atomic as a whole, like a pipe write above PIPE_BUF).
 *
 * Deliveries never wait on user space
 * ------------------------------------
 * The async engine's deliveries (deliver.c) read with @how set into an
 * adopted address space, or pin their destination with
 * modegate_store_pin_nowait(), on behalf of a process that may stall them
 * forever.  Step 2 is then modegate_store_pin_nowait() too, which waits on
 * nobody's user space:
 *
 *  - the mmap lock is only polled, for MODEGATE_STORE_LOCK_WAIT_MS at
 *    most: a thread of the process stuck in a fault on FUSE with the lock
 *    held, and an mmap() or munmap() queued behind it for writing, would
 *    make a plain mmap_read_lock() wait as long as the FUSE daemon does;
 *  - faults do not wait (FOLL_NOWAIT: a userfaultfd nobody answers stops
 *    them at once);
 *  - only memory that no filesystem reads in is faulted in: anonymous,
 *    shmem (memfd, tmpfs) and hugetlbfs.  A fault on another file's
 *    mapping may wait for the filesystem to read the page (FUSE: its
 *    daemon), and FOLL_NOWAIT does not stop filemap_fault()'s read, so
 *    there a page must already be mapped writable (FOLL_NOFAULT).
 *
 * A page that cannot be made present so ends the copy there: the bytes
 * before it are the result, or -EAGAIN if there are none.  The store's own
 * read() and write() fault in as usual: their caller waits only on its own
 * address space.
 */
#include "modegate.h"

#include <linux/delay.h>
#include <linux/hugetlb_inline.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/sizes.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

/* Bytes moved per lock hold. */
#define MODEGATE_STORE_CHUNK	SZ_64K
/* Fault-ins in a row after which a copy that moves nothing gives up. */
#define MODEGATE_STORE_RETRIES	3
/*
 * How long a delivery waits for the mmap lock at most, polling it about
 * every MODEGATE_STORE_LOCK_GAP_US microseconds: a try fails while anyone
 * waits for the lock, so under a stream of mmap() calls only frequent
 * tries find it free.
 */
#define MODEGATE_STORE_LOCK_WAIT_MS	50
#define MODEGATE_STORE_LOCK_GAP_US	100

struct modegate_store {
	struct mutex lock;	/* protects data[] and used (written with WRITE_ONCE) */
	u8 *data;
	size_t capacity;	/* constant after init */
	size_t used;		/* end of file */
};

static struct modegate_store modegate_store;

size_t modegate_store_capacity(void)
{
	return modegate_store.capacity;
}

/* Lockless: a snapshot, as i_size_read() is for a file. */
size_t modegate_store_used(void)
{
	return READ_ONCE(modegate_store.used);
}

/* open(O_TRUNC) for writing. */
void modegate_store_truncate(void)
{
	mutex_lock(&modegate_store.lock);
	WRITE_ONCE(modegate_store.used, 0);
	mutex_unlock(&modegate_store.lock);
}

/*
 * Step 1 of a read: under the lock, faults disabled, copy up to @max bytes
 * at @pos.  *@want is set to what was there to copy (0 at end of file).
 */
static size_t modegate_store_read_atomic(loff_t pos, struct iov_iter *to,
					 size_t max, size_t *want)
{
	struct modegate_store *s = &modegate_store;
	size_t copied = 0;

	*want = 0;
	mutex_lock(&s->lock);
	if (pos < s->used) {
		*want = min3(max, iov_iter_count(to), s->used - (size_t)pos);
		pagefault_disable();
		copied = copy_to_iter(s->data + pos, *want, to);
		pagefault_enable();
	}
	mutex_unlock(&s->lock);
	return copied;
}

/*
 * @mm's mmap lock for reading, if it is free or, when @wait, comes free
 * within MODEGATE_STORE_LOCK_WAIT_MS: see "Deliveries never wait on user
 * space" above.  The polling lets an ordinary mmap() or munmap() of the
 * process, or a lock holder the scheduler keeps off the CPU, finish
 * instead of failing the delivery.
 */
static bool modegate_store_mmap_trylock(struct mm_struct *mm, bool wait)
{
	u64 until = 0, now;

	while (!mmap_read_trylock(mm)) {
		if (!wait)
			return false;
		now = ktime_get_ns();
		if (!until)
			until = now + MODEGATE_STORE_LOCK_WAIT_MS * NSEC_PER_MSEC;
		else if (now >= until)
			return false;
		usleep_range(MODEGATE_STORE_LOCK_GAP_US, 2 * MODEGATE_STORE_LOCK_GAP_US);
	}
	return true;
}

/* May a delivery fault pages of @vma in?  Memory no filesystem reads in. */
static bool modegate_store_may_fault(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) || !vma->vm_file ||
	       shmem_mapping(vma->vm_file->f_mapping) || is_vm_hugetlb_page(vma);
}

/**
 * modegate_store_pin_nowait() - pin a delivery's destination pages
 * @mm: the address space; the caller holds a user reference on it.
 * @start: page-aligned user address.
 * @nr: pages wanted; fewer are pinned past the end of @start's vma.
 * @pages: out: the pinned pages, for unpin_user_pages().
 * @wait_lock: poll the mmap lock for a while if it is taken; else try it
 *	once.
 * @dirty: the caller writes through the pins and dirties the pages: a
 *	shared mapping of a file other than shmem or hugetlbfs is refused,
 *	since dirtying its page takes the page lock, which a filesystem (FUSE)
 *	may hold while it waits on user space.
 *
 * For writing, without waiting on user space: see "Deliveries never wait
 * on user space" at the top of this file.
 *
 * Context: process context or a kthread; sleeps between the tries at the
 * mmap lock.
 * Return: pages pinned from @start (at least one); -EBUSY when the mmap
 * lock could not be had; -EOPNOTSUPP for @dirty in a shared file mapping;
 * -EAGAIN when the first page could be made present only by waiting (on a
 * userfaultfd or a filesystem); -EFAULT when nothing writable is mapped at
 * @start.
 */
long modegate_store_pin_nowait(struct mm_struct *mm, unsigned long start,
			       unsigned long nr, struct page **pages,
			       bool wait_lock, bool dirty)
{
	unsigned int flags = FOLL_WRITE | FOLL_NOWAIT;
	struct vm_area_struct *vma;
	long got;

	if (!modegate_store_mmap_trylock(mm, wait_lock))
		return -EBUSY;
	vma = vma_lookup(mm, start);
	if (!vma) {
		got = -EFAULT;
		goto out;
	}
	nr = min(nr, (vma->vm_end - start) >> PAGE_SHIFT);
	if (!modegate_store_may_fault(vma)) {
		if (dirty && (vma->vm_flags & VM_SHARED)) {
			got = -EOPNOTSUPP;
			goto out;
		}
		flags |= FOLL_NOFAULT;
	}
	got = modegate_pin_user_pages_remote(mm, start, nr, flags, pages);
	if (!got)
		got = -EAGAIN;	/* the fault would have waited */
	else if (got == -EFAULT && (flags & FOLL_NOFAULT) &&
		 (vma->vm_flags & (VM_WRITE | VM_IO | VM_PFNMAP)) == VM_WRITE)
		got = -EAGAIN;	/* a file page not mapped writable yet */
out:
	mmap_read_unlock(mm);
	return got;
}

/*
 * Step 2 of a delivery's read: make the page at the iterator's position
 * present, without waiting on user space.  Only ITER_UBUF destinations
 * fault: kvecs and bvecs of pinned pages cannot.  Returns 0, -EFAULT
 * (nothing writable mapped there) or -EAGAIN.
 */
static int modegate_store_fault_in_nowait(struct iov_iter *to, enum modegate_fault *how)
{
	unsigned long addr = (unsigned long)to->ubuf + to->iov_offset;
	struct page *page;
	long got;

	if (!iter_is_ubuf(to) || !current->mm)
		return -EFAULT;
	got = modegate_store_pin_nowait(current->mm, addr & PAGE_MASK, 1, &page,
					*how == MODEGATE_FAULT_NOWAIT, false);
	/* Once the lock stayed taken, the rest of the run only tries it. */
	if (got == -EBUSY)
		*how = MODEGATE_FAULT_TRYLOCK;
	if (got < 0)
		return got == -EAGAIN || got == -EBUSY ? -EAGAIN : -EFAULT;
	unpin_user_page(page);
	return 0;
}

/* Step 2: fault in @len bytes at the iterator.  0, -EFAULT or -EAGAIN. */
static int modegate_store_fault_in(struct iov_iter *to, size_t len,
				   enum modegate_fault *how)
{
	if (how && *how != MODEGATE_FAULT_WAIT)
		return modegate_store_fault_in_nowait(to, how);
	/* Only this caller sleeps here: the lock is not held. */
	return fault_in_iov_iter_writeable(to, len) == len ? -EFAULT : 0;
}

/**
 * modegate_store_read() - copy store bytes to an iov_iter, one copy per byte
 * @pos: store offset.
 * @to: destination.
 * @how: NULL or MODEGATE_FAULT_WAIT: a read(), whose faults may sleep;
 *	else a delivery, which never waits on user space for a fault.  A
 *	delivery that finds the mmap lock held past the poll has @how set to
 *	MODEGATE_FAULT_TRYLOCK, which the rest of its run passes on.
 *
 * Context: process context, or a kthread that adopted the right mm.
 * Return: bytes copied, 0 at or after the end of file, -EFAULT when a
 * fault stopped the copy before any byte, -EAGAIN when a delivery stopped
 * at a page that could be made present only by waiting.
 */
ssize_t modegate_store_read(loff_t pos, struct iov_iter *to, enum modegate_fault *how)
{
	size_t done = 0, want, copied;
	unsigned int stuck = 0;
	int fault = 0;

	if (pos < 0)
		return 0;
	while (iov_iter_count(to)) {
		copied = modegate_store_read_atomic(pos + done, to,
						    MODEGATE_STORE_CHUNK, &want);
		done += copied;
		if (!want)
			break;
		stuck = copied ? 0 : stuck + 1;
		if (copied < want) {
			fault = stuck > MODEGATE_STORE_RETRIES ? -EFAULT :
				modegate_store_fault_in(to, want - copied, how);
			if (fault)
				break;
		}
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	if (fault)
		modegate_count(faults);
	return done ? done : fault;
}

/*
 * Step 1 of a write: under the lock, faults disabled, copy up to @max
 * bytes to *@pos (the end of file when @append), and set *@pos to where
 * they went.  Returns the bytes copied; *@room is what fitted.
 */
static size_t modegate_store_write_atomic(loff_t *pos, bool append,
					  struct iov_iter *from, size_t max,
					  size_t *room)
{
	struct modegate_store *s = &modegate_store;
	size_t copied = 0, used;

	*room = 0;
	mutex_lock(&s->lock);
	used = s->used;
	if (append)
		*pos = used;
	if (*pos < s->capacity) {
		*room = min3(max, iov_iter_count(from), s->capacity - (size_t)*pos);
		pagefault_disable();
		copied = copy_from_iter(s->data + *pos, *room, from);
		pagefault_enable();
		if (copied) {
			if (*pos > used)
				memset(s->data + used, 0, *pos - used);
			WRITE_ONCE(s->used, max_t(size_t, used, *pos + copied));
		}
	}
	mutex_unlock(&s->lock);
	return copied;
}

/**
 * modegate_store_write() - copy bytes from an iov_iter into the store
 * @pos: in: where to write (ignored with @append); out: after the last byte.
 * @append: O_APPEND: each chunk goes to the end of file.
 * @from: source.
 *
 * Context: process context.
 * Return: bytes written; -ENOSPC when none fit, -EFAULT when a fault
 * stopped the copy before any byte.
 */
ssize_t modegate_store_write(loff_t *pos, bool append, struct iov_iter *from)
{
	size_t done = 0, room, copied;
	unsigned int stuck = 0;
	bool faulted = false;

	if (!iov_iter_count(from))
		return 0;
	while (iov_iter_count(from)) {
		copied = modegate_store_write_atomic(pos, append, from,
						     MODEGATE_STORE_CHUNK, &room);
		done += copied;
		*pos += copied;
		if (!room)
			break;
		stuck = copied ? 0 : stuck + 1;
		if (copied < room &&
		    (stuck > MODEGATE_STORE_RETRIES ||
		     fault_in_iov_iter_readable(from, room - copied) == room - copied)) {
			faulted = true;
			break;
		}
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	if (faulted)
		modegate_count(faults);
	if (done)
		return done;
	return faulted ? -EFAULT : -ENOSPC;
}

int modegate_store_init(size_t capacity)
{
	mutex_init(&modegate_store.lock);
	modegate_store.data = kvzalloc(capacity, GFP_KERNEL);
	if (!modegate_store.data)
		return -ENOMEM;
	modegate_store.capacity = capacity;
	modegate_store.used = 0;
	return 0;
}

void modegate_store_exit(void)
{
	kvfree(modegate_store.data);
	modegate_store.data = NULL;
}
