// SPDX-License-Identifier: GPL-2.0
/*
 * modegate info: the mode evidence of MODEGATE_IOC_INFO.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <fcntl.h>

#include "mgtool.h"

int cmd_info(int argc, char **argv)
{
	struct modegate_info info;
	int fd;

	fd = mg_open_dev(O_RDONLY);
	if (fd < 0)
		return MG_EXIT_NODEV;
	if (ioctl(fd, MODEGATE_IOC_INFO, &info)) {
		fprintf(stderr, "modegate: MODEGATE_IOC_INFO: %s\n", strerror(errno));
		close(fd);
		return MG_EXIT_FAIL;
	}
	close(fd);
	if (mg_json) {
		printf("{\"abi_version\":%u,\"page_size\":%u,\"features\":%llu,\"task_size\":%llu,"
		       "\"caller_cpl\":%u,\"handler_cpl\":%u,\"mode_flags\":%u,"
		       "\"store_capacity\":%llu,\"store_used\":%llu}\n",
		       info.abi_version, info.page_size,
		       (unsigned long long)info.features,
		       (unsigned long long)info.task_size, info.caller_cpl,
		       info.handler_cpl, info.mode_flags,
		       (unsigned long long)info.store_capacity,
		       (unsigned long long)info.store_used);
		return MG_EXIT_OK;
	}
	printf("ABI version      %u\n", info.abi_version);
	printf("page size        %u\n", info.page_size);
	printf("TASK_SIZE        %#llx (%.1f TiB)\n",
	       (unsigned long long)info.task_size,
	       (double)info.task_size / (1ULL << 40));
	printf("caller entered   from ring %u (%s)\n", info.caller_cpl,
	       info.mode_flags & MODEGATE_MODE_USER_ENTRY ? "user mode" : "kernel mode");
	printf("handler runs     in ring %u\n", info.handler_cpl);
	printf("SMAP %s, SMEP %s, PTI %s, UMIP %s, hardened usercopy %s\n",
	       info.mode_flags & MODEGATE_MODE_SMAP ? "on" : "off",
	       info.mode_flags & MODEGATE_MODE_SMEP ? "on" : "off",
	       info.mode_flags & MODEGATE_MODE_PTI ? "on" : "off",
	       info.mode_flags & MODEGATE_MODE_UMIP ? "on" : "off",
	       info.mode_flags & MODEGATE_MODE_HARDENED_USERCOPY ? "on" : "off");
	printf("store            %llu of %llu bytes used\n",
	       (unsigned long long)info.store_used,
	       (unsigned long long)info.store_capacity);
	return MG_EXIT_OK;
}
