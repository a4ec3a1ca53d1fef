/* podstore.c: what survives podfs: STATE/pods/NAME/spec.yaml (the manifest
 * as applied, byte for byte) and STATE/pods/NAME/state.json (uid, container
 * instances, restart counts, last terminations, back-off, events). Both are
 * written to a temporary file, fsynced and renamed, so a crash leaves the
 * old or the new version, never a torn one. */
#include "backend/image.h"
#include "backend/pod.h"
#include "backend/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *podstore_pod_dir(struct backend *b, const char *name)
{
	return xasprintf("%s/pods/%s", b->state_dir, name);
}

int podstore_save_spec(struct backend *b, const char *name, const char *buf, size_t len, char **err)
{
	char *dir = podstore_pod_dir(b, name);
	int r = util_mkdir_p(dir, 0700);
	char *path = xasprintf("%s/spec.yaml", dir);
	/* `image rm` must see this spec, or finish before it is stored */
	int ul = b->images ? image_use_lock(b->images, false) : -1;
	if (r == 0) {
		/* the spec it replaces stays as spec.prev.yaml (a second link,
		 * so spec.yaml is never missing): a podfs that dies before the
		 * pod took the new one tells an image update from a replace */
		char *prev = xasprintf("%s/spec.prev.yaml", dir);
		unlink(prev);
		(void)link(path, prev); /* fails for a first spec: none to keep */
		free(prev);
		r = util_write_atomic(path, buf, len, 0600);
	}
	image_use_unlock(ul);
	if (r < 0 && err)
		*err = xasprintf("store %s: %s", path, strerror(-r));
	free(path);
	free(dir);
	return r;
}

/* A static pod's marker: STATE/pods/NAME/source holds the manifest file's
 * path. Written before its spec, so a pod with a stored spec from a file
 * is never mistaken for one made through the tree. */
int podstore_save_source(struct backend *b, const char *name, const char *source)
{
	char *dir = podstore_pod_dir(b, name);
	int r = util_mkdir_p(dir, 0700);
	char *path = xasprintf("%s/source", dir);
	if (r == 0)
		r = util_write_atomic(path, source, strlen(source), 0600);
	free(path);
	free(dir);
	return r;
}

static json_t *ts_json(const struct timespec *ts)
{
	return json_pack("[I,I]", (json_int_t)ts->tv_sec, (json_int_t)ts->tv_nsec);
}

static void ts_from(json_t *j, struct timespec *ts)
{
	if (json_is_array(j) && json_array_size(j) == 2) {
		ts->tv_sec = (time_t)json_integer_value(json_array_get(j, 0));
		ts->tv_nsec = (long)json_integer_value(json_array_get(j, 1));
	}
}

static json_t *term_json(const struct cterm *t)
{
	json_t *o = json_pack("{s:i,s:s,s:o,s:o,s:s}", "exitCode", t->exit_code, "reason",
			      t->reason ? t->reason : "", "startedAt", ts_json(&t->started_at),
			      "finishedAt", ts_json(&t->finished_at), "cid", t->cid);
	if (t->message)
		json_object_set_new(o, "message", json_string(t->message));
	return o;
}

static void term_from(json_t *o, struct cterm *t)
{
	if (!json_is_object(o))
		return;
	t->exit_code = (int)json_integer_value(json_object_get(o, "exitCode"));
	const char *r = json_string_value(json_object_get(o, "reason"));
	t->reason = r && *r ? xstrdup(r) : NULL;
	const char *m = json_string_value(json_object_get(o, "message"));
	t->message = m ? xstrdup(m) : NULL;
	ts_from(json_object_get(o, "startedAt"), &t->started_at);
	ts_from(json_object_get(o, "finishedAt"), &t->finished_at);
	const char *cid = json_string_value(json_object_get(o, "cid"));
	snprintf(t->cid, sizeof(t->cid), "%s", cid ? cid : "");
}

