/* status.c: a pod's state rendered as the files users read: status.json
 * (Kubernetes' PodStatus field names), status (the same document as YAML),
 * phase, events, containers/C/status, and the node-wide ps and node files.
 * The status document is built when state changes and compared with the
 * last one, so a change is announced to watchers; its text is rendered when
 * read, once per version. */
#include "backend/pod.h"
#include "backend/static.h"
#include "backend/quantity.h"
#include "backend/resources.h"
#include "backend/util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

const char *status_phase_name(enum pod_phase ph)
{
	switch (ph) {
	case PHASE_PENDING:
		return "Pending";
	case PHASE_RUNNING:
		return "Running";
	case PHASE_SUCCEEDED:
		return "Succeeded";
	case PHASE_FAILED:
		return "Failed";
	default:
		return "";
	}
}

void status_timefmt(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *jtime(const struct timespec *ts)
{
	char buf[40];
	status_timefmt(ts, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *term_json(const struct cterm *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "exitCode", json_integer(t->exit_code));
	if (t->exit_code > 128 && t->exit_code < 128 + 65)
		json_object_set_new(o, "signal", json_integer(t->exit_code - 128));
	if (t->reason)
		json_object_set_new(o, "reason", json_string(t->reason));
	if (t->message)
		json_object_set_new(o, "message", json_string(t->message));
	json_object_set_new(o, "startedAt", jtime(&t->started_at));
	json_object_set_new(o, "finishedAt", jtime(&t->finished_at));
	if (*t->cid)
		json_object_set_new(o, "containerID", json_sprintf("runc://%s", t->cid));
	return o;
}

/* A container's probes, as its status shows them (beyond Kubernetes), or
 * NULL if it has none. */
static json_t *probes_json(const struct container *c)
{
	json_t *probes = json_object();
	static const char *const keys[PK_COUNT] = {"startup", "liveness", "readiness"};
	for (int k = 0; k < PK_COUNT; k++) {
		const struct probe_state *ps = &c->probes[k];
		if (!ps->spec)
			continue;
		json_t *po = json_object();
		json_object_set_new(po, "result",
				    json_string(ps->result == 1	  ? "Success"
						: ps->result == 0 ? "Failure"
								  : "Unknown"));
		if (ps->has_last) {
			json_object_set_new(po, "lastProbeTime", jtime(&ps->last_time));
			json_object_set_new(po, "lastProbe",
					    json_string(ps->last_outcome == 1	? "Success"
							: ps->last_outcome == 0 ? "Failure"
										: "Error"));
		}
		json_object_set_new(po, "consecutiveSuccesses", json_integer(ps->successes));
		json_object_set_new(po, "consecutiveFailures", json_integer(ps->failures));
		if (ps->last_failure) {
			json_object_set_new(po, "lastFailureMessage",
					    json_string(ps->last_failure));
			json_object_set_new(po, "lastFailureTime", jtime(&ps->last_failure_time));
		}
		json_object_set_new(probes, keys[k], po);
	}
	if (json_object_size(probes))
		return probes;
	json_decref(probes);
	return NULL;
}

static json_t *container_json(const struct pod *p, const struct container *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(c->name));
	json_t *state = json_object();
	if (c->phase == C_RUNNING && c->poststart_pending) {
		/* not reported Running until postStart has finished */
		json_object_set_new(state, "waiting",
				    json_pack("{s:s}", "reason", "ContainerCreating"));
	} else if (c->phase == C_RUNNING) {
		json_object_set_new(state, "running",
				    json_pack("{s:o}", "startedAt", jtime(&c->started_at)));
	} else if (c->phase == C_TERMINATED) {
		json_object_set_new(state, "terminated", term_json(&c->term));
	} else {
		json_t *w = json_object();
		if (c->waiting_reason)
			json_object_set_new(w, "reason", json_string(c->waiting_reason));
		if (c->waiting_message)
			json_object_set_new(w, "message", json_string(c->waiting_message));
		json_object_set_new(state, "waiting", w);
	}
	json_object_set_new(o, "state", state);
	json_t *last = json_object();
	if (c->has_last)
		json_object_set_new(last, "terminated", term_json(&c->last));
	json_object_set_new(o, "lastState", last);
	json_object_set_new(o, "ready", json_boolean(c->ready));
	json_object_set_new(o, "restartCount", json_integer(c->restart_count));
	json_object_set_new(o, "started", json_boolean(c->started));
	/* the image of the instance (a running container keeps its image
	 * until it is restarted for a new one) */
	json_object_set_new(o, "image", json_string(c->image_ref ? c->image_ref : c->spec->image));
	json_object_set_new(o, "imageID", json_string(c->image_id ? c->image_id : ""));
	if (*c->cid)
		json_object_set_new(o, "containerID", json_sprintf("runc://%s", c->cid));
	/* beyond Kubernetes: every probe's results */
	json_t *probes = probes_json(c);
	if (probes)
		json_object_set_new(o, "probes", probes);
	(void)p;
	return o;
}

static json_t *condition(const char *type, bool ok, const char *reason, const char *message,
			 const struct timespec *when)
{
	json_t *o = json_pack("{s:s,s:s}", "type", type, "status", ok ? "True" : "False");
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	if (message)
		json_object_set_new(o, "message", json_string(message));
	json_object_set_new(o, "lastTransitionTime", jtime(when));
	return o;
}

/* Kubelet's conditions, in its order. */
static json_t *conditions_json(const struct pod *p)
{
	json_t *a = json_array();
	const struct timespec *t = p->has_start_time ? &p->start_time : &p->created;
	bool terminal = p->phase == PHASE_SUCCEEDED || p->phase == PHASE_FAILED;
	json_array_append_new(
	    a, condition("PodReadyToStartContainers", p->sandbox_ready, NULL, NULL, t));
	/* Initialized */
	bool app_started = false;
	for (size_t i = p->ninit; i < p->nc; i++)
		if (p->c[i].ever_started)
			app_started = true;
	struct strbuf inc;
	sb_init(&inc);
	for (size_t i = 0; i < p->ninit; i++) {
		const struct container *c = &p->c[i];
		bool done =
		    c->sidecar ? c->started : (c->phase == C_TERMINATED && c->term.exit_code == 0);
		if (!done)
			sb_printf(&inc, "%s%s", inc.len ? " " : "", c->name);
	}
	if (inc.len && !app_started) {
		char *m = xasprintf("containers with incomplete status: [%s]", inc.buf);
		json_array_append_new(
		    a, condition("Initialized", false, "ContainersNotInitialized", m, t));
		free(m);
	} else {
		json_array_append_new(
		    a, condition("Initialized", true,
				 p->phase == PHASE_SUCCEEDED ? "PodCompleted" : NULL, NULL, t));
	}
	sb_free(&inc);
	/* ContainersReady and Ready */
	struct strbuf unready;
	sb_init(&unready);
	for (size_t i = 0; i < p->nc; i++) {
		const struct container *c = &p->c[i];
		if (c->init && !c->sidecar)
			continue;
		if (!c->ready)
			sb_printf(&unready, "%s%s", unready.len ? " " : "", c->name);
	}
	json_t *cr, *rd;
	if (terminal) {
		const char *why = p->phase == PHASE_SUCCEEDED ? "PodCompleted" : "PodFailed";
		cr = condition("ContainersReady", false, why, NULL, t);
		rd = condition("Ready", false, why, NULL, t);
	} else if (unready.len || p->deleting) {
		char *m = xasprintf("containers with unready status: [%s]",
				    unready.buf ? unready.buf : "");
		cr = condition("ContainersReady", false, "ContainersNotReady", m, t);
		rd = condition("Ready", false, "ContainersNotReady", m, t);
		free(m);
	} else {
		cr = condition("ContainersReady", true, NULL, NULL, t);
		rd = condition("Ready", true, NULL, NULL, t);
	}
	sb_free(&unready);
	json_array_append_new(a, rd);
	json_array_append_new(a, cr);
	json_array_append_new(a, condition("PodScheduled", true, NULL, NULL, &p->created));
	if (p->reason && !strcmp(p->reason, "Evicted"))
		json_array_append_new(a, condition("DisruptionTarget", true, "TerminationByKubelet",
						   p->message, p->evicted ? &p->evicted_at : t));
	return a;
}

static json_t *pod_status_json(struct backend *b, const struct pod *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "phase", json_string(p->spec ? status_phase_name(p->phase) : ""));
	if (p->reason)
		json_object_set_new(o, "reason", json_string(p->reason));
	if (p->message)
		json_object_set_new(o, "message", json_string(p->message));
	if (p->apply_error)
		json_object_set_new(o, "lastApplyError", json_string(p->apply_error));
	if (p->static_src) {
		/* where a static pod comes from: podfs's field, and the
		 * annotations the kubelet gives it */
		char hash[33], seen[64];
		static_config_hash(b, p, hash);
		status_timefmt(&p->spec_mtime, seen, sizeof(seen));
		json_object_set_new(o, "source", json_string(p->static_src));
		json_object_set_new(o, "annotations",
				    json_pack("{s:s,s:s,s:s,s:s}", "kubernetes.io/config.hash",
					      hash, "kubernetes.io/config.mirror", hash,
					      "kubernetes.io/config.seen", seen,
					      "kubernetes.io/config.source", "file"));
	}
	if (!p->spec)
		return o;
	json_object_set_new(o, "conditions", conditions_json(p));
	if (p->ninit) {
		json_t *a = json_array();
		for (size_t i = 0; i < p->ninit; i++)
			json_array_append_new(a, container_json(p, &p->c[i]));
		json_object_set_new(o, "initContainerStatuses", a);
	}
	json_t *a = json_array();
	for (size_t i = p->ninit; i < p->nc; i++)
		json_array_append_new(a, container_json(p, &p->c[i]));
	json_object_set_new(o, "containerStatuses", a);
	if (*b->host_ip) {
		json_object_set_new(o, "hostIP", json_string(b->host_ip));
		json_object_set_new(o, "hostIPs", json_pack("[{s:s}]", "ip", b->host_ip));
	}
	if (p->pod_ips && p->pod_ips[0]) {
		json_object_set_new(o, "podIP", json_string(p->pod_ips[0]));
		json_t *a2 = json_array();
		for (char **ip = p->pod_ips; *ip; ip++)
			json_array_append_new(a2, json_pack("{s:s}", "ip", *ip));
		json_object_set_new(o, "podIPs", a2);
	}
	if (p->has_start_time)
		json_object_set_new(o, "startTime", jtime(&p->start_time));
	json_object_set_new(o, "qosClass", json_string(res_qos_name(res_qos_class(p->spec))));
	return o;
}

