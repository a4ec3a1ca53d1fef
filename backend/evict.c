/* evict.c: see evict.h. Kubernetes' pkg/kubelet/eviction
 * (localStorageEviction and its three checks) is the reference. */
#include "backend/evict.h"
#include "backend/pod.h"
#include "backend/quantity.h"
#include "backend/resources.h"
#include "backend/spec.h"
#include "backend/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DU_MAX_DEPTH 128

/* ---- the decision -------------------------------------------------------- */

static bool disk_emptydir(const struct spec_volume *v)
{
	return v->kind == SPEC_VOL_EMPTYDIR && !(v->medium && !strcmp(v->medium, "Memory"));
}

static const struct spec_container *nth_container(const struct spec_pod *s, size_t i)
{
	return i < s->ninit ? &s->init_containers[i] : &s->containers[i - s->ninit];
}

char *evict_decide(const struct spec_pod *spec, const struct evict_usage *u)
{
	char q[64];
	/* emptyDirLimitEviction */
	for (size_t i = 0; i < spec->nvolumes; i++) {
		const struct spec_volume *v = &spec->volumes[i];
		if (!disk_emptydir(v) || !v->has_size_limit || u->vol[i] < 0)
			continue;
		if (u->vol[i] > v->size_limit)
			return xasprintf(
			    "Usage of EmptyDir volume \"%s\" exceeds the limit \"%s\". ", v->name,
			    qty_format_bytes(v->size_limit, q, sizeof(q)));
	}
	/* podEphemeralStorageLimitEviction: containers and disk emptyDirs
	 * against the sum of the containers' limits */
	struct res_amount lim;
	res_pod_limits(spec, &lim);
	if (lim.ephemeral >= 0) {
		__int128 used = 0;
		for (size_t i = 0; i < spec->nvolumes; i++)
			if (disk_emptydir(&spec->volumes[i]) && u->vol[i] > 0)
				used += u->vol[i];
		for (size_t i = 0; i < spec->ninit + spec->ncont; i++)
			if (u->ctr[i] > 0)
				used += u->ctr[i];
		if (used > lim.ephemeral)
			return xasprintf(
			    "Pod ephemeral local storage usage exceeds the total limit "
			    "of containers %s. ",
			    qty_format_bytes(lim.ephemeral, q, sizeof(q)));
	}
	/* containerEphemeralStorageLimitEviction: writable layer and logs */
	for (size_t i = 0; i < spec->ninit + spec->ncont; i++) {
		const struct spec_container *c = nth_container(spec, i);
		const struct spec_rlist *l = &c->resources.limits;
		if (l->has_ephemeral && u->ctr[i] > l->ephemeral)
			return xasprintf("Container %s exceeded its local ephemeral storage limit "
					 "\"%s\". ",
					 c->name, qty_format_bytes(l->ephemeral, q, sizeof(q)));
	}
	return NULL;
}

/* ---- measuring ----------------------------------------------------------- */

static int64_t du_dir(int dfd, dev_t dev, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	int64_t sum = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		sum += (int64_t)st.st_blocks * 512;
		if (!S_ISDIR(st.st_mode) || st.st_dev != dev || depth >= DU_MAX_DEPTH)
			continue;
		int sub =
		    openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			sum += du_dir(sub, dev, depth + 1);
	}
	closedir(d);
	return sum;
}

int64_t evict_du(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	int64_t sum = (int64_t)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode))
		return sum;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? sum : sum + du_dir(fd, st.st_dev, 1);
}

/* ---- the thread ---------------------------------------------------------- */

struct evictor {
	struct backend *b;
	int interval_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

/* What to measure for one pod, copied out under the backend lock. */
struct job {
	char *pod;
	char uid[40];
	size_t nvol, nctr;
	char **vol_paths;    /* NULL: not measured */
	char **upper, **log; /* per container; NULL: not running */
	int64_t *vol, *ctr;
};

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->nvol; i++)
		free(j->vol_paths[i]);
	for (size_t i = 0; i < j->nctr; i++) {
		free(j->upper[i]);
		free(j->log[i]);
	}
	free(j->vol_paths);
	free(j->upper);
	free(j->log);
	free(j->vol);
	free(j->ctr);
	free(j->pod);
}

/* Does any limit apply to P's storage? */
static bool watched(const struct pod *p)
{
	const struct spec_pod *s = p->spec;
	if (!s || p->deleting || p->pending || p->static_src || !p->sandbox_ready ||
	    (p->phase != PHASE_PENDING && p->phase != PHASE_RUNNING))
		return false;
	for (size_t i = 0; i < s->nvolumes; i++)
		if (disk_emptydir(&s->volumes[i]) && s->volumes[i].has_size_limit)
			return true;
	for (size_t i = 0; i < s->ninit + s->ncont; i++)
		if (nth_container(s, i)->resources.limits.has_ephemeral)
			return true;
	return false;
}

