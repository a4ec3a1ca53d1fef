/* notify.c: see notify.h.
 *
 * The operations through the mount are made by a small child process, not
 * a thread: a thread of podfs blocked in a request to its own mount would
 * keep podfs from ever finishing a crash (its /dev/fuse descriptor stays
 * open while any thread lives), wedging the mount. A child gets ENOTCONN
 * instead. A thread of podfs feeds it one request at a time over a socket
 * pair and waits for its answer, coalescing repeated announcements of a
 * path while one is pending. The child does only system calls (it is
 * forked from a threaded process) and dies with podfs.
 *
 * The child keeps none of podfs's descriptors but its socket: with a copy
 * of /dev/fuse, a request of its own that a podfs killed by SIGKILL never
 * answers would keep the connection, and so the child blocked in that
 * request, alive for good; and its copy of the state dir's lock would
 * keep podfs from starting again ("in use by another podfs"). */
#include "fs/notify.h"
#include "backend/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum op { OP_MODIFY = 'm', OP_MKDIR = 'd', OP_RMDIR = 'r' };

struct item {
	char *path;
	enum op op;
};

struct notifier {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *q;
	size_t n, cap;
	bool stop;
	int sock; /* to the child */
	pid_t child;
	struct item inflight; /* the request the child is doing now */
};

/* The child: read "OP MOUNTPOINT/PATH" requests, perform them, answer. */
static void __attribute__((noreturn)) child_main(int sock, const char *mountpoint)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Hold nothing of podfs's but the socket: a copy of /dev/fuse would
	 * keep the connection alive after podfs is killed, so a request in
	 * flight would wait for an answer forever, and a copy of the state
	 * dir's lock would refuse the next podfs. */
	if (sock != 3) {
		if (dup2(sock, 3) < 0)
			_exit(1);
		sock = 3;
	}
	if (close_range(4, ~0U, 0) < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = 4; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			close((int)fd);
	}
	char req[PATH_MAX + 2], full[2 * PATH_MAX + 2];
	size_t mlen = strlen(mountpoint);
	if (mlen >= PATH_MAX)
		_exit(1);
	for (;;) {
		ssize_t n = recv(sock, req, sizeof(req) - 1, 0);
		if (n <= 0)
			_exit(0);
		req[n] = '\0';
		memcpy(full, mountpoint, mlen);
		full[mlen] = '/';
		memcpy(full + mlen + 1, req + 1, (size_t)n);
		if (req[0] == OP_MODIFY) {
			int fd = open(full, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, "\n", 1) < 0) {
					/* gone meanwhile: nothing to announce */
				}
				close(fd);
			}
		} else if (req[0] == OP_MKDIR) {
			mkdir(full, 0755);
		} else if (req[0] == OP_RMDIR) {
			rmdir(full);
		}
		if (send(sock, "k", 1, MSG_NOSIGNAL) != 1)
			_exit(0);
	}
}

static void *feeder(void *arg)
{
	struct notifier *nt = arg;
	pthread_mutex_lock(&nt->lock);
	while (!nt->stop) {
		if (nt->n == 0) {
			pthread_cond_wait(&nt->cond, &nt->lock);
			continue;
		}
		struct item it = nt->q[0];
		memmove(nt->q, nt->q + 1, (nt->n - 1) * sizeof(*nt->q));
		nt->n--;
		nt->inflight = it;
		pthread_mutex_unlock(&nt->lock);
		char *msg = xasprintf("%c%s", (char)it.op, it.path);
		char ack;
		if (strlen(msg) < PATH_MAX && send(nt->sock, msg, strlen(msg), MSG_NOSIGNAL) > 0 &&
		    recv(nt->sock, &ack, 1, 0) != 1) {
			/* the child is gone: announcements stop, the mount goes on */
		}
		free(msg);
		pthread_mutex_lock(&nt->lock);
		nt->inflight.path = NULL;
		free(it.path);
		if (nt->n == 0 && !nt->stop) {
			/* let a burst of changes gather, so a file that changes
			 * many times a second is announced a few times, not each
			 * time (within the second that watchers are promised) */
			pthread_mutex_unlock(&nt->lock);
			usleep(100 * 1000);
			pthread_mutex_lock(&nt->lock);
		}
	}
	pthread_mutex_unlock(&nt->lock);
	return NULL;
}

struct notifier *notify_start(const char *mountpoint)
{
	struct notifier *nt = xcalloc(1, sizeof(*nt));
	pthread_mutex_init(&nt->lock, NULL);
	pthread_cond_init(&nt->cond, NULL);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(nt);
		return NULL;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		free(nt);
		return NULL;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(sv[1], mountpoint);
	}
	close(sv[1]);
	nt->sock = sv[0];
	nt->child = pid;
	pthread_create(&nt->thread, NULL, feeder, nt);
	return nt;
}

void notify_stop(struct notifier *nt)
{
	if (!nt)
		return;
	pthread_mutex_lock(&nt->lock);
	nt->stop = true;
	pthread_cond_broadcast(&nt->cond);
	pthread_mutex_unlock(&nt->lock);
	shutdown(nt->sock, SHUT_RDWR);
	pthread_join(nt->thread, NULL);
	close(nt->sock);
	kill(nt->child, SIGKILL);
	waitpid(nt->child, NULL, 0);
	for (size_t i = 0; i < nt->n; i++)
		free(nt->q[i].path);
	free(nt->q);
	free(nt);
}

static void push(struct notifier *nt, const char *path, enum op op)
{
	if (!nt)
		return;
	pthread_mutex_lock(&nt->lock);
	for (size_t i = 0; i < nt->n; i++)
		if (nt->q[i].op == op && !strcmp(nt->q[i].path, path)) {
			pthread_mutex_unlock(&nt->lock);
			return;
		}
	if (nt->n == nt->cap) {
		nt->cap = nt->cap ? nt->cap * 2 : 64;
		nt->q = xrealloc(nt->q, nt->cap * sizeof(*nt->q));
	}
	nt->q[nt->n].path = xstrdup(path);
	nt->q[nt->n].op = op;
	nt->n++;
	pthread_cond_signal(&nt->cond);
	pthread_mutex_unlock(&nt->lock);
}

void notify_modified(struct notifier *nt, const char *path)
{
	push(nt, path, OP_MODIFY);
}

void notify_dir_added(struct notifier *nt, const char *path)
{
	push(nt, path, OP_MKDIR);
}

void notify_dir_removed(struct notifier *nt, const char *path)
{
	push(nt, path, OP_RMDIR);
}

char notify_dir_op(struct notifier *nt, const char *path)
{
	if (!nt)
		return 0;
	pthread_mutex_lock(&nt->lock);
	char op = 0;
	if (nt->inflight.path && nt->inflight.op != OP_MODIFY && !strcmp(nt->inflight.path, path))
		op = nt->inflight.op == OP_MKDIR ? 'd' : 'r';
	pthread_mutex_unlock(&nt->lock);
	return op;
}

bool notify_is_announcer(struct notifier *nt, pid_t tid)
{
	return nt && tid == nt->child;
}