/* JSON to YAML, for the `status` file: block style, strings quoted only
 * when they would not read back as the same string. */
static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	static const char *const words[] = {"true", "false", "yes", "no", "on", "off",
					    "null", "~",     "y",   "n",  NULL};
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	if (strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || (s[0] >= '0' && s[0] <= '9') || s[0] == '.')
		return true;
	for (const char *p = s; *p; p++)
		if ((*p == ':' && (p[1] == ' ' || !p[1])) || (*p == ' ' && p[1] == '#') ||
		    (unsigned char)*p < ' ' || *p == '"')
			return true;
	return s[strlen(s) - 1] == ' ';
}

static void yaml_scalar(struct strbuf *sb, json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!needs_quotes(s)) {
			sb_puts(sb, s);
			return;
		}
		char *q = json_dumps(v, JSON_ENCODE_ANY);
		sb_puts(sb, q);
		free(q);
	} else if (json_is_null(v)) {
		sb_puts(sb, "null");
	} else {
		char *q = json_dumps(v, JSON_ENCODE_ANY);
		sb_puts(sb, q);
		free(q);
	}
}

static void yaml_emit(struct strbuf *sb, json_t *v, int indent, bool in_seq);

static void yaml_value_after_key(struct strbuf *sb, json_t *v, int indent)
{
	if (json_is_object(v) && json_object_size(v)) {
		sb_putc(sb, '\n');
		yaml_emit(sb, v, indent + 2, false);
	} else if (json_is_array(v) && json_array_size(v)) {
		sb_putc(sb, '\n');
		yaml_emit(sb, v, indent, false);
	} else if (json_is_object(v)) {
		sb_puts(sb, " {}\n");
	} else if (json_is_array(v)) {
		sb_puts(sb, " []\n");
	} else {
		sb_putc(sb, ' ');
		yaml_scalar(sb, v);
		sb_putc(sb, '\n');
	}
}

