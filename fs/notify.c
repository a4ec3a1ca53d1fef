/* notify.c: see notify.h. */
#include "fs/notify.h"
#include "backend/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum op { OP_MODIFY, OP_MKDIR, OP_RMDIR };

struct item {
	char *path;
	enum op op;
};

struct notifier {
	char *mountpoint;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *q;
	size_t n, cap;
	bool stop;
	pid_t tid;
};

static void *announcer(void *arg)
{
	struct notifier *nt = arg;
	pthread_mutex_lock(&nt->lock);
	nt->tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&nt->cond);
	while (!nt->stop) {
		if (nt->n == 0) {
			pthread_cond_wait(&nt->cond, &nt->lock);
			continue;
		}
		struct item it = nt->q[0];
		memmove(nt->q, nt->q + 1, (nt->n - 1) * sizeof(*nt->q));
		nt->n--;
		pthread_mutex_unlock(&nt->lock);
		char *full = xasprintf("%s/%s", nt->mountpoint, it.path);
		if (it.op == OP_MODIFY) {
			int fd = open(full, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, "\n", 1) < 0) {
					/* the file went away meanwhile: nothing to announce */
				}
				close(fd);
			}
		} else if (it.op == OP_MKDIR) {
			mkdir(full, 0755);
		} else {
			rmdir(full);
		}
		free(full);
		free(it.path);
		pthread_mutex_lock(&nt->lock);
	}
	pthread_mutex_unlock(&nt->lock);
	return NULL;
}

struct notifier *notify_start(const char *mountpoint)
{
	struct notifier *nt = xcalloc(1, sizeof(*nt));
	nt->mountpoint = xstrdup(mountpoint);
	pthread_mutex_init(&nt->lock, NULL);
	pthread_cond_init(&nt->cond, NULL);
	pthread_create(&nt->thread, NULL, announcer, nt);
	pthread_mutex_lock(&nt->lock);
	while (!nt->tid)
		pthread_cond_wait(&nt->cond, &nt->lock);
	pthread_mutex_unlock(&nt->lock);
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
	pthread_join(nt->thread, NULL);
	for (size_t i = 0; i < nt->n; i++)
		free(nt->q[i].path);
	free(nt->q);
	free(nt->mountpoint);
	free(nt);
}

static void push(struct notifier *nt, const char *path, enum op op)
{
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

bool notify_is_announcer(struct notifier *nt, pid_t tid)
{
	return nt && tid == nt->tid;
}
