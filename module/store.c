// SPDX-License-Identifier: GPL-2.0
/*
 * modegate store: one buffer per device that behaves like a small file.
 *
 * Every open file description shares it: "echo hi > /dev/modegate" then
 * "cat /dev/modegate" prints hi.  The capacity is the module parameter
 * store_size; the used length is the end of file.  read() copies from the
 * file position up to the used length; write() stores at the file position
 * (at the end under O_APPEND), extends the used length, writes what fits
 * and fails with -ENOSPC when nothing does; open(O_TRUNC) for writing
 * empties the store.
 *
 * Locking design
 * --------------
 * One mutex, modegate_store.lock, protects the store's bytes and its used
 * length.  It is never held while user memory is touched:
 *
 *   read:   lock; memcpy store -> bounce; unlock; copy_to_iter(bounce)
 *   write:  copy_from_iter(bounce) ; lock; memcpy bounce -> store,
 *           update used; unlock
 *
 * The bounce buffer is one kmalloc'd chunk (at most a page) per call, a
 * proper heap object as hardened usercopy wants.  Touching user memory can
 * sleep for as long as user space likes (a page fault in from swap, a
 * userfaultfd handler that never answers), so holding the lock across it
 * would let one stalled reader or writer block every other opener of the
 * device.  With the bounce buffer a stalled copy holds nothing.
 *
 * Faults are honest:
 *
 *  - A read that faults part-way returns the bytes copied; nothing copied
 *    is -EFAULT.
 *  - copy_from_user() zero-fills what it could not read, so user data is
 *    never copied straight into the store: only the bytes that arrived in
 *    the bounce buffer are committed.  A failed or short write leaves every
 *    byte beyond the count it reports unchanged, and the used length grows
 *    only by what was written.
 *
 * Each chunk is committed atomically under the lock, so readers never see
 * a torn used length, and concurrent writers to disjoint regions all land.
 * A call larger than one chunk is not atomic as a whole (like a pipe write
 * above PIPE_BUF): a concurrent writer may interleave between chunks, and
 * under O_APPEND each chunk goes to the end of file as it is then.
 *
 * Bytes between the old end of file and a write past it read as zero.
 */
#include "modegate.h"

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "trace.h"

/* Bytes moved per lock hold, and the size of the bounce buffer. */
#define MODEGATE_STORE_CHUNK	PAGE_SIZE

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

/**
 * modegate_store_copy_out() - copy store bytes into a kernel buffer
 * @pos: store offset.
 * @dst: kernel buffer of at least @len bytes.
 * @len: bytes wanted.
 *
 * Context: process context; may sleep.  The copy is atomic with respect to
 * writers.
 * Return: bytes copied: fewer than @len at the end of file, 0 at or after
 * it.
 */
ssize_t modegate_store_copy_out(loff_t pos, void *dst, size_t len)
{
	struct modegate_store *s = &modegate_store;
	size_t n = 0;

	might_sleep();
	if (pos < 0)
		return 0;
	mutex_lock(&s->lock);
	if (pos < s->used) {
		n = min_t(size_t, len, s->used - pos);
		memcpy(dst, s->data + pos, n);
	}
	mutex_unlock(&s->lock);
	return n;
}

/*
 * Commit @len bytes of @src at *@pos (at the end of file when @append) and
 * return how many fit.  *@pos is set to where they went.
 */
static size_t modegate_store_commit(loff_t *pos, bool append, const void *src,
				    size_t len)
{
	struct modegate_store *s = &modegate_store;
	size_t n = 0;

	mutex_lock(&s->lock);
	if (append)
		*pos = s->used;
	if (*pos < s->capacity) {
		n = min_t(size_t, len, s->capacity - *pos);
		if (*pos > s->used)
			memset(s->data + s->used, 0, *pos - s->used);
		memcpy(s->data + *pos, src, n);
		WRITE_ONCE(s->used, max_t(size_t, s->used, *pos + n));
	}
	mutex_unlock(&s->lock);
	return n;
}

/**
 * modegate_store_read_to_iter() - copy store bytes to an iov_iter
 * @pos: store offset.
 * @to: destination; user memory is touched with no lock held.
 *
 * Context: process context (or a kthread that adopted the right mm).
 * Return: bytes copied, 0 at or after the end of file, -EFAULT when a
 * fault stopped the copy before any byte, -ENOMEM.
 */