static void yaml_emit(struct strbuf *sb, json_t *v, int indent, bool in_seq)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *val;
		bool first = true;
		json_object_foreach(v, k, val)
		{
			if (!(first && in_seq))
				sb_printf(sb, "%*s", indent, "");
			first = false;
			sb_printf(sb, "%s:", k);
			yaml_value_after_key(sb, val, indent);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *val;
		json_array_foreach(v, i, val)
		{
			sb_printf(sb, "%*s- ", indent, "");
			if (json_is_object(val) && json_object_size(val)) {
				yaml_emit(sb, val, indent + 2, true);
			} else {
				yaml_scalar(sb, val);
				sb_putc(sb, '\n');
			}
		}
	} else {
		yaml_scalar(sb, v);
		sb_putc(sb, '\n');
	}
}

static char *ps_key(const struct pod *p);

static bool replace(char **slot, char *fresh)
{
	if (*slot && !strcmp(*slot, fresh)) {
		free(fresh);
		return false;
	}
	free(*slot);
	*slot = fresh;
	return true;
}

/* The container statuses of TREE in container order (init containers
 * first), or NULL past the end. */
static json_t *tree_container(json_t *tree, const struct pod *p, size_t i)
{
	if (!tree)
		return NULL;
	if (i < p->ninit)
		return json_array_get(json_object_get(tree, "initContainerStatuses"), i);
	return json_array_get(json_object_get(tree, "containerStatuses"), i - p->ninit);
}

