/* resources.c: see resources.h. Follows Kubernetes' qos.GetPodQOS,
 * resourcehelper.PodRequests/PodLimits, cm.ResourceConfigForPod,
 * MilliCPUToShares/Quota, qos.GetContainerOOMScoreAdjust and the
 * scheduler's Fits as the kubelet's admission runs it. */
#include "backend/resources.h"
#include "backend/util.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int64_t clamp64(__int128 v)
{
	return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

static size_t ncontainers(const struct spec_pod *pod)
{
	return pod->ninit + pod->ncont;
}

static const struct spec_container *container_at(const struct spec_pod *pod, size_t i)
{
	return i < pod->ninit ? &pod->init_containers[i] : &pod->containers[i - pod->ninit];
}

static bool is_sidecar(const struct spec_container *c)
{
	return c->is_init && c->restart_policy && !strcmp(c->restart_policy, "Always");
}

enum res_qos res_qos_class(const struct spec_pod *pod)
{
	/* sums of the non-zero requests and limits, per resource */
	__int128 req_cpu = 0, req_mem = 0, lim_cpu = 0, lim_mem = 0;
	bool has_req_cpu = false, has_req_mem = false, has_lim_cpu = false, has_lim_mem = false;
	bool guaranteed = true;
	for (size_t i = 0; i < ncontainers(pod); i++) {
		const struct spec_resources *r = &container_at(pod, i)->resources;
		if (r->requests.has_cpu && r->requests.cpu_milli > 0) {
			req_cpu += r->requests.cpu_milli;
			has_req_cpu = true;
		}
		if (r->requests.has_memory && r->requests.memory > 0) {
			req_mem += r->requests.memory;
			has_req_mem = true;
		}
		bool lcpu = r->limits.has_cpu && r->limits.cpu_milli > 0;
		bool lmem = r->limits.has_memory && r->limits.memory > 0;
		if (lcpu) {
			lim_cpu += r->limits.cpu_milli;
			has_lim_cpu = true;
		}
		if (lmem) {
			lim_mem += r->limits.memory;
			has_lim_mem = true;
		}
		if (!lcpu || !lmem)
			guaranteed = false;
	}
	if (!has_req_cpu && !has_req_mem && !has_lim_cpu && !has_lim_mem)
		return RES_QOS_BESTEFFORT;
	/* every request must have its limit, equal */
	if (guaranteed &&
	    ((has_req_cpu && req_cpu != lim_cpu) || (has_req_mem && req_mem != lim_mem)))
		guaranteed = false;
	int nreq = has_req_cpu + has_req_mem, nlim = has_lim_cpu + has_lim_mem;
	return guaranteed && nreq == nlim ? RES_QOS_GUARANTEED : RES_QOS_BURSTABLE;
}

const char *res_qos_name(enum res_qos q)
{
	switch (q) {
	case RES_QOS_GUARANTEED:
		return "Guaranteed";
	case RES_QOS_BURSTABLE:
		return "Burstable";
	default:
		return "BestEffort";
	}
}

int64_t res_milli_to_shares(int64_t milli)
{
	if (milli <= 0)
		return RES_MIN_SHARES;
	__int128 s = (__int128)milli * 1024 / 1000;
	if (s < RES_MIN_SHARES)
		return RES_MIN_SHARES;
	if (s > RES_MAX_SHARES)
		return RES_MAX_SHARES;
	return (int64_t)s;
}

int64_t res_milli_to_quota(int64_t milli)
{
	if (milli <= 0)
		return 0;
	__int128 q = (__int128)milli * RES_CFS_PERIOD / 1000;
	if (q < RES_MIN_QUOTA)
		q = RES_MIN_QUOTA;
	return clamp64(q);
}

/* PodRequests / PodLimits: app containers and sidecars add up; each
 * ordinary init container runs alone beside the sidecars started before
 * it; the pod needs the larger. WANT_LIMITS picks limits, else requests. */
struct sums {
	__int128 cpu, mem, eph;
	bool has_eph; /* some container has an ephemeral-storage value */
};

static void pod_sum(const struct spec_pod *pod, bool want_limits, struct sums *out)
{
	struct sums total = {0}, sidecars = {0}, init_max = {0};
	for (size_t i = 0; i < pod->ncont; i++) {
		const struct spec_resources *r = &pod->containers[i].resources;
		const struct spec_rlist *l = want_limits ? &r->limits : &r->requests;
		total.cpu += l->has_cpu ? l->cpu_milli : 0;
		total.mem += l->has_memory ? l->memory : 0;
		total.eph += l->has_ephemeral ? l->ephemeral : 0;
		total.has_eph |= l->has_ephemeral;
	}
	for (size_t i = 0; i < pod->ninit; i++) {
		const struct spec_container *c = &pod->init_containers[i];
		const struct spec_rlist *l =
		    want_limits ? &c->resources.limits : &c->resources.requests;
		struct sums mine = {l->has_cpu ? l->cpu_milli : 0, l->has_memory ? l->memory : 0,
				    l->has_ephemeral ? l->ephemeral : 0, l->has_ephemeral};
		struct sums need;
		total.has_eph |= mine.has_eph;
		if (is_sidecar(c)) {
			total.cpu += mine.cpu;
			total.mem += mine.mem;
			total.eph += mine.eph;
			sidecars.cpu += mine.cpu;
			sidecars.mem += mine.mem;
			sidecars.eph += mine.eph;
			need = sidecars;
		} else {
			need.cpu = mine.cpu + sidecars.cpu;
			need.mem = mine.mem + sidecars.mem;
			need.eph = mine.eph + sidecars.eph;
		}
		if (need.cpu > init_max.cpu)
			init_max.cpu = need.cpu;
		if (need.mem > init_max.mem)
			init_max.mem = need.mem;
		if (need.eph > init_max.eph)
			init_max.eph = need.eph;
	}
	out->cpu = total.cpu > init_max.cpu ? total.cpu : init_max.cpu;
	out->mem = total.mem > init_max.mem ? total.mem : init_max.mem;
	out->eph = total.eph > init_max.eph ? total.eph : init_max.eph;
	out->has_eph = total.has_eph;
}

void res_pod_requests(const struct spec_pod *pod, struct res_amount *out)
{
	struct sums s;
	pod_sum(pod, false, &s);
	out->cpu_milli = clamp64(s.cpu);
	out->memory = clamp64(s.mem);
	out->ephemeral = s.has_eph ? clamp64(s.eph) : -1;
}

void res_pod_limits(const struct spec_pod *pod, struct res_amount *out)
{
	struct sums s;
	pod_sum(pod, true, &s);
	out->cpu_milli = clamp64(s.cpu);
	out->memory = clamp64(s.mem);
	out->ephemeral = s.has_eph ? clamp64(s.eph) : -1;
}

bool res_admit(const struct spec_pod *pod, const struct res_amount *used, int64_t used_pods,
	       const struct res_amount *allocatable, int64_t max_pods, char **reason,
	       char **message)
{
	struct res_amount want;
	res_pod_requests(pod, &want);
	const char *what = NULL;
	int64_t requested = 0, in_use = 0, capacity = 0;
	/* the scheduler's Fits, in its order: pods, cpu, memory; the kubelet
	 * reports the first */
	if (used_pods + 1 > max_pods) {
		what = "pods";
		requested = 1;
		in_use = used_pods;
		capacity = max_pods;
	} else if (want.cpu_milli > 0 &&
		   (__int128)want.cpu_milli > (__int128)allocatable->cpu_milli - used->cpu_milli) {
		what = "cpu";
		requested = want.cpu_milli;
		in_use = used->cpu_milli;
		capacity = allocatable->cpu_milli;
	} else if (want.memory > 0 &&
		   (__int128)want.memory > (__int128)allocatable->memory - used->memory) {
		what = "memory";
		requested = want.memory;
		in_use = used->memory;
		capacity = allocatable->memory;
	} else if (want.ephemeral > 0 && allocatable->ephemeral >= 0 &&
		   (__int128)want.ephemeral > (__int128)allocatable->ephemeral -
						  (used->ephemeral > 0 ? used->ephemeral : 0)) {
		what = "ephemeral-storage";
		requested = want.ephemeral;
		in_use = used->ephemeral > 0 ? used->ephemeral : 0;
		capacity = allocatable->ephemeral;
	}
	if (!what)
		return true;
	*reason = xasprintf("OutOf%s", what);
	*message = xasprintf("Node didn't have enough resource: %s, requested: %" PRId64
			     ", used: %" PRId64 ", capacity: %" PRId64,
			     what, requested, in_use, capacity);
	return false;
}

void res_pod_cgroup(const struct spec_pod *pod, struct res_cgroup *out)
{
	struct sums req, lim;
	pod_sum(pod, false, &req);
	pod_sum(pod, true, &lim);
	bool cpu_limits = true, mem_limits = true;
	for (size_t i = 0; i < ncontainers(pod); i++) {
		const struct spec_rlist *l = &container_at(pod, i)->resources.limits;
		if (!l->has_cpu || l->cpu_milli == 0)
			cpu_limits = false;
		if (!l->has_memory || l->memory == 0)
			mem_limits = false;
	}
	out->shares = RES_MIN_SHARES;
	out->quota = -1;
	out->period = RES_CFS_PERIOD;
	out->memory = -1;
	enum res_qos q = res_qos_class(pod);
	if (q == RES_QOS_BESTEFFORT)
		return;
	out->shares = res_milli_to_shares(clamp64(req.cpu));
	if (q == RES_QOS_GUARANTEED || cpu_limits)
		out->quota = res_milli_to_quota(clamp64(lim.cpu));
	if (q == RES_QOS_GUARANTEED || mem_limits)
		out->memory = clamp64(lim.mem);
	if (out->quota == 0)
		out->quota = -1;
	if (out->memory == 0)
		out->memory = -1;
}

static int64_t mem_request(const struct spec_container *c)
{
	return c->resources.requests.has_memory ? c->resources.requests.memory : 0;
}

int res_oom_score_adj(const struct spec_pod *pod, const struct spec_container *c,
		      int64_t memory_capacity)
{
	switch (res_qos_class(pod)) {
	case RES_QOS_GUARANTEED:
		return RES_GUARANTEED_OOM;
	case RES_QOS_BESTEFFORT:
		return RES_BESTEFFORT_OOM;
	default:
		break;
	}
	if (memory_capacity <= 0)
		return RES_BESTEFFORT_OOM - 1;
	__int128 adj = 1000 - (__int128)1000 * mem_request(c) / memory_capacity;
	if (is_sidecar(c) && pod->ncont > 0) {
		int64_t min = mem_request(&pod->containers[0]);
		for (size_t i = 1; i < pod->ncont; i++)
			if (mem_request(&pod->containers[i]) < min)
				min = mem_request(&pod->containers[i]);
		__int128 app = 1000 - (__int128)1000 * min / memory_capacity;
		if (adj > app)
			adj = app;
	}
	if (adj < 1000 + RES_GUARANTEED_OOM)
		return 1000 + RES_GUARANTEED_OOM;
	if (adj == RES_BESTEFFORT_OOM)
		return RES_BESTEFFORT_OOM - 1;
	return (int)adj;
}

static int oom_floor;

static void oom_floor_init(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	bool has = syscall(SYS_capget, &hdr, data) == 0 &&
		   (data[CAP_SYS_RESOURCE / 32].effective & (1u << (CAP_SYS_RESOURCE % 32)));
	oom_floor = -1000;
	if (has)
		return;
	char *buf = NULL;
	size_t len;
	if (util_read_file("/proc/self/oom_score_adj", 64, &buf, &len) == 0) {
		oom_floor = atoi(buf);
		free(buf);
	} else {
		oom_floor = 0;
	}
	fprintf(stderr,
		"podfs: no CAP_SYS_RESOURCE: containers get oom_score_adj %d at the lowest "
		"(the kubelet's negative values need it)\n",
		oom_floor);
}

int res_oom_floor(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, oom_floor_init);
	return oom_floor;
}

int64_t res_memory_volume_size(const struct spec_pod *pod, const struct spec_volume *v,
			       int64_t node_memory)
{
	int64_t size = node_memory;
	struct res_cgroup cg;
	res_pod_cgroup(pod, &cg);
	if (cg.memory > 0 && cg.memory <= size)
		size = cg.memory;
	if (v->has_size_limit && v->size_limit > 0 && v->size_limit <= size)
		size = v->size_limit;
	return size;
}

void res_node_allocatable(int64_t mem_capacity, int64_t eph_capacity, int64_t *mem, int64_t *eph)
{
	/* GetThresholdQuantity: a percentage of capacity, through float64 */
	int64_t mem_t = 100LL << 20, eph_t = (int64_t)((double)eph_capacity * 0.1);
	*mem = mem_capacity > mem_t ? mem_capacity - mem_t : 0;
	*eph = eph_capacity < 0 ? -1 : eph_capacity - eph_t;
}
