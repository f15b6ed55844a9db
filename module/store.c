// SPDX-License-Identifier: GPL-2.0
/*
 * modegate store (first cut; the real locking design lands with the
 * synchronous data path).
 */
#include "modegate.h"

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "trace.h"

struct modegate_store {
	struct mutex lock;	/* protects used and data */
	u8 *data;
	size_t capacity;
	size_t used;
};

static struct modegate_store modegate_store;

size_t modegate_store_capacity(void)
{
	return modegate_store.capacity;
}

size_t modegate_store_used(void)
{
	return READ_ONCE(modegate_store.used);
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
		modegate_store.used = 0;
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
	struct modegate_store *s = &modegate_store;
	size_t len, copied;

	mutex_lock(&s->lock);
	if (iocb->ki_pos >= s->used) {
		mutex_unlock(&s->lock);
		return 0;
	}
	len = min_t(size_t, iov_iter_count(to), s->used - iocb->ki_pos);
	copied = copy_to_iter(s->data + iocb->ki_pos, len, to);
	mutex_unlock(&s->lock);
	if (!copied && len)
		return -EFAULT;
	iocb->ki_pos += copied;
	return copied;
}

static ssize_t modegate_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct modegate_store *s = &modegate_store;
	size_t len, copied;

	mutex_lock(&s->lock);
	if (iocb->ki_flags & IOCB_APPEND)
		iocb->ki_pos = s->used;
	if (iocb->ki_pos >= s->capacity) {
		mutex_unlock(&s->lock);
		return -ENOSPC;
	}
	len = min_t(size_t, iov_iter_count(from), s->capacity - iocb->ki_pos);
	copied = copy_from_iter(s->data + iocb->ki_pos, len, from);
	if (iocb->ki_pos + copied > s->used)
		s->used = iocb->ki_pos + copied;
	mutex_unlock(&s->lock);
	if (!copied && len)
		return -EFAULT;
	iocb->ki_pos += copied;
	return copied;
}

static loff_t modegate_llseek(struct file *file, loff_t off, int whence)
{
	return fixed_size_llseek(file, off, whence, modegate_store_used());
}

static __poll_t modegate_poll(struct file *file, struct poll_table_struct *wait)
{
	return EPOLLOUT | EPOLLWRNORM | modegate_async_poll(file, wait);
}

const struct file_operations modegate_fops = {
	.owner = THIS_MODULE,
	.open = modegate_open,
	.release = modegate_release,
	.read_iter = modegate_read_iter,
	.write_iter = modegate_write_iter,
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
}