/* Build the pod's status document and compare it with the last one; the
 * text is rendered only when someone reads it (status_pod_text): a probe
 * result changes the document every period, and most of those versions are
 * never read. What changed is announced: status and status.json, each
 * container's status file only if its part changed, phase and ps. */
void status_render_pod(struct backend *b, struct pod *p)
{
	json_t *st = pod_status_json(b, p);
	char *phase =
	    xasprintf("%s%s", p->spec ? status_phase_name(p->phase) : "", p->spec ? "\n" : "");
	json_t *old = p->r_tree;
	bool ch_tree = !old || !json_equal(old, st);
	/* ps says what phase says, at the same moment */
	if (replace(&p->r_pskey, ps_key(p)))
		status_ps_changed(b);
	bool ch_phase = replace(&p->r_phase, phase);
	if (ch_tree || ch_phase)
		realtime_now(&p->r_mtime);
	if (ch_tree) {
		if (b->change_cb) {
			b->change_cb(b->change_arg, BC_MODIFIED, p->name, NULL, BF_STATUS);
			b->change_cb(b->change_arg, BC_MODIFIED, p->name, NULL, BF_STATUS_JSON);
			for (size_t i = 0; i < p->nc; i++) {
				json_t *was = tree_container(old, p, i),
				       *is = tree_container(st, p, i);
				if (!was || !is || !json_equal(was, is))
					b->change_cb(b->change_arg, BC_MODIFIED, p->name,
						     p->c[i].name, BF_CSTATUS);
			}
		}
		json_decref(old);
		p->r_tree = st;
		p->r_stale = true;
		status_render_node(b);
	} else {
		json_decref(st);
	}
	if (ch_phase && b->change_cb)
		b->change_cb(b->change_arg, BC_MODIFIED, p->name, NULL, BF_PHASE);
}

