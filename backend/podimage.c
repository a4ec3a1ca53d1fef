/* podimage.c: images for containers, as the kubelet's image manager does
 * it: imagePullPolicy (Always, IfNotPresent, Never), pulls on their own
 * threads (one per image at a time, shared by every container waiting for
 * it), ErrImagePull then ImagePullBackOff with a back-off of 10 s doubling
 * to 300 s (times --backoff-scale), events Pulling, Pulled (with time and
 * size), Failed, BackOff, and the pull's progress in the waiting message.
 *
 * An image put in the store by `podfs image import` counts as present for
 * Always too: it has no registry to be checked against (kind's side-loaded
 * images need IfNotPresent for the same reason; podfs spares users that). */
#include "backend/pod.h"
#include "backend/registry.h"
#include "backend/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PULL_BACKOFF_INITIAL_MS 10000
#define PULL_BACKOFF_MAX_MS	300000
#define PROGRESS_NOTE_MS	1000  /* status message refresh while pulling */
#define PROGRESS_EVENT_MS	10000 /* a Pulling progress event at most this often */

struct pull_job {
	struct backend *b;
	char *image; /* as the spec says, for messages */
	char *norm;  /* normalized: the key that pulls share */
	int refs;    /* containers holding it, plus the thread while it runs */
	bool done;
	int rc;
	char *err;
	int64_t done_bytes, total_bytes, size;
	int64_t started_ms, finished_ms, event_ms;
	struct pull_job *next; /* b->pulls, while in flight */
};

static int64_t scaled(struct backend *b, int64_t ms)
{
	double v = (double)ms * b->backoff_scale;
	return v < 1 ? 1 : (int64_t)v;
}

static void job_put(struct pull_job *j)
{
	if (--j->refs > 0)
		return;
	free(j->image);
	free(j->norm);
	free(j->err);
	free(j);
}

static char *progress_text(const struct pull_job *j)
{
	if (j->total_bytes <= 0)
		return xasprintf("Pulling image \"%s\"", j->image);
	char d[32], t[32];
	util_human_bytes(j->done_bytes, d, sizeof(d));
	util_human_bytes(j->total_bytes, t, sizeof(t));
	return xasprintf("Pulling image \"%s\": %s of %s (%d%%)", j->image, d, t,
			 (int)(j->done_bytes * 100 / j->total_bytes));
}

/* Wake the pods whose containers wait for J. Lock held. */
static void mark_waiters(struct backend *b, struct pull_job *j)
{
	for (size_t i = 0; i < b->npods; i++) {
		struct pod *p = b->pods[i];
		for (size_t k = 0; k < p->nc; k++)
			if (p->c[k].pull == j)
				p->dirty = true;
	}
}

static void on_progress(void *arg, int64_t done, int64_t total)
{
	struct pull_job *j = arg;
	struct backend *b = j->b;
	pthread_mutex_lock(&b->lock);
	j->done_bytes = done;
	j->total_bytes = total;
	mark_waiters(b, j);
	pthread_mutex_unlock(&b->lock);
	pod_wake(b);
}

static void *pull_thread(void *arg)
{
	struct pull_job *j = arg;
	struct backend *b = j->b;
	struct registry_progress prog = {.cb = on_progress, .arg = j};
	struct image_ingest_result res;
	char *err = NULL;
	int rc = registry_pull(b->registry, b->images, j->norm, &prog, &res, &err);
	pthread_mutex_lock(&b->lock);
	j->done = true;
	j->rc = rc;
	j->err = err;
	j->size = res.size;
	j->finished_ms = mono_ms();
	free(res.digest);
	for (struct pull_job **pp = &b->pulls; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	mark_waiters(b, j);
	job_put(j);
	b->npulls--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	pod_wake(b);
	return NULL;
}

/* The pull of NORM in flight, or a new one. Lock held. */
static struct pull_job *pull_start(struct backend *b, const char *image, const char *norm)
{
	for (struct pull_job *j = b->pulls; j; j = j->next)
		if (!strcmp(j->norm, norm)) {
			j->refs++;
			return j;
		}
	struct pull_job *j = xcalloc(1, sizeof(*j));
	j->b = b;
	j->image = xstrdup(image);
	j->norm = xstrdup(norm);
	j->refs = 2; /* the container and the thread */
	j->started_ms = j->event_ms = mono_ms();
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	int r = pthread_create(&t, &attr, pull_thread, j);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		j->done = true;
		j->rc = -r;
		j->err = xasprintf("cannot start a pull thread: %s", strerror(r));
		j->refs = 1;
		return j;
	}
	j->next = b->pulls;
	b->pulls = j;
	b->npulls++;
	return j;
}

void podimage_release(struct container *c)
{
	if (c->pull) {
		job_put(c->pull);
		c->pull = NULL;
	}
}

