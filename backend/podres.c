/* podres.c: resources and volumes for the backend's pods: node admission,
 * the pod cgroup, volume setup and teardown, OOM kills, oom_score_adj.
 * The arithmetic is in resources.c, the files in cgroup.c and volume.c;
 * this joins them to struct pod and struct backend for pod.c. */
#include "backend/cgroup.h"
#include "backend/pod.h"
#include "backend/resources.h"
#include "backend/util.h"
#include "backend/volume.h"

#include <stdio.h>
#include <string.h>

#define NODE_MAX_PODS 110 /* the kubelet's default maxPods */

char *podres_cgroup_path(const struct pod *p)
{
	return xasprintf("/podfs/%s", p->uid);
}

/* Does P count against the node: admitted (it got a start time) and not
 * finished? */
static bool counts(const struct pod *p)
{
	return p->spec && p->has_start_time && p->phase != PHASE_SUCCEEDED &&
	       p->phase != PHASE_FAILED;
}

void podres_node_totals(struct backend *b, struct res_amount *req, struct res_amount *lim,
			int64_t *npods)
{
	__int128 rc = 0, rm = 0, re = 0, lc = 0, lm = 0, le = 0;
	int64_t n = 0;
	for (size_t i = 0; i < b->npods; i++) {
		const struct pod *p = b->pods[i];
		if (!counts(p))
			continue;
		struct res_amount r, l;
		res_pod_requests(p->spec, &r);
		res_pod_limits(p->spec, &l);
		rc += r.cpu_milli;
		rm += r.memory;
		re += r.ephemeral > 0 ? r.ephemeral : 0;
		lc += l.cpu_milli;
		lm += l.memory;
		le += l.ephemeral > 0 ? l.ephemeral : 0;
		n++;
	}
#define CLAMP(v) ((v) > INT64_MAX ? INT64_MAX : (int64_t)(v))
	req->cpu_milli = CLAMP(rc);
	req->memory = CLAMP(rm);
	req->ephemeral = CLAMP(re);
	if (lim) {
		lim->cpu_milli = CLAMP(lc);
		lim->memory = CLAMP(lm);
		lim->ephemeral = CLAMP(le);
	}
#undef CLAMP
	if (npods)
		*npods = n;
}

bool podres_admit(struct backend *b, struct pod *p)
{
	struct res_amount used, alloc = {b->node_milli_cpu, b->alloc_memory, b->alloc_ephemeral};
	int64_t npods;
	podres_node_totals(b, &used, NULL, &npods);
	char *reason = NULL, *message = NULL;
	if (res_admit(p->spec, &used, npods, &alloc, NODE_MAX_PODS, &reason, &message))
		return true;
	/* the kubelet's rejectPod */
	pod_event(b, p, true, reason, NULL, "%s", message);
	p->phase = PHASE_FAILED;
	free(p->reason);
	free(p->message);
	p->reason = reason;
	p->message = xasprintf("Pod was rejected: %s", message);
	free(message);
	/* nothing is being created: the containers wait for nothing (and ps
	 * shows the pod's reason, as kubectl does for a rejected pod) */
	for (size_t i = 0; i < p->nc; i++) {
		free(p->c[i].waiting_reason);
		free(p->c[i].waiting_message);
		p->c[i].waiting_reason = p->c[i].waiting_message = NULL;
	}
	return false;
}

static void vol_pod_of(struct backend *b, const struct pod *p, struct vol_pod *vp)
{
	vp->spec = p->spec;
	vp->disk_dir = xasprintf("%s/pods/%s/volumes/%s", b->state_dir, p->name, p->uid);
	vp->mem_dir = xasprintf("%s/volumes/%s", b->rt.run_dir, p->uid);
	vp->subpath_dir = xasprintf("%s/subpaths/%s", b->rt.run_dir, p->uid);
	vp->node_memory = b->alloc_memory;
}

static void vol_pod_done(struct vol_pod *vp)
{
	free((char *)vp->disk_dir);
	free((char *)vp->mem_dir);
	free((char *)vp->subpath_dir);
}

char **podres_volume_paths(struct backend *b, const struct pod *p)
{
	struct vol_pod vp;
	vol_pod_of(b, p, &vp);
	char **paths = vol_paths(&vp);
	vol_pod_done(&vp);
	return paths;
}

int podres_subpaths(struct backend *b, const struct pod *p, const struct spec_container *c,
		    char *const *vpaths, struct vol_sources *out, char **err)
{
	struct vol_pod vp;
	vol_pod_of(b, p, &vp);
	int r = vol_container_sources(&vp, c, vpaths, out, err);
	vol_pod_done(&vp);
	return r;
}

int podres_volumes_setup(struct backend *b, struct pod *p, char **err)
{
	struct vol_pod vp;
	vol_pod_of(b, p, &vp);
	int r = vol_setup(&vp, err);
	vol_pod_done(&vp);
	return r;
}

void podres_volumes_teardown(struct backend *b, struct pod *p)
{
	struct vol_pod vp;
	vol_pod_of(b, p, &vp);
	vol_teardown(&vp);
	vol_pod_done(&vp);
}

int podres_cgroup_setup(struct backend *b, struct pod *p, char **err)
{
	(void)b;
	struct res_cgroup v;
	res_pod_cgroup(p->spec, &v);
	char *path = podres_cgroup_path(p);
	char *e = NULL;
	int r = cg_pod_setup(cg_host_default(), path, &v, &e);
	if (r < 0) {
		*err = xasprintf("create the pod cgroup %s: %s", path, e ? e : strerror(-r));
		free(e);
	}
	free(path);
	return r;
}

void podres_cgroup_remove(const struct pod *p)
{
	char *path = podres_cgroup_path(p);
	int left = cg_remove(cg_host_default(), path);
	if (left > 0)
		fprintf(stderr, "podfs: pod cgroup %s: %d directories still in use\n", path, left);
	free(path);
}

bool podres_oom_killed(const struct pod *p, const char *cid)
{
	if (!*cid)
		return false;
	char *path = xasprintf("/podfs/%s/%s", p->uid, cid);
	int64_t n = cg_oom_kills(cg_host_default(), path);
	free(path);
	return n > 0;
}

static int clamp_oom(int v)
{
	int floor = res_oom_floor();
	return v < floor ? floor : v;
}

int podres_oom_score_adj(struct backend *b, const struct pod *p, const struct spec_container *c)
{
	return clamp_oom(res_oom_score_adj(p->spec, c, b->node_memory));
}

int podres_sandbox_oom_score_adj(void)
{
	return clamp_oom(RES_SANDBOX_OOM);
}

bool podres_no_swap(void)
{
	return cg_host_default()->swap;
}