static json_t *probes_json(const struct container *c)
{
	json_t *a = json_array();
	for (int k = 0; k < PK_COUNT; k++) {
		const struct probe_state *ps = &c->probes[k];
		json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:b,s:o,s:i,s:o}", "result", ps->result,
				      "successes", ps->successes, "failures", ps->failures,
				      "errors", ps->errors, "hasLast", ps->has_last, "lastTime",
				      ts_json(&ps->last_time), "lastOutcome", ps->last_outcome,
				      "lastFailureTime", ts_json(&ps->last_failure_time));
		if (ps->last_failure)
			json_object_set_new(o, "lastFailure", json_string(ps->last_failure));
		json_array_append_new(a, o);
	}
	return a;
}

static void probes_from(json_t *a, struct container *c)
{
	size_t k;
	json_t *o;
	json_array_foreach(a, k, o)
	{
		if (k >= PK_COUNT || !json_is_object(o))
			break;
		struct probe_state *ps = &c->probes[k];
		ps->result = (int)json_integer_value(json_object_get(o, "result"));
		ps->successes = (int)json_integer_value(json_object_get(o, "successes"));
		ps->failures = (int)json_integer_value(json_object_get(o, "failures"));
		ps->errors = (int)json_integer_value(json_object_get(o, "errors"));
		ps->has_last = json_is_true(json_object_get(o, "hasLast"));
		ts_from(json_object_get(o, "lastTime"), &ps->last_time);
		ps->last_outcome = (int)json_integer_value(json_object_get(o, "lastOutcome"));
		ts_from(json_object_get(o, "lastFailureTime"), &ps->last_failure_time);
		const char *f = json_string_value(json_object_get(o, "lastFailure"));
		free(ps->last_failure);
		ps->last_failure = f ? xstrdup(f) : NULL;
	}
}

/* FNV-1a of a manifest: which spec a state.json belongs to. */
static char *spec_digest(const char *buf, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 1099511628211ULL;
	}
	return xasprintf("%016llx-%zu", (unsigned long long)h, len);
}