static size_t collect(struct backend *b, struct job **out)
{
	size_t n = 0;
	struct job *jobs = NULL;
	for (size_t i = 0; i < b->npods; i++) {
		struct pod *p = b->pods[i];
		if (!watched(p))
			continue;
		jobs = xrealloc(jobs, (n + 1) * sizeof(*jobs));
		struct job *j = &jobs[n++];
		memset(j, 0, sizeof(*j));
		j->pod = xstrdup(p->name);
		memcpy(j->uid, p->uid, sizeof(j->uid));
		j->nvol = p->spec->nvolumes;
		j->nctr = p->nc;
		j->vol_paths = xcalloc(j->nvol + 1, sizeof(char *));
		j->vol = xcalloc(j->nvol + 1, sizeof(int64_t));
		for (size_t v = 0; v < j->nvol; v++)
			if (disk_emptydir(&p->spec->volumes[v]))
				j->vol_paths[v] =
				    xasprintf("%s/pods/%s/volumes/%s/%s", b->state_dir, p->name,
					      p->uid, p->spec->volumes[v].name);
		j->upper = xcalloc(j->nctr + 1, sizeof(char *));
		j->log = xcalloc(j->nctr + 1, sizeof(char *));
		j->ctr = xcalloc(j->nctr + 1, sizeof(int64_t));
		for (size_t c = 0; c < j->nctr; c++) {
			struct container *ct = &p->c[c];
			if (ct->phase != C_RUNNING || !*ct->cid)
				continue;
			j->upper[c] = xasprintf("%s/containers/%s/upper", b->state_dir, ct->cid);
			if (ct->log.cri_path)
				j->log[c] = xstrdup(ct->log.cri_path);
		}
	}
	*out = jobs;
	return n;
}

static void measure(struct job *j)
{
	for (size_t v = 0; v < j->nvol; v++)
		j->vol[v] = j->vol_paths[v] ? evict_du(j->vol_paths[v]) : -1;
	for (size_t c = 0; c < j->nctr; c++) {
		if (!j->upper[c]) {
			j->ctr[c] = -1;
			continue;
		}
		j->ctr[c] = evict_du(j->upper[c]) + (j->log[c] ? evict_du(j->log[c]) : 0);
	}
}

/* Act on what was measured: the pod must still be the one measured. */
static void judge(struct backend *b, struct job *j)
{
	struct pod *p = pod_find(b, j->pod);
	if (!p || strcmp(p->uid, j->uid) || !watched(p) || p->nc != j->nctr)
		return;
	struct evict_usage u = {j->vol, j->ctr};
	char *msg = evict_decide(p->spec, &u);
	if (!msg)
		return;
	p->phase = PHASE_FAILED;
	p->evicted = true;
	free(p->reason);
	free(p->message);
	p->reason = xstrdup("Evicted");
	p->message = msg;
	realtime_now(&p->evicted_at);
	pod_event(b, p, true, "Evicted", NULL, "%s", msg);
	p->dirty = true;
	podstore_save_state(b, p);
	status_render_pod(b, p);
	pod_wake(b);
}

static void *evict_main(void *arg)
{
	struct evictor *e = arg;
	for (;;) {
		pthread_mutex_lock(&e->lock);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += e->interval_ms / 1000;
		until.tv_nsec += (long)(e->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!e->stop && pthread_cond_timedwait(&e->cond, &e->lock, &until) != ETIMEDOUT)
			;
		bool stop = e->stop;
		pthread_mutex_unlock(&e->lock);
		if (stop)
			return NULL;
		struct job *jobs = NULL;
		pthread_mutex_lock(&e->b->lock);
		size_t n = collect(e->b, &jobs);
		pthread_mutex_unlock(&e->b->lock);
		if (!n)
			continue;
		for (size_t i = 0; i < n; i++)
			measure(&jobs[i]);
		pthread_mutex_lock(&e->b->lock);
		for (size_t i = 0; i < n; i++)
			judge(e->b, &jobs[i]);
		pthread_mutex_unlock(&e->b->lock);
		for (size_t i = 0; i < n; i++)
			job_free(&jobs[i]);
		free(jobs);
	}
}

struct evictor *evict_start(struct backend *b, int interval_ms)
{
	struct evictor *e = xcalloc(1, sizeof(*e));
	e->b = b;
	e->interval_ms = interval_ms;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&e->thread, NULL, evict_main, e) != 0) {
		pthread_cond_destroy(&e->cond);
		pthread_mutex_destroy(&e->lock);
		free(e);
		return NULL;
	}
	return e;
}

void evict_stop(struct evictor *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