ssize_t modegate_store_read_to_iter(loff_t pos, struct iov_iter *to)
{
	size_t want = iov_iter_count(to);
	size_t done = 0;
	bool faulted = false;
	void *bounce;

	if (!want || pos < 0 || pos >= modegate_store_used())
		return 0;
	bounce = kmalloc(min_t(size_t, want, MODEGATE_STORE_CHUNK), GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	while (done < want) {
		size_t n, copied;

		n = modegate_store_copy_out(pos + done, bounce,
					    min_t(size_t, want - done, MODEGATE_STORE_CHUNK));
		if (!n)
			break;
		copied = copy_to_iter(bounce, n, to);
		done += copied;
		if (copied < n) {
			faulted = true;
			break;
		}
	}
	kfree(bounce);
	if (faulted)
		modegate_count(faults);
	return done || !faulted ? done : -EFAULT;
}

/* Store bytes from @from at *@pos; see the locking design above. */
static ssize_t modegate_store_write_from_iter(loff_t *pos, bool append,
					      struct iov_iter *from)
{
	struct modegate_store *s = &modegate_store;
	size_t want = iov_iter_count(from);
	size_t done = 0;
	bool faulted = false;
	void *bounce;

	if (!want)
		return 0;
	if (!append && *pos >= s->capacity)
		return -ENOSPC;
	bounce = kmalloc(min_t(size_t, want, MODEGATE_STORE_CHUNK), GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	while (done < want) {
		size_t n = min_t(size_t, want - done, MODEGATE_STORE_CHUNK);
		size_t copied, stored;

		/* Size the chunk to the room left, so that little is undone. */
		if (!append)
			n = min_t(size_t, n, s->capacity - min_t(loff_t, *pos, s->capacity));
		if (!n)
			break;
		copied = copy_from_iter(bounce, n, from);
		if (copied < n)
			faulted = true;
		stored = copied ? modegate_store_commit(pos, append, bounce, copied) : 0;
		if (stored < copied)
			iov_iter_revert(from, copied - stored);
		done += stored;
		*pos += stored;
		if (faulted || stored < n)
			break;
	}
	kfree(bounce);
	if (faulted)
		modegate_count(faults);
	if (done)
		return done;
	return faulted ? -EFAULT : -ENOSPC;
}

static int modegate_open(struct inode *inode, struct file *file)
{
	struct modegate_file *mf;
	int ret;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL);
	if (!mf)
		return -ENOMEM;
	ret = modegate_async_open(mf);
	if (ret) {
		kfree(mf);
		return ret;
	}
	if ((file->f_flags & O_TRUNC) && (file->f_mode & FMODE_WRITE)) {
		mutex_lock(&modegate_store.lock);
		WRITE_ONCE(modegate_store.used, 0);
		mutex_unlock(&modegate_store.lock);
	}
	file->private_data = mf;
	modegate_count(open_files);
	trace_modegate_open(true, file->f_flags);
	return 0;
}

static int modegate_release(struct inode *inode, struct file *file)
{
	struct modegate_file *mf = file->private_data;

	trace_modegate_open(false, file->f_flags);
	modegate_async_release(mf);
	kfree(mf);
	modegate_count_dec(open_files);
	return 0;
}

static ssize_t modegate_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	size_t len = iov_iter_count(to);
	loff_t pos = iocb->ki_pos;
	ssize_t ret;

	ret = modegate_store_read_to_iter(pos, to);
	if (ret > 0) {
		iocb->ki_pos += ret;
		modegate_count_add(bytes_read, ret);
	}
	modegate_count(reads);
	trace_modegate_rw(false, pos, len, ret);
	modegate_trace_crossing("read", pos, len, ret);
	return ret;
}

static ssize_t modegate_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	bool append = iocb->ki_flags & IOCB_APPEND;
	size_t len = iov_iter_count(from);
	loff_t pos = iocb->ki_pos;
	ssize_t ret;

	ret = modegate_store_write_from_iter(&iocb->ki_pos, append, from);
	if (ret > 0) {
		modegate_count_add(bytes_written, ret);
		pos = iocb->ki_pos - ret;
	}
	modegate_count(writes);
	trace_modegate_rw(true, pos, len, ret);
	modegate_trace_crossing("write", pos, len, ret);
	return ret;
}

/* Offsets range over the capacity; SEEK_END, SEEK_DATA, SEEK_HOLE use the used length. */
static loff_t modegate_llseek(struct file *file, loff_t off, int whence)
{
	return generic_file_llseek_size(file, off, whence,
					modegate_store_capacity(),
					modegate_store_used());
}

/* The store never blocks: always readable and writable; EPOLLPRI is async. */
static __poll_t modegate_poll(struct file *file, struct poll_table_struct *wait)
{
	return EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM |
	       modegate_async_poll(file, wait);
}

const struct file_operations modegate_fops = {
	.owner = THIS_MODULE,
	.open = modegate_open,
	.release = modegate_release,
	.read_iter = modegate_read_iter,
	.write_iter = modegate_write_iter,
	.splice_read = modegate_splice_read,
	.splice_write = iter_file_splice_write,
	.llseek = modegate_llseek,
	.poll = modegate_poll,
	.unlocked_ioctl = modegate_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

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