int podstore_save_state(struct backend *b, struct pod *p)
{
	if (!p->spec)
		return 0;
	json_t *cs = json_array();
	struct timespec now;
	realtime_now(&now);
	int64_t mono = mono_ms();
	for (size_t i = 0; i < p->nc; i++) {
		struct container *c = &p->c[i];
		/* back-off times are monotonic; store them as wall-clock */
		int64_t upd = c->backoff_updated_ms
				  ? (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 -
					(mono - c->backoff_updated_ms)
				  : 0;
		json_t *o = json_pack("{s:s,s:i,s:i,s:s,s:i,s:b,s:o,s:I,s:I,s:s}", "name", c->name,
				      "attempt", c->attempt, "restartCount", c->restart_count,
				      "cid", c->cid, "phase", (int)c->phase, "everStarted",
				      c->ever_started, "startedAt", ts_json(&c->started_at),
				      "backoffMs", (json_int_t)c->backoff_ms, "backoffUpdated",
				      (json_int_t)upd, "imageID", c->image_id ? c->image_id : "");
		json_object_set_new(o, "pid", json_integer(c->pid));
		if (c->image_ref)
			json_object_set_new(o, "image", json_string(c->image_ref));
		if (c->phase == C_TERMINATED)
			json_object_set_new(o, "term", term_json(&c->term));
		if (c->has_last)
			json_object_set_new(o, "last", term_json(&c->last));
		if (c->waiting_reason)
			json_object_set_new(o, "waitingReason", json_string(c->waiting_reason));
		if (c->waiting_message)
			json_object_set_new(o, "waitingMessage", json_string(c->waiting_message));
		if (c->phase == C_RUNNING) {
			/* so probe results, ready and started survive a podfs restart */
			json_object_set_new(o, "ready", json_boolean(c->ready));
			json_object_set_new(o, "started", json_boolean(c->started));
			json_object_set_new(o, "probes", probes_json(c));
		}
		json_array_append_new(cs, o);
	}
	json_t *ev = json_array();
	size_t from = p->nev > 200 ? p->nev - 200 : 0;
	for (size_t i = from; i < p->nev; i++)
		json_array_append_new(
		    ev, json_pack("{s:o,s:b,s:s,s:s,s:s}", "when", ts_json(&p->ev[i].when),
				  "warning", p->ev[i].warning, "reason", p->ev[i].reason, "object",
				  p->ev[i].object, "message", p->ev[i].message));
	json_t *root = json_pack(
	    "{s:s,s:o,s:o,s:s,s:i,s:b,s:i,s:b,s:o,s:o}", "uid", p->uid, "created",
	    ts_json(&p->created), "startTime", ts_json(&p->start_time), "infraCid", p->infra_cid,
	    "infraPid", (int)p->infra_pid, "sandboxReady", p->sandbox_ready, "phase", (int)p->phase,
	    "hasStartTime", p->has_start_time, "containers", cs, "events", ev);
	if (p->reason)
		json_object_set_new(root, "reason", json_string(p->reason));
	if (p->message)
		json_object_set_new(root, "message", json_string(p->message));
	if (p->evicted)
		json_object_set_new(root, "evictedAt", ts_json(&p->evicted_at));
	if (p->pod_ips) {
		json_t *ips = json_array();
		for (char **ip = p->pod_ips; *ip; ip++)
			json_array_append_new(ips, json_string(*ip));
		json_object_set_new(root, "podIPs", ips);
	}
	char *dg = spec_digest(p->spec_yaml, p->spec_len);
	json_object_set_new(root, "spec", json_string(dg));
	free(dg);
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	p->state_saved_ms = mono_ms();
	p->events_unsaved = false;
	if (p->saved_state && !strcmp(p->saved_state, text)) {
		free(text);
		return 0;
	}
	char *dir = podstore_pod_dir(b, p->name);
	char *path = xasprintf("%s/state.json", dir);
	int r = util_write_atomic(path, text, strlen(text), 0600);
	free(path);
	free(dir);
	free(p->saved_state);
	p->saved_state = text;
	return r;
}

/* Did podfs die between storing YAML and acting on it, with a change that
 * updates the pod in place? True if spec.prev.yaml is the spec the state
 * (digest SDG) was written for and YAML changes no more than images. */
static bool prev_in_place(struct backend *b, const char *name, const char *sdg, const char *yaml,
			  size_t ylen)
{
	char *dir = podstore_pod_dir(b, name);
	char *path = xasprintf("%s/spec.prev.yaml", dir);
	char *prev = NULL;
	size_t plen = 0;
	bool in_place = false;
	if (util_read_file(path, 2 * 1024 * 1024, &prev, &plen) == 0) {
		char *pdg = spec_digest(prev, plen);
		in_place = !strcmp(pdg, sdg) && spec_compare(prev, plen, yaml, ylen) != SPEC_REPLACE;
		free(pdg);
		free(prev);
	}
	free(path);
	free(dir);
	return in_place;
}

int podstore_load(struct backend *b, const char *name, struct pod **out, char **err)
{
	char *dir = podstore_pod_dir(b, name);
	char *sp = xasprintf("%s/spec.yaml", dir), *st = xasprintf("%s/state.json", dir);
	char *yaml = NULL, *state = NULL;
	size_t ylen = 0, slen = 0;
	struct pod *p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	realtime_now(&p->created);
	util_random_hex(p->uid);
	char *src = xasprintf("%s/source", dir), *srcbuf = NULL;
	size_t srclen = 0;
	if (util_read_file(src, 4096, &srcbuf, &srclen) == 0 && srclen &&
	    !memchr(srcbuf, 0, srclen))
		p->static_src = xstrndup(srcbuf, srclen);
	free(srcbuf);
	free(src);
	/* a deletion under way when podfs went away goes on */
	char *del = xasprintf("%s/deleting", dir);
	p->deleting = access(del, F_OK) == 0;
	free(del);
	int r = util_read_file(sp, 2 * 1024 * 1024, &yaml, &ylen);
	struct spec_pod *spec = NULL;
	if (r == 0) {
		struct diag_list errs = {0};
		if (spec_parse(yaml, ylen, &spec, &errs) < 0) {
			/* stored specs were valid when applied; a newer podfs may be
			 * stricter: keep the slot, say why */
			char *e = diag_format_all(&errs, sp);
			p->apply_error = e;
			free(yaml);
			yaml = NULL;
		}
		diag_list_free(&errs);
	}
	free(dir);
	pod_install_spec(p, spec, yaml, ylen);
	if (util_read_file(st, 16 * 1024 * 1024, &state, &slen) == 0 && spec) {
		json_error_t je;
		json_t *root = json_loads(state, 0, &je);
		if (root) {
			const char *uid = json_string_value(json_object_get(root, "uid"));
			if (uid)
				snprintf(p->uid, sizeof(p->uid), "%s", uid);
			ts_from(json_object_get(root, "created"), &p->created);
			ts_from(json_object_get(root, "startTime"), &p->start_time);
			p->has_start_time = json_is_true(json_object_get(root, "hasStartTime"));
			const char *ic = json_string_value(json_object_get(root, "infraCid"));
			snprintf(p->infra_cid, sizeof(p->infra_cid), "%s", ic ? ic : "");
			p->infra_pid = (pid_t)json_integer_value(json_object_get(root, "infraPid"));
			p->sandbox_ready = json_is_true(json_object_get(root, "sandboxReady"));
			p->phase =
			    (enum pod_phase)json_integer_value(json_object_get(root, "phase"));
			const char *rs = json_string_value(json_object_get(root, "reason"));
			p->reason = rs ? xstrdup(rs) : NULL;
			const char *ms = json_string_value(json_object_get(root, "message"));
			p->message = ms ? xstrdup(ms) : NULL;
			/* an eviction's stop goes on with its own grace after a restart */
			if (json_object_get(root, "evictedAt")) {
				p->evicted = true;
				ts_from(json_object_get(root, "evictedAt"), &p->evicted_at);
			}
			json_t *ips = json_object_get(root, "podIPs");
			if (json_is_array(ips) && json_array_size(ips) > 0 &&
			    json_array_size(ips) <= 16) {
				size_t n = json_array_size(ips), k = 0;
				p->pod_ips = xcalloc(n + 1, sizeof(char *));
				for (size_t j = 0; j < n; j++) {
					const char *ip = json_string_value(json_array_get(ips, j));
					if (ip && strlen(ip) < 64)
						p->pod_ips[k++] = xstrdup(ip);
				}
				if (k == 0) {
					free(p->pod_ips);
					p->pod_ips = NULL;
				}
			}
			struct timespec now;
			realtime_now(&now);
			int64_t now_ms_real = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
			size_t i;
			json_t *o;
			json_array_foreach(json_object_get(root, "containers"), i, o)
			{
				const char *cn = json_string_value(json_object_get(o, "name"));
				struct container *c = NULL;
				for (size_t k = 0; cn && k < p->nc; k++)
					if (!strcmp(p->c[k].name, cn))
						c = &p->c[k];
				if (!c)
					continue;
				c->attempt = (int)json_integer_value(json_object_get(o, "attempt"));
				c->restart_count =
				    (int)json_integer_value(json_object_get(o, "restartCount"));
				const char *cid = json_string_value(json_object_get(o, "cid"));
				snprintf(c->cid, sizeof(c->cid), "%s", cid ? cid : "");
				c->phase =
				    (enum cphase)json_integer_value(json_object_get(o, "phase"));
				c->ever_started = json_is_true(json_object_get(o, "everStarted"));
				c->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
				ts_from(json_object_get(o, "startedAt"), &c->started_at);
				c->backoff_ms = json_integer_value(json_object_get(o, "backoffMs"));
				int64_t upd =
				    json_integer_value(json_object_get(o, "backoffUpdated"));
				c->backoff_updated_ms = upd ? mono_ms() - (now_ms_real - upd) : 0;
				const char *img = json_string_value(json_object_get(o, "image"));
				if (img && *img && c->ever_started) {
					free(c->image_ref);
					c->image_ref = xstrdup(img);
				}
				const char *iid = json_string_value(json_object_get(o, "imageID"));
				free(c->image_id);
				c->image_id = iid && *iid ? xstrdup(iid) : NULL;
				term_from(json_object_get(o, "term"), &c->term);
				if (json_object_get(o, "last")) {
					term_from(json_object_get(o, "last"), &c->last);
					c->has_last = true;
				}
				free(c->waiting_reason);
				free(c->waiting_message);
				const char *wr =
				    json_string_value(json_object_get(o, "waitingReason"));
				const char *wm =
				    json_string_value(json_object_get(o, "waitingMessage"));
				c->waiting_reason = wr ? xstrdup(wr) : NULL;
				c->waiting_message = wm ? xstrdup(wm) : NULL;
				if (c->phase == C_RUNNING) {
					c->started = true;
					c->ready = !c->init || c->sidecar;
					json_t *rd = json_object_get(o, "ready");
					json_t *sd = json_object_get(o, "started");
					if (json_is_boolean(rd) && json_is_boolean(sd)) {
						c->ready = json_is_true(rd);
						c->started = json_is_true(sd);
						c->probes_loaded = true;
					}
					probes_from(json_object_get(o, "probes"), c);
				}
			}
			json_array_foreach(json_object_get(root, "events"), i, o)
			{
				p->ev = xrealloc(p->ev, (p->nev + 1) * sizeof(*p->ev));
				struct event *e = &p->ev[p->nev++];
				memset(e, 0, sizeof(*e));
				ts_from(json_object_get(o, "when"), &e->when);
				e->warning = json_is_true(json_object_get(o, "warning"));
				const char *s1 = json_string_value(json_object_get(o, "reason"));
				const char *s2 = json_string_value(json_object_get(o, "object"));
				const char *s3 = json_string_value(json_object_get(o, "message"));
				e->reason = xstrdup(s1 ? s1 : "");
				e->object = xstrdup(s2 ? s2 : "");
				e->message = xstrdup(s3 ? s3 : "");
				e->count = 1;
				p->events_mtime = e->when;
			}
			/* spec.yaml is stored before a replacement starts: a state
			 * of another spec means podfs died while replacing; the
			 * new spec waits again for the old containers to stop */
			const char *sdg = json_string_value(json_object_get(root, "spec"));
			char *dg = spec_digest(yaml, ylen);
			struct diag_list errs = {0};
			if (sdg && strcmp(sdg, dg) && !p->static_src &&
			    prev_in_place(b, name, sdg, yaml, ylen))
				sdg = NULL; /* the containers are restarted as the images say */
			if (sdg && strcmp(sdg, dg) &&
			    spec_parse(yaml, ylen, &p->pending, &errs) == 0) {
				p->pending_yaml = xstrndup(yaml, ylen);
				p->pending_len = ylen;
			}
			diag_list_free(&errs);
			free(dg);
			json_decref(root);
		}
	}
	free(state);
	free(sp);
	free(st);
	p->rundir = xasprintf("%s/pods/%s", b->rt.run_dir, p->uid);
	*out = p;
	(void)err;
	return 0;
}

int podstore_mark_deleting(struct backend *b, const char *name)
{
	char *dir = podstore_pod_dir(b, name);
	char *path = xasprintf("%s/deleting", dir);
	int r = util_write_atomic(path, "", 0, 0600);
	free(path);
	free(dir);
	return r;
}

void podstore_remove(struct backend *b, const char *name)
{
	char *dir = podstore_pod_dir(b, name);
	util_rm_rf(dir);
	free(dir);
}