void status_probes_changed(struct backend *b, struct pod *p)
{
	bool any = false;
	for (size_t i = 0; i < p->nc; i++) {
		json_t *ct = tree_container(p->r_tree, p, i);
		if (!ct) {
			status_render_pod(b, p);
			return;
		}
		json_t *was = json_object_get(ct, "probes");
		json_t *is = probes_json(&p->c[i]);
		if (!was && !is)
			continue;
		if (!was || !is) {
			/* probes appeared or went: not a probe-only change */
			json_decref(is);
			status_render_pod(b, p);
			return;
		}
		if (json_equal(was, is)) {
			json_decref(is);
			continue;
		}
		json_object_set_new(ct, "probes", is); /* in place: keeps the key order */
		any = true;
		if (b->change_cb)
			b->change_cb(b->change_arg, BC_MODIFIED, p->name, p->c[i].name, BF_CSTATUS);
	}
	if (!any)
		return;
	p->r_stale = true;
	realtime_now(&p->r_mtime);
	if (b->change_cb) {
		b->change_cb(b->change_arg, BC_MODIFIED, p->name, NULL, BF_STATUS);
		b->change_cb(b->change_arg, BC_MODIFIED, p->name, NULL, BF_STATUS_JSON);
	}
}

const char *status_pod_text(struct pod *p, enum backend_file file)
{
	if (p->r_stale || !p->r_json) {
		json_t *st = p->r_tree ? json_incref(p->r_tree) : json_object();
		char *js = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		free(p->r_json);
		p->r_json = xasprintf("%s\n", js);
		free(js);
		struct strbuf sb;
		sb_init(&sb);
		yaml_emit(&sb, st, 0, false);
		free(p->r_status);
		p->r_status = sb_steal(&sb);
		json_decref(st);
		p->r_stale = false;
	}
	return file == BF_STATUS ? p->r_status : p->r_json;
}

char *status_events_text(const struct pod *p)
{
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; i < p->nev; i++) {
		const struct event *e = &p->ev[i];
		char t[40];
		status_timefmt(&e->when, t, sizeof(t));
		sb_printf(&sb, "%s %-7s %s %s%s%s\n", t, e->warning ? "Warning" : "Normal",
			  e->reason, *e->object ? e->object : "", *e->object ? ": " : "",
			  e->message);
	}
	return sb_steal(&sb);
}

/* "5s", "3m4s", "2h", "4d": kubectl's short durations */
static void human_age(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < 600)
		snprintf(buf, len, "%lldm%llds", (long long)(secs / 60), (long long)(secs % 60));
	else if (secs < 3 * 3600)
		snprintf(buf, len, "%lldm", (long long)(secs / 60));
	else if (secs < 48 * 3600)
		snprintf(buf, len, "%lldh", (long long)(secs / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(secs / 86400));
}

