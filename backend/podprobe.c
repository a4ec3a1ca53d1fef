/* podprobe.c: the kubelet's probe workers and hook runner, on one timer
 * facility. The supervisor decides when a probe is due (podprobe_schedule,
 * from its sync); the probe itself runs on the worker pool; its result comes
 * back under the backend lock, moves the probe's state and, past a
 * threshold, the container's (started, ready, killed). Hooks and stop
 * signals go through the same pool so the supervisor never blocks on them.
 *
 * Jobs hold the pod (p->jobs): a pod is not freed, nor its spec replaced,
 * while any of its jobs runs. A result for an older container instance
 * (the cid changed) is dropped. */
#include "backend/pod.h"
#include "backend/probe.h"
#include "backend/util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define MIN_GRACE_MS 2000 /* kubelet's minimumGracePeriodInSeconds */
#define HOOK_TIMEOUT_MS (120 * 1000)

const char *probe_kind_name(enum probe_kind k)
{
	return k == PK_STARTUP ? "Startup" : k == PK_LIVENESS ? "Liveness" : "Readiness";
}

enum job_kind { J_PROBE, J_POSTSTART, J_PRESTOP, J_KILL };

struct job {
	struct backend *b;
	struct pod *p;
	size_t ci;
	char cid[40];
	enum job_kind kind;
	enum probe_kind pk;
	int sig;
	const struct spec_handler *h;
	int timeout_ms;
	/* where httpGet, tcpSocket and grpc dial: from the node to the pod IP
	 * (netns NULL), as the kubelet; a pod without an IP is dialled at
	 * 127.0.0.1 inside its network namespace */
	char *netns;
	char host[64];
	/* result */
	enum probe_result res;
	char *msg;
	bool light; /* only the probe's own counters moved (see probe_result) */
};

const struct spec_probe *podprobe_spec_of(const struct spec_container *cs, int kind)
{
	return kind == PK_STARTUP ? cs->startup : kind == PK_LIVENESS ? cs->liveness : cs->readiness;
}

void podprobe_reset(struct container *c)
{
	for (int k = 0; k < PK_COUNT; k++) {
		struct probe_state *ps = &c->probes[k];
		free(ps->last_failure);
		memset(ps, 0, sizeof(*ps));
		/* the kubelet's initial values: liveness Success, readiness
		 * Failure, startup Unknown */
		ps->result = k == PK_LIVENESS ? 1 : k == PK_READINESS ? 0 : -1;
	}
	for (int k = 0; k < PK_COUNT; k++)
		c->probes[k].spec = podprobe_spec_of(c->spec, k);
	c->stop = STOP_NONE;
	c->prestop_done = false;
	c->poststart_pending = false;
	free(c->kill_message);
	free(c->kill_reason);
	c->kill_message = c->kill_reason = NULL;
}

static struct job *job_new(struct backend *b, struct pod *p, struct container *c,
			   enum job_kind kind)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->b = b;
	j->p = p;
	j->ci = (size_t)(c - p->c);
	memcpy(j->cid, c->cid, sizeof(j->cid));
	j->kind = kind;
	if (p->pod_ips && p->pod_ips[0])
		snprintf(j->host, sizeof(j->host), "%s", p->pod_ips[0]);
	else if (!p->spec->host_network)
		j->netns = xasprintf("%s/net", p->rundir);
	if (!*j->host)
		snprintf(j->host, sizeof(j->host), "127.0.0.1");
	p->jobs++;
	return j;
}

static void job_free(struct job *j)
{
	free(j->netns);
	free(j->msg);
	free(j);
}

/* The job is done: take the lock, find the container if it is still the
 * same instance, and let FN apply the result. */
static void job_finish(struct job *j, void (*fn)(struct job *j, struct container *c))
{
	struct backend *b = j->b;
	pthread_mutex_lock(&b->lock);
	struct pod *p = j->p;
	p->jobs--;
	struct container *c = j->ci < p->nc ? &p->c[j->ci] : NULL;
	if (c && !strcmp(c->cid, j->cid) && fn)
		fn(j, c);
	else
		j->light = false;
	/* a pod being stopped or replaced waits for its jobs: wake it fully */
	if (j->light && !p->deleting && !p->pending && p->phase != PHASE_SUCCEEDED &&
	    p->phase != PHASE_FAILED)
		p->probed = true;
	else
		p->dirty = true;
	pthread_mutex_unlock(&b->lock);
	pod_wake(b);
	job_free(j);
}

static void run_handler(struct job *j)
{
	struct backend *b = j->b;
	struct container *c = &j->p->c[j->ci];
	struct probe_target t = {
		.netns_path = j->netns,
		.host = j->host,
		.runc = b->rt.runc,
		.runc_root = b->rt.runc_root,
		.cid = j->cid,
		.container = c->spec,
	};
	j->res = probe_run(j->h, &t, j->timeout_ms, &j->msg, NULL);
}

/* ---- probes -------------------------------------------------------------- */

