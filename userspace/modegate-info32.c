// SPDX-License-Identifier: GPL-2.0
/*
 * modegate-info32: MODEGATE_IOC_INFO from a 32-bit process (built -m32
 * -static), for the tour's step on the user/kernel split: the kernel sees
 * a compat task with a TASK_SIZE of at most 4 GiB.  One line of key=value.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/modegate.h>

int main(void)
{
	struct modegate_info info;
	int fd, stack_var = 0;

	fd = open("/dev/" MODEGATE_DEVICE_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "modegate-info32: /dev/modegate: %s\n", strerror(errno));
		return 3;
	}
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, MODEGATE_IOC_INFO, &info)) {
		fprintf(stderr, "modegate-info32: MODEGATE_IOC_INFO: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("ptr_bits=%u abi_version=%u task_size=%#llx caller_cpl=%u handler_cpl=%u mode_flags=%#x stack=%#lx ioctls=1 opens=1 closes=1\n",
	       (unsigned int)sizeof(void *) * 8, info.abi_version,
	       (unsigned long long)info.task_size, info.caller_cpl, info.handler_cpl,
	       info.mode_flags, (unsigned long)&stack_var);
	return 0;
}