/* kubectl's STATUS column (printPod). */
static char *ps_status(const struct pod *p, int *ready, int *total, int *restarts,
		       struct timespec *last_restart)
{
	char *reason = xstrdup(p->reason ? p->reason : status_phase_name(p->phase));
	if (!p->spec) {
		free(reason);
		return xstrdup("<none>");
	}
	*ready = *total = *restarts = 0;
	last_restart->tv_sec = 0;
	bool initializing = false;
	for (size_t i = 0; i < p->ninit; i++) {
		const struct container *c = &p->c[i];
		if (c->sidecar)
			(*total)++;
		*restarts += c->restart_count;
		if (c->has_last && c->last.finished_at.tv_sec > last_restart->tv_sec)
			*last_restart = c->last.finished_at;
		if (c->phase == C_TERMINATED && c->term.exit_code == 0)
			continue;
		if (c->sidecar && c->started) {
			if (c->ready)
				(*ready)++;
			continue;
		}
		if (initializing)
			continue;
		initializing = true;
		free(reason);
		if (c->phase == C_TERMINATED) {
			if (c->term.reason && *c->term.reason)
				reason = xasprintf("Init:%s", c->term.reason);
			else
				reason = xasprintf("Init:ExitCode:%d", c->term.exit_code);
		} else if (c->phase == C_WAITING && c->waiting_reason && *c->waiting_reason &&
			   strcmp(c->waiting_reason, "PodInitializing")) {
			reason = xasprintf("Init:%s", c->waiting_reason);
		} else {
			reason = xasprintf("Init:%zu/%zu", i, p->ninit);
		}
	}
	/* kubectl walks the app containers unless initializing, or once the
	 * Initialized condition is True (an app container has started: init
	 * containers running again in a new sandbox do not hide them) */
	bool initialized = false;
	for (size_t i = p->ninit; i < p->nc; i++)
		initialized |= p->c[i].ever_started;
	if (!initializing || initialized) {
		*restarts = 0;
		last_restart->tv_sec = 0;
		for (size_t i = 0; i < p->ninit; i++)
			if (p->c[i].sidecar) {
				*restarts += p->c[i].restart_count;
				if (p->c[i].has_last &&
				    p->c[i].last.finished_at.tv_sec > last_restart->tv_sec)
					*last_restart = p->c[i].last.finished_at;
			}
		bool has_running = false;
		for (size_t i = p->nc; i-- > p->ninit;) {
			const struct container *c = &p->c[i];
			(*total)++;
			*restarts += c->restart_count;
			if (c->has_last && c->last.finished_at.tv_sec > last_restart->tv_sec)
				*last_restart = c->last.finished_at;
			if (c->phase == C_WAITING && c->waiting_reason && *c->waiting_reason) {
				free(reason);
				reason = xstrdup(c->waiting_reason);
			} else if (c->phase == C_TERMINATED && c->term.reason && *c->term.reason) {
				free(reason);
				reason = xstrdup(c->term.reason);
			} else if (c->phase == C_TERMINATED) {
				free(reason);
				reason = xasprintf("ExitCode:%d", c->term.exit_code);
			} else if (c->phase == C_RUNNING) {
				has_running = true;
				if (c->ready)
					(*ready)++;
			}
		}
		if (!strcmp(reason, "Completed") && has_running) {
			bool pod_ready = *ready == *total;
			free(reason);
			reason = xstrdup(pod_ready ? "Running" : "NotReady");
		}
	} else {
		for (size_t i = p->ninit; i < p->nc; i++)
			(*total)++;
	}
	if (p->deleting && p->phase != PHASE_SUCCEEDED && p->phase != PHASE_FAILED) {
		free(reason);
		reason = xstrdup("Terminating");
	}
	/* a pod the node refused (OutOfcpu, ...) has no container statuses
	 * for kubectl to look at: its reason shows */
	bool started = false;
	for (size_t i = 0; i < p->nc; i++)
		started = started || p->c[i].ever_started;
	if (p->phase == PHASE_FAILED && p->reason && !started) {
		free(reason);
		reason = xstrdup(p->reason);
	}
	return reason;
}

/* The IP column: the pod's first IP, as kubectl's wide output. */
static const char *ps_ip(const struct pod *p)
{
	return p->pod_ips && p->pod_ips[0] ? p->pod_ips[0] : "<none>";
}

/* One pod's ps line without its AGE column: what changes it is a change
 * of ps. */
static char *ps_key(const struct pod *p)
{
	int ready = 0, total = 0, restarts = 0;
	struct timespec last = {0};
	char *st = ps_status(p, &ready, &total, &restarts, &last);
	char *key = xasprintf("%d/%d %s %d %lld %s", ready, total, st, restarts,
			      (long long)last.tv_sec, ps_ip(p));
	free(st);
	return key;
}

void status_ps_changed(struct backend *b)
{
	realtime_now(&b->r_ps_mtime);
	if (b->change_cb)
		b->change_cb(b->change_arg, BC_MODIFIED, NULL, NULL, BF_PS);
}

/* The ps table, rendered when read (its AGE column moves by itself). */
char *status_ps_table(struct backend *b)
{
	struct timespec now;
	realtime_now(&now);
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "%-30s %-7s %-24s %-14s %-6s %s\n", "NAME", "READY", "STATUS", "RESTARTS",
		  "AGE", "IP");
	for (size_t i = 0; i < b->npods; i++) {
		struct pod *p = b->pods[i];
		int ready = 0, total = 0, restarts = 0;
		struct timespec last = {0};
		char *st = ps_status(p, &ready, &total, &restarts, &last);
		char rs[64], age[32], rdy[32];
		if (last.tv_sec) {
			char ago[32];
			human_age(now.tv_sec - last.tv_sec, ago, sizeof(ago));
			snprintf(rs, sizeof(rs), "%d (%s ago)", restarts, ago);
		} else {
			snprintf(rs, sizeof(rs), "%d", restarts);
		}
		human_age(now.tv_sec - p->created.tv_sec, age, sizeof(age));
		snprintf(rdy, sizeof(rdy), "%d/%d", ready, total);
		sb_printf(&sb, "%-30s %-7s %-24s %-14s %-6s %s\n", p->name, rdy, st, rs, age,
			  ps_ip(p));
		free(st);
	}
	return sb_steal(&sb);
}

