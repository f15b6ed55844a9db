/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The blast-radius demo's content format and its two parsers, compiled
 * twice: into mgparse (user mode) and into mgcrash.ko (kernel mode).
 *
 * A blob is a header (magic, record count) and the records.  The trusting
 * parser believes the count, as the 2024 content-update outage's kernel
 * driver believed its content file: a blob that claims more records than
 * it holds makes it read past the end of the buffer.  The validated parser
 * checks the count against the blob's length first and refuses the blob
 * with -EINVAL.
 */
#ifndef MGCRASH_RECORD_H
#define MGCRASH_RECORD_H

#ifdef __KERNEL__
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/types.h>
/* Out of line, so that the oops names the parser. */
#define mgcrash_parser	noinline
#else
#include <errno.h>
#include <stddef.h>
#include <linux/types.h>
#define mgcrash_parser	inline
#endif

#define MGCRASH_MAGIC		0x5443474dU	/* "MGCT" */
/* The largest blob the kernel parser takes (one write). */
#define MGCRASH_MAX_BLOB	(1024 * 1024)

struct mgcrash_header {
	__u32 magic;
	__u32 count;	/* records that follow: nobody promised it is true */
};

struct mgcrash_record {
	__u32 kind;
	__u32 flags;
	__u64 value;
};

/* Trusts the header's count: the outage's mistake. */
static mgcrash_parser long mgcrash_parse_trusting(const void *blob, size_t len, __u64 *sum)
{
	const struct mgcrash_header *h = blob;
	const struct mgcrash_record *r = (const void *)(h + 1);
	__u32 i;

	(void)len;
	*sum = 0;
	for (i = 0; i < h->count; i++)
		*sum += r[i].value;
	return h->count;
}

/* Checks the count against the length before reading one record. */
static mgcrash_parser long mgcrash_parse_validated(const void *blob, size_t len, __u64 *sum)
{
	const struct mgcrash_header *h = blob;

	if (len < sizeof(*h) || h->magic != MGCRASH_MAGIC ||
	    h->count > (len - sizeof(*h)) / sizeof(struct mgcrash_record))
		return -EINVAL;
	return mgcrash_parse_trusting(blob, len, sum);
}

#endif
