/* netns.c: see netns.h. */
#include "backend/netns.h"
#include "backend/util.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int touch(const char *path)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	int r = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	close(s);
	return r;
}

int netns_create(const char *path, char **err)
{
	int r = touch(path);
	if (r < 0) {
		*err = xasprintf("create %s: %s", path, strerror(-r));
		return r;
	}
	/* The child makes the namespace and pins it; the parent's own network
	 * namespace is untouched. Only system calls run in the child. */
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		*err = xasprintf("fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		int e = 0;
		if (unshare(CLONE_NEWNET) < 0)
			e = errno;
		else if ((e = -loopback_up()) != 0)
			;
		else if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
			e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(1);
		_exit(e ? 1 : 0);
	}
	close(pfd[1]);
	int e = EIO;
	if (read(pfd[0], &e, sizeof(e)) != sizeof(e))
		e = EIO;
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (e) {
		*err = xasprintf("network namespace %s: %s", path, strerror(e));
		unlink(path);
		return -e;
	}
	return 0;
}

int ns_pin(pid_t pid, const char *type, const char *path, char **err)
{
	int r = touch(path);
	if (r < 0) {
		*err = xasprintf("create %s: %s", path, strerror(-r));
		return r;
	}
	char src[64];
	snprintf(src, sizeof(src), "/proc/%d/ns/%s", (int)pid, type);
	if (mount(src, path, NULL, MS_BIND, NULL) < 0) {
		r = -errno;
		*err = xasprintf("pin %s at %s: %s", src, path, strerror(errno));
		unlink(path);
		return r;
	}
	return 0;
}

int ns_unpin(const char *path)
{
	/* MNT_DETACH: a container still starting may hold it open */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