/* A quantity as kubectl prints it in YAML: quoted when it would read back
 * as a number ("2"), plain otherwise (100m, 64Mi). */
static void yq(char *buf, size_t len, const char *q)
{
	bool digits = *q != '\0';
	for (const char *p = q; *p; p++)
		if (*p < '0' || *p > '9')
			digits = false;
	snprintf(buf, len, digits ? "\"%s\"" : "%s", q);
}

/* The node as `kubectl describe node` sums it: capacity, allocatable, and
 * the requests and limits of the pods admitted and not finished. */
void status_render_node(struct backend *b)
{
	struct timespec now;
	realtime_now(&now);
	struct res_amount req, lim;
	int64_t admitted;
	podres_node_totals(b, &req, &lim, &admitted);
	char q[32], cpu[40], mem[40], eph[40], amem[40], aeph[40], rcpu[40], rmem[40], reph[40],
	    lcpu[40], lmem[40], leph[40];
	yq(cpu, sizeof(cpu), qty_format_milli(b->node_milli_cpu, q, sizeof(q)));
	yq(mem, sizeof(mem), qty_format_bytes(b->node_memory, q, sizeof(q)));
	yq(eph, sizeof(eph),
	   qty_format_bytes(b->node_ephemeral > 0 ? b->node_ephemeral : 0, q, sizeof(q)));
	yq(amem, sizeof(amem), qty_format_bytes(b->alloc_memory, q, sizeof(q)));
	yq(aeph, sizeof(aeph),
	   qty_format_bytes(b->alloc_ephemeral > 0 ? b->alloc_ephemeral : 0, q, sizeof(q)));
	yq(rcpu, sizeof(rcpu), qty_format_milli(req.cpu_milli, q, sizeof(q)));
	yq(rmem, sizeof(rmem), qty_format_bytes(req.memory, q, sizeof(q)));
	yq(reph, sizeof(reph), qty_format_bytes(req.ephemeral, q, sizeof(q)));
	yq(lcpu, sizeof(lcpu), qty_format_milli(lim.cpu_milli, q, sizeof(q)));
	yq(lmem, sizeof(lmem), qty_format_bytes(lim.memory, q, sizeof(q)));
	yq(leph, sizeof(leph), qty_format_bytes(lim.ephemeral, q, sizeof(q)));
	struct strbuf nsb;
	sb_init(&nsb);
	/* kubectl's order: alphabetical */
	sb_printf(
	    &nsb,
	    "name: %s\n"
	    "capacity:\n  cpu: %s\n  ephemeral-storage: %s\n  memory: %s\n  pods: \"110\"\n"
	    "allocatable:\n  cpu: %s\n  ephemeral-storage: %s\n  memory: %s\n  pods: \"110\"\n"
	    "requested:\n  cpu: %s\n  ephemeral-storage: %s\n  memory: %s\n  pods: \"%lld\"\n"
	    "limits:\n  cpu: %s\n  ephemeral-storage: %s\n  memory: %s\n"
	    "pods: %zu\n",
	    b->node_name, cpu, eph, mem, cpu, aeph, amem, rcpu, reph, rmem, (long long)admitted,
	    lcpu, leph, lmem, b->npods);
	static_node_text(b, &nsb);
	char *node = sb_steal(&nsb);
	if (replace(&b->r_node, node)) {
		b->r_node_mtime = now;
		if (b->change_cb)
			b->change_cb(b->change_arg, BC_MODIFIED, NULL, NULL, BF_NODE);
	}
}

char *status_container_text(const struct pod *p, const struct container *c)
{
	json_t *o = container_json(p, c);
	struct strbuf sb;
	sb_init(&sb);
	yaml_emit(&sb, o, 0, false);
	json_decref(o);
	return sb_steal(&sb);
}