static bool kills_on_failure(enum probe_kind k)
{
	return k == PK_STARTUP || k == PK_LIVENESS;
}

static bool probe_apply(struct job *j, struct container *c);

/* A probe's result. Most results only move the probe's own counters and
 * time (a healthy container probed every period): those are "light", and
 * the supervisor then only schedules the next probe and re-renders the
 * status (sync_probes in pod.c), without the full sync; the events it adds
 * (Unhealthy for a failure that does not yet change the result) reach
 * state.json within a few seconds. A result that decides something (the
 * probe's result, started, ready, a kill) is not light. */
static void probe_result(struct job *j, struct container *c)
{
	struct probe_state *ps = &c->probes[j->pk];
	int result = ps->result;
	bool started = c->started, ready = c->ready;
	bool counted = probe_apply(j, c);
	j->light = counted && ps->result == result && c->started == started && c->ready == ready &&
		   c->stop == STOP_NONE;
}

/* Returns false if the result did not count (the container is stopping). */
static bool probe_apply(struct job *j, struct container *c)
{
	struct backend *b = j->b;
	struct pod *p = j->p;
	struct probe_state *ps = &c->probes[j->pk];
	ps->in_flight = false;
	if (c->phase != C_RUNNING || c->stop != STOP_NONE || p->deleting)
		return false; /* probes of a stopping container do not count */
	realtime_now(&ps->last_time);
	ps->has_last = true;
	const char *kind = probe_kind_name(j->pk);
	if (j->res == PROBE_ERROR) {
		/* the kubelet retries and then discards an errored probe: the
		 * state stays as it was */
		ps->errors++;
		ps->last_outcome = -1;
		pod_event(b, p, true, "Unhealthy", c->name,
			  "%s probe errored and resulted in unknown state: %s", kind,
			  j->msg ? j->msg : "");
		return true;
	}
	ps->errors = 0;
	if (j->res == PROBE_WARNING)
		pod_event(b, p, true, "ProbeWarning", c->name, "%s probe warning: %s", kind,
			  j->msg ? j->msg : "");
	if (j->res == PROBE_SUCCESS || j->res == PROBE_WARNING) {
		ps->last_outcome = 1;
		ps->failures = 0;
		ps->successes++;
		if (ps->successes >= ps->spec->success_threshold)
			ps->result = 1;
	} else {
		ps->last_outcome = 0;
		ps->successes = 0;
		ps->failures++;
		free(ps->last_failure);
		ps->last_failure = xstrdup(j->msg ? j->msg : "probe failed");
		ps->last_failure_time = ps->last_time;
		pod_event(b, p, true, "Unhealthy", c->name, "%s probe failed: %s", kind,
			  ps->last_failure);
		if (ps->failures >= ps->spec->failure_threshold)
			ps->result = 0;
	}
	if (j->pk == PK_STARTUP && ps->result == 1)
		c->started = true;
	if (kills_on_failure(j->pk) && ps->result == 0) {
		int64_t grace = p->spec->termination_grace_seconds * 1000;
		if (ps->spec->has_termination_grace)
			grace = ps->spec->termination_grace_seconds * 1000;
		char *why = xasprintf("Container %s failed %s probe, will be restarted", c->name,
				      j->pk == PK_STARTUP ? "startup" : "liveness");
		free(c->kill_message);
		c->kill_message = xasprintf("%s probe failed: %s", kind, ps->last_failure);
		container_stop_begin(b, p, c, grace, why);
		free(why);
	}
	/* ready: started, running and (no readiness probe, or it succeeded) */
	struct probe_state *rp = &c->probes[PK_READINESS];
	c->ready = c->started && (!rp->spec || rp->result == 1) && (!c->init || c->sidecar);
	return true;
}

static void probe_job(void *arg)
{
	struct job *j = arg;
	run_handler(j);
	job_finish(j, probe_result);
}

void podprobe_schedule(struct backend *b, struct pod *p, struct container *c, int64_t *wake)
{
	if (c->phase != C_RUNNING || c->poststart_pending || c->stop != STOP_NONE || p->deleting)
		return;
	int64_t now = mono_ms();
	for (int k = 0; k < PK_COUNT; k++) {
		struct probe_state *ps = &c->probes[k];
		if (!ps->spec)
			continue;
		/* startup gates the others; once started it stops */
		if (k == PK_STARTUP && c->started)
			continue;
		if (k != PK_STARTUP && c->probes[PK_STARTUP].spec && !c->started)
			continue;
		/* after a liveness or startup failure, wait for the new instance */
		if (kills_on_failure(k) && ps->result == 0)
			continue;
		if (ps->in_flight)
			continue;
		if (ps->next_ms > now) {
			if (!*wake || ps->next_ms < *wake)
				*wake = ps->next_ms;
			continue;
		}
		struct job *j = job_new(b, p, c, J_PROBE);
		j->pk = (enum probe_kind)k;
		j->h = &ps->spec->h;
		j->timeout_ms = (int)(ps->spec->timeout_seconds * 1000);
		ps->in_flight = true;
		ps->next_ms = now + ps->spec->period_seconds * 1000;
		probe_pool_submit(b->pool, probe_job, j);
	}
}