void podimage_shutdown(struct backend *b)
{
	if (b->registry)
		registry_cancel(b->registry);
	pthread_mutex_lock(&b->lock);
	while (b->npulls > 0)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

static void wake_at(int64_t *wake, int64_t at)
{
	if (!*wake || at < *wake)
		*wake = at;
}

/* Waiting with REASON and MESSAGE, unless already so. True if it changed. */
static bool wait_as(struct container *c, const char *reason, const char *message)
{
	if (c->phase == C_WAITING && c->waiting_reason && !strcmp(c->waiting_reason, reason) &&
	    c->waiting_message && !strcmp(c->waiting_message, message))
		return false;
	pod_container_wait(c, reason, message);
	return true;
}

static bool present_event(struct backend *b, struct pod *p, struct container *c)
{
	pod_event(b, p, false, "Pulled", c->name,
		  "Container image \"%s\" already present on machine", c->spec->image);
	return true;
}

bool podimage_ready(struct backend *b, struct pod *p, struct container *c, int64_t *wake)
{
	const char *image = c->spec->image;
	const char *policy =
	    c->spec->image_pull_policy ? c->spec->image_pull_policy : "IfNotPresent";
	int64_t now = mono_ms();

	if (c->pull && !c->pull->done) {
		struct pull_job *j = c->pull;
		if (c->phase == C_WAITING && now - c->pull_note_ms >= PROGRESS_NOTE_MS) {
			cleanup_free char *msg = progress_text(j);
			pod_container_wait(c, p->ninit ? "PodInitializing" : "ContainerCreating",
					   msg);
			c->pull_note_ms = now;
			if (j->total_bytes > 0 &&
			    now - j->event_ms >= scaled(b, PROGRESS_EVENT_MS)) {
				j->event_ms = now;
				pod_event(b, p, false, "Pulling", c->name, "%s", msg);
			}
		}
		wake_at(wake, now + PROGRESS_NOTE_MS);
		return false;
	}
	if (c->pull) {
		struct pull_job *j = c->pull;
		c->pull = NULL;
		if (j->rc == 0) {
			double secs = (double)(j->finished_ms - j->started_ms) / 1000.0;
			pod_event(b, p, false, "Pulled", c->name,
				  "Successfully pulled image \"%s\" in %.3fs (%.3fs including "
				  "waiting). Image size: %lld bytes.",
				  image, secs, secs, (long long)j->size);
			c->pull_backoff_ms = 0;
			c->pull_next_ms = 0;
			job_put(j);
			return true;
		}
		const char *reason = j->rc == -EINVAL ? "InvalidImageName" : "ErrImagePull";
		cleanup_free char *msg =
		    xasprintf("failed to pull image \"%s\": %s", j->norm, j->err);
		pod_container_wait(c, reason, msg);
		pod_event(b, p, true, "Failed", c->name, "Failed to pull image \"%s\": %s", image,
			  j->err);
		pod_event(b, p, true, "Failed", c->name, "Error: %s", reason);
		/* flowcontrol.Backoff keyed by pod and image: 10 s, 20 s, ... 300 s */
		int64_t max = scaled(b, PULL_BACKOFF_MAX_MS);
		if (c->pull_backoff_ms == 0)
			c->pull_backoff_ms = scaled(b, PULL_BACKOFF_INITIAL_MS);
		else
			c->pull_backoff_ms =
			    c->pull_backoff_ms * 2 > max ? max : c->pull_backoff_ms * 2;
		c->pull_next_ms = now + c->pull_backoff_ms;
		/* ErrImagePull for the first half of the window, ImagePullBackOff
		 * for the rest (the kubelet's next sync would switch it) */
		wake_at(wake, now + c->pull_backoff_ms / 2);
		job_put(j);
		return false;
	}
	if (c->pull_next_ms > now) {
		cleanup_free char *msg = xasprintf("Back-off pulling image \"%s\"", image);
		if (wait_as(c, "ImagePullBackOff", msg))
			pod_event(b, p, false, "BackOff", c->name, "%s", msg);
		wake_at(wake, c->pull_next_ms);
		return false;
	}

	bool pulled = false;
	cleanup_free char *err = NULL;
	int present = image_present(b->images, image, &pulled, &err);
	if (present < 0) {
		if (wait_as(c, "InvalidImageName", err))
			pod_event(b, p, true, "InspectFailed", c->name,
				  "Failed to apply default image tag \"%s\": %s", image, err);
		wake_at(wake, now + scaled(b, PULL_BACKOFF_INITIAL_MS));
		return false;
	}
	if (!strcmp(policy, "Never")) {
		if (present)
			return present_event(b, p, c);
		cleanup_free char *msg = xasprintf(
		    "Container image \"%s\" is not present with pull policy of Never", image);
		if (wait_as(c, "ErrImageNeverPull", msg))
			pod_event(b, p, true, "ErrImageNeverPull", c->name, "%s", msg);
		wake_at(wake, now + scaled(b, PULL_BACKOFF_INITIAL_MS));
		return false;
	}
	if (present && (strcmp(policy, "Always") != 0 || !pulled))
		return present_event(b, p, c);

	cleanup_free char *norm = image_normalize_ref(image, NULL);
	c->pull = pull_start(b, image, norm);
	pod_event(b, p, false, "Pulling", c->name, "Pulling image \"%s\"", image);
	if (c->phase == C_WAITING) {
		cleanup_free char *msg = progress_text(c->pull);
		pod_container_wait(c, p->ninit ? "PodInitializing" : "ContainerCreating", msg);
		c->pull_note_ms = now;
	}
	/* a thread that could not start has already failed */
	if (c->pull->done)
		return podimage_ready(b, p, c, wake);
	wake_at(wake, now + PROGRESS_NOTE_MS);
	return false;
}