/* ---- hooks ----------------------------------------------------------------- */

static void poststart_result(struct job *j, struct container *c)
{
	struct backend *b = j->b;
	struct pod *p = j->p;
	c->poststart_pending = false;
	if (j->res == PROBE_SUCCESS || j->res == PROBE_WARNING)
		return;
	pod_event(b, p, true, "FailedPostStartHook", c->name, "PostStartHook failed: %s",
		  j->msg ? j->msg : "");
	free(c->kill_message);
	c->kill_message = xasprintf("FailedPostStartHook: %s", j->msg ? j->msg : "");
	free(c->kill_reason);
	c->kill_reason = xstrdup("PostStartHookError");
	container_stop_begin(b, p, c, p->spec->termination_grace_seconds * 1000,
			     "Stopping container: postStart hook failed");
}

static void hook_job(void *arg)
{
	struct job *j = arg;
	run_handler(j);
	job_finish(j, j->kind == J_POSTSTART ? poststart_result : NULL);
}

void podprobe_poststart(struct backend *b, struct pod *p, struct container *c)
{
	if (!c->spec->post_start)
		return;
	struct job *j = job_new(b, p, c, J_POSTSTART);
	j->h = c->spec->post_start;
	j->timeout_ms = HOOK_TIMEOUT_MS;
	c->poststart_pending = true;
	probe_pool_submit(b->pool, hook_job, j);
}

static void prestop_result(struct job *j, struct container *c)
{
	c->prestop_done = true;
	if (j->res != PROBE_SUCCESS && j->res != PROBE_WARNING)
		pod_event(j->b, j->p, true, "FailedPreStopHook", c->name, "PreStopHook failed: %s",
			  j->msg ? j->msg : "");
}

static void prestop_job(void *arg)
{
	struct job *j = arg;
	run_handler(j);
	job_finish(j, prestop_result);
}

/* ---- stopping ----------------------------------------------------------------- */

static void kill_job(void *arg)
{
	struct job *j = arg;
	rt_kill(&j->b->rt, j->cid, j->sig, j->sig == SIGKILL, NULL);
	job_finish(j, NULL);
}

void podprobe_kill(struct backend *b, struct pod *p, const char *cid, int sig)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->b = b;
	j->p = p;
	j->ci = (size_t)-1;
	snprintf(j->cid, sizeof(j->cid), "%s", cid);
	j->kind = J_KILL;
	j->sig = sig;
	p->jobs++;
	probe_pool_submit(b->pool, kill_job, j);
}

void container_stop_begin(struct backend *b, struct pod *p, struct container *c, int64_t grace_ms,
			  const char *why)
{
	if (c->stop != STOP_NONE || c->phase != C_RUNNING)
		return;
	pod_event(b, p, false, "Killing", c->name, "%s", why);
	int64_t now = mono_ms();
	c->killing = true;
	c->ready = false;
	if (c->spec->pre_stop && grace_ms > 0) {
		c->stop = STOP_PRESTOP;
		c->stop_deadline_ms = now + grace_ms;
		c->prestop_done = false;
		struct job *j = job_new(b, p, c, J_PRESTOP);
		j->h = c->spec->pre_stop;
		j->timeout_ms = (int)grace_ms;
		probe_pool_submit(b->pool, prestop_job, j);
		return;
	}
	c->stop = STOP_TERM;
	c->stop_deadline_ms = now + (grace_ms < MIN_GRACE_MS ? MIN_GRACE_MS : grace_ms);
	podprobe_kill(b, p, c->cid, c->stop_signal ? c->stop_signal : SIGTERM);
}

void container_stop_advance(struct backend *b, struct pod *p, struct container *c, int64_t *wake)
{
	if (c->phase != C_RUNNING || c->stop == STOP_NONE)
		return;
	int64_t now = mono_ms();
	if (c->stop == STOP_PRESTOP && (c->prestop_done || now >= c->stop_deadline_ms)) {
		/* what is left of the grace period, but at least 2 s */
		int64_t left = c->stop_deadline_ms - now;
		c->stop = STOP_TERM;
		c->stop_deadline_ms = now + (left < MIN_GRACE_MS ? MIN_GRACE_MS : left);
		podprobe_kill(b, p, c->cid, c->stop_signal ? c->stop_signal : SIGTERM);
	} else if ((c->stop == STOP_TERM || c->stop == STOP_KILL) && now >= c->stop_deadline_ms) {
		c->stop = STOP_KILL;
		c->stop_deadline_ms = now + 1000; /* again, until it is gone */
		podprobe_kill(b, p, c->cid, SIGKILL);
	}
	if (c->stop != STOP_PRESTOP || !c->prestop_done)
		if (!*wake || c->stop_deadline_ms < *wake)
			*wake = c->stop_deadline_ms;
}
