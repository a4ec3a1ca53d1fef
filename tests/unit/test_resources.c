/* test_resources.c: unit tests for backend/resources.c (the kubelet's
 * arithmetic: QoS, effective requests, admission, pod cgroup, oom score)
 * and backend/cgroup.c (on fake cgroup trees in a temporary directory). */
#include "backend/cgroup.h"
#include "backend/resources.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* A pod from containers given as YAML list items (indented 2) under
 * "containers:" and, if INIT, "initContainers:". */
static struct spec_pod *podc(const char *init, const char *containers)
{
	char *y = xasprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n%s%s"
			    "  containers:\n%s",
			    init ? "  initContainers:\n" : "", init ? init : "", containers);
	struct spec_pod *pod = th_parse_pod(y);
	free(y);
	return pod;
}

#define C(name, res)	   "  - {name: " name ", image: busybox" res "}\n"
#define SIDECAR(name, res) "  - {name: " name ", image: busybox, restartPolicy: Always" res "}\n"

static const char *qos(const char *init, const char *containers)
{
	struct spec_pod *pod = podc(init, containers);
	if (!pod)
		return "(parse error)";
	const char *q = res_qos_name(res_qos_class(pod));
	spec_pod_free(pod);
	return q;
}

TEST(qos_classes)
{
	CHECK_STREQ(qos(NULL, C("a", "")), "BestEffort");
	CHECK_STREQ(qos(NULL, C("a", "") C("b", "")), "BestEffort");
	/* zero quantities do not count */
	CHECK_STREQ(qos(NULL, C("a", ", resources: {requests: {cpu: 0, memory: 0}}")),
		    "BestEffort");
	CHECK_STREQ(qos(NULL, C("a", ", resources: {limits: {cpu: 1, memory: 1Gi}}")),
		    "Guaranteed");
	CHECK_STREQ(
	    qos(NULL, C("a", ", resources: {requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, "
			     "memory: 1Gi}}")),
	    "Guaranteed");
	CHECK_STREQ(
	    qos(NULL, C("a", ", resources: {requests: {cpu: 500m}, limits: {cpu: 1, memory: "
			     "1Gi}}")),
	    "Burstable");
	CHECK_STREQ(qos(NULL, C("a", ", resources: {limits: {cpu: 1}}")), "Burstable");
	CHECK_STREQ(qos(NULL, C("a", ", resources: {requests: {memory: 1Mi}}")), "Burstable");
	/* a Guaranteed-style container with a BestEffort one */
	CHECK_STREQ(qos(NULL, C("a", ", resources: {limits: {cpu: 1, memory: 1Gi}}") C("b", "")),
		    "Burstable");
	/* init containers count */
	CHECK_STREQ(qos(C("i", ""), C("a", ", resources: {limits: {cpu: 1, memory: 1Gi}}")),
		    "Burstable");
	CHECK_STREQ(qos(C("i", ", resources: {limits: {cpu: 2, memory: 2Gi}}"),
			C("a", ", resources: {limits: {cpu: 1, memory: 1Gi}}")),
		    "Guaranteed");
	CHECK_STREQ(qos(C("i", ", resources: {requests: {cpu: 10m}}"), C("a", "")), "Burstable");
}

TEST(shares_and_quota)
{
	CHECK(res_milli_to_shares(0) == 2);
	CHECK(res_milli_to_shares(1) == 2);
	CHECK(res_milli_to_shares(2) == 2);
	CHECK(res_milli_to_shares(100) == 102);
	CHECK(res_milli_to_shares(250) == 256);
	CHECK(res_milli_to_shares(1000) == 1024);
	CHECK(res_milli_to_shares(1000000) == 262144);
	CHECK(res_milli_to_shares(INT64_MAX) == 262144);
	CHECK(res_milli_to_quota(0) == 0);
	CHECK(res_milli_to_quota(1) == 1000);
	CHECK(res_milli_to_quota(10) == 1000);
	CHECK(res_milli_to_quota(100) == 10000);
	CHECK(res_milli_to_quota(1500) == 150000);
	CHECK(res_milli_to_quota(INT64_MAX) == INT64_MAX);
	CHECK(cg_shares_to_weight(2) == 1);
	CHECK(cg_shares_to_weight(1024) == 39);
	CHECK(cg_shares_to_weight(262144) == 10000);
}

static void requests_of(const char *init, const char *containers, int64_t *cpu, int64_t *mem)
{
	struct spec_pod *pod = podc(init, containers);
	struct res_amount a = {-1, -1, -1};
	if (pod)
		res_pod_requests(pod, &a);
	*cpu = a.cpu_milli;
	*mem = a.memory;
	spec_pod_free(pod);
}

TEST(pod_requests_init_and_sidecars)
{
	int64_t cpu, mem;
	requests_of(NULL,
		    C("a", ", resources: {requests: {cpu: 100m, memory: 10Mi}}")
			C("b", ", resources: {requests: {cpu: 200m}}"),
		    &cpu, &mem);
	CHECK(cpu == 300 && mem == 10 << 20);
	/* an init container runs alone: the larger of it and the apps */
	requests_of(C("i", ", resources: {requests: {cpu: 900m, memory: 1Mi}}"),
		    C("a", ", resources: {requests: {cpu: 100m, memory: 10Mi}}")
			C("b", ", resources: {requests: {cpu: 200m}}"),
		    &cpu, &mem);
	CHECK(cpu == 900 && mem == 10 << 20);
	/* sidecars run beside everything after them, and add to the apps */
	requests_of(SIDECAR("s", ", resources: {requests: {cpu: 50m, memory: 1Mi}}")
			C("i", ", resources: {requests: {cpu: 900m}}")
			    SIDECAR("s2", ", resources: {requests: {cpu: 10m}}"),
		    C("a", ", resources: {requests: {cpu: 100m, memory: 10Mi}}"), &cpu, &mem);
	CHECK(cpu == 950 && mem == 11 << 20);
	requests_of(SIDECAR("s", ", resources: {requests: {cpu: 500m}}")
			C("i", ", resources: {requests: {cpu: 100m}}"),
		    C("a", ", resources: {requests: {cpu: 800m}}"), &cpu, &mem);
	CHECK(cpu == 1300 && mem == 0);
	/* limits only: requests default to them */
	requests_of(NULL, C("a", ", resources: {limits: {cpu: 2, memory: 1Gi}}"), &cpu, &mem);
	CHECK(cpu == 2000 && mem == 1 << 30);
}

static bool admit(const char *containers, int64_t used_cpu, int64_t used_mem, int64_t used_pods,
		  char **reason, char **message)
{
	struct spec_pod *pod = podc(NULL, containers);
	struct res_amount used = {used_cpu, used_mem, -1}, alloc = {2000, 4LL << 30, -1};
	*reason = *message = NULL;
	bool ok = pod && res_admit(pod, &used, used_pods, &alloc, 110, reason, message);
	spec_pod_free(pod);
	return ok;
}

TEST(node_allocatable)
{
	int64_t mem, eph;
	res_node_allocatable(24LL << 30, 1000000000000LL, &mem, &eph);
	CHECK(mem == (24LL << 30) - (100LL << 20));
	CHECK(eph == 900000000000LL);
	res_node_allocatable(50LL << 20, -1, &mem, &eph); /* smaller than the threshold */
	CHECK(mem == 0 && eph == -1);
	res_node_allocatable(0, 7, &mem, &eph);
	CHECK(eph == 7); /* 10% of 7 bytes rounds to 0 */
}

/* ephemeral-storage comes after pods, cpu and memory; limits default the
 * requests; an unknown node size (-1) checks nothing */
TEST(admission_ephemeral_storage)
{
	const char *big = C("a", ", resources: {limits: {ephemeral-storage: 6Gi}}");
	struct spec_pod *pod = podc(NULL, big);
	struct res_amount used = {0, 0, 5LL << 30}, alloc = {2000, 4LL << 30, 10LL << 30};
	char *reason = NULL, *msg = NULL;
	CHECK(pod && !res_admit(pod, &used, 1, &alloc, 110, &reason, &msg));
	CHECK_STREQ(reason, "OutOfephemeral-storage");
	CHECK_STREQ(msg, "Node didn't have enough resource: ephemeral-storage, requested: "
			 "6442450944, used: 5368709120, capacity: 10737418240");
	free(reason);
	free(msg);
	used.ephemeral = 4LL << 30; /* exactly fits */
	reason = msg = NULL;
	CHECK(pod && res_admit(pod, &used, 1, &alloc, 110, &reason, &msg));
	CHECK(reason == NULL);
	alloc.ephemeral = -1;
	used.ephemeral = 100LL << 30;
	CHECK(pod && res_admit(pod, &used, 1, &alloc, 110, &reason, &msg));
	/* memory is reported first when both are short */
	spec_pod_free(pod);
	pod = podc(NULL, C("a", ", resources: {requests: {memory: 8Gi, ephemeral-storage: 20Gi}}"));
	alloc.ephemeral = 10LL << 30;
	used.ephemeral = 0;
	CHECK(pod && !res_admit(pod, &used, 1, &alloc, 110, &reason, &msg));
	CHECK_STREQ(reason, "OutOfmemory");
	free(reason);
	free(msg);
	spec_pod_free(pod);
	struct res_amount lim;
	pod = podc(NULL, C("a", "") C("b", ", resources: {limits: {ephemeral-storage: 1Mi}}"));
	res_pod_limits(pod, &lim);
	CHECK(lim.ephemeral == 1 << 20);
	spec_pod_free(pod);
	pod = podc(NULL, C("a", ""));
	res_pod_limits(pod, &lim);
	CHECK(lim.ephemeral == -1);
	spec_pod_free(pod);
}

TEST(admission)
{
	char *reason, *msg;
	CHECK(admit(C("a", ", resources: {requests: {cpu: 1900m, memory: 1Gi}}"), 100, 3LL << 30, 5,
		    &reason, &msg));
	CHECK(reason == NULL && msg == NULL);
	CHECK(!admit(C("a", ", resources: {requests: {cpu: 3}}"), 100, 0, 1, &reason, &msg));
	CHECK_STREQ(reason, "OutOfcpu");
	CHECK_STREQ(msg, "Node didn't have enough resource: cpu, requested: 3000, used: 100, "
			 "capacity: 2000");
	free(reason);
	free(msg);
	CHECK(!admit(C("a", ", resources: {requests: {cpu: 1901m}}"), 100, 0, 1, &reason, &msg));
	CHECK_STREQ(reason, "OutOfcpu");
	free(reason);
	free(msg);
	CHECK(!admit(C("a", ", resources: {requests: {memory: 2Gi}}"), 0, 3LL << 30, 1, &reason,
		     &msg));
	CHECK_STREQ(reason, "OutOfmemory");
	CHECK_STREQ(msg, "Node didn't have enough resource: memory, requested: 2147483648, used: "
			 "3221225472, capacity: 4294967296");
	free(reason);
	free(msg);
	/* cpu is reported before memory, the pod count before both */
	CHECK(!admit(C("a", ", resources: {requests: {cpu: 3, memory: 8Gi}}"), 0, 0, 1, &reason,
		     &msg));
	CHECK_STREQ(reason, "OutOfcpu");
	free(reason);
	free(msg);
	CHECK(!admit(C("a", ", resources: {requests: {cpu: 3}}"), 0, 0, 110, &reason, &msg));
	CHECK_STREQ(reason, "OutOfpods");
	CHECK_STREQ(msg, "Node didn't have enough resource: pods, requested: 1, used: 110, "
			 "capacity: 110");
	free(reason);
	free(msg);
	/* a BestEffort pod fits a full node (only the pod count matters) */
	CHECK(admit(C("a", ""), 5000, 8LL << 30, 10, &reason, &msg));
	/* an overcommitted node refuses any request */
	CHECK(!admit(C("a", ", resources: {requests: {cpu: 1m}}"), 2500, 0, 1, &reason, &msg));
	CHECK_STREQ(msg, "Node didn't have enough resource: cpu, requested: 1, used: 2500, "
			 "capacity: 2000");
	free(reason);
	free(msg);
}

static void cgroup_of(const char *init, const char *containers, struct res_cgroup *v)
{
	struct spec_pod *pod = podc(init, containers);
	memset(v, 0xff, sizeof(*v));
	if (pod)
		res_pod_cgroup(pod, v);
	spec_pod_free(pod);
}

TEST(pod_cgroup_values)
{
	struct res_cgroup v;
	cgroup_of(NULL, C("a", ""), &v);
	CHECK(v.shares == 2 && v.quota == -1 && v.memory == -1);
	/* Guaranteed: everything, init container as max */
	cgroup_of(C("i", ", resources: {limits: {cpu: 300m, memory: 48Mi}}"),
		  C("a", ", resources: {limits: {cpu: 100m, memory: 32Mi}}"), &v);
	CHECK(v.shares == 307 && v.quota == 30000 && v.period == 100000 && v.memory == 48 << 20);
	/* Burstable: shares always; quota and memory only if every container
	 * has that limit */
	cgroup_of(NULL,
		  C("a", ", resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: 500m, "
			 "memory: 128Mi}}")
		      C("b", ", resources: {requests: {cpu: 100m}, limits: {cpu: 200m}}"),
		  &v);
	CHECK(v.shares == 358 && v.quota == 70000 && v.memory == -1);
	cgroup_of(NULL,
		  C("a", ", resources: {requests: {cpu: 250m}, limits: {memory: 64Mi}}")
		      C("b", ", resources: {limits: {memory: 32Mi}}"),
		  &v);
	CHECK(v.shares == 256 && v.quota == -1 && v.memory == 96 << 20);
	cgroup_of(NULL,
		  C("a", ", resources: {requests: {memory: 64Mi}}")
		      C("b", ", resources: {limits: {memory: 32Mi}}"),
		  &v);
	CHECK(v.shares == 2 && v.quota == -1 && v.memory == -1);
}

TEST(oom_score_adj)
{
	const int64_t cap = 8LL << 30;
	struct spec_pod *g = podc(NULL, C("a", ", resources: {limits: {cpu: 1, memory: 1Gi}}"));
	struct spec_pod *be = podc(NULL, C("a", ""));
	struct spec_pod *bu = podc(SIDECAR("s", ", resources: {requests: {memory: 4Gi}}")
				       SIDECAR("s2", ", resources: {requests: {memory: 1Mi}}"),
				   C("a", ", resources: {requests: {memory: 1Gi}}")
				       C("b", ", resources: {requests: {memory: 2Gi}}")
					   C("c", ", resources: {requests: {cpu: 1}}")
					       C("d", ", resources: {requests: {memory: 8Gi}}"));
	CHECK(g && be && bu);
	if (!g || !be || !bu)
		goto out;
	CHECK(res_oom_score_adj(g, &g->containers[0], cap) == -997);
	CHECK(res_oom_score_adj(be, &be->containers[0], cap) == 1000);
	CHECK(res_oom_score_adj(bu, &bu->containers[0], cap) == 875);
	CHECK(res_oom_score_adj(bu, &bu->containers[1], cap) == 750);
	/* no memory request: 1000 would equal BestEffort, so 999 */
	CHECK(res_oom_score_adj(bu, &bu->containers[2], cap) == 999);
	/* the whole node: at least 1000 - 997 */
	CHECK(res_oom_score_adj(bu, &bu->containers[3], cap) == 3);
	/* a sidecar is never above the app with the smallest request (c: 0
	 * bytes, 1000), so it keeps its own when lower... */
	CHECK(res_oom_score_adj(bu, &bu->init_containers[0], cap) == 500);
	CHECK(res_oom_score_adj(bu, &bu->init_containers[1], cap) == 999);
	struct spec_pod *sc =
	    podc(SIDECAR("s", ""), C("a", ", resources: {requests: {memory: 2Gi}}")
				       C("b", ", resources: {requests: {memory: 4Gi}}"));
	/* ... and takes the smallest app's when its own is higher */
	CHECK(sc && res_oom_score_adj(sc, &sc->init_containers[0], cap) == 750);
	spec_pod_free(sc);
out:
	spec_pod_free(g);
	spec_pod_free(be);
	spec_pod_free(bu);
}

TEST(memory_volume_size)
{
	struct spec_pod *pod =
	    th_parse_pod("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
			 "  volumes:\n"
			 "  - {name: a, emptyDir: {medium: Memory}}\n"
			 "  - {name: b, emptyDir: {medium: Memory, sizeLimit: 8Mi}}\n"
			 "  - {name: c, emptyDir: {medium: Memory, sizeLimit: 1Gi}}\n"
			 "  containers:\n"
			 "  - {name: x, image: busybox, resources: {limits: {memory: 64Mi}}}\n");
	struct spec_pod *nolimit =
	    th_parse_pod("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
			 "  volumes:\n"
			 "  - {name: a, emptyDir: {medium: Memory}}\n"
			 "  - {name: b, emptyDir: {medium: Memory, sizeLimit: 1Ei}}\n"
			 "  containers:\n"
			 "  - {name: x, image: busybox}\n");
	CHECK(pod && nolimit);
	if (pod && nolimit) {
		CHECK(res_memory_volume_size(pod, &pod->volumes[0], 1LL << 33) == 64 << 20);
		CHECK(res_memory_volume_size(pod, &pod->volumes[1], 1LL << 33) == 8 << 20);
		CHECK(res_memory_volume_size(pod, &pod->volumes[2], 1LL << 33) == 64 << 20);
		CHECK(res_memory_volume_size(nolimit, &nolimit->volumes[0], 1LL << 33) ==
		      1LL << 33);
		CHECK(res_memory_volume_size(nolimit, &nolimit->volumes[1], 1LL << 33) ==
		      1LL << 33);
	}
	spec_pod_free(pod);
	spec_pod_free(nolimit);
}

TEST(oom_floor_is_a_score)
{
	int f = res_oom_floor();
	CHECK(f >= -1000 && f <= 1000);
	CHECK(res_oom_floor() == f); /* read once */
}

/* ---- cgroup.c on fake trees ----------------------------------------------- */

static char tmp[64];

static void put(const char *rel, const char *content)
{
	char *p = xasprintf("%s/%s", tmp, rel);
	char *d = xstrdup(p);
	*strrchr(d, '/') = '\0';
	util_mkdir_p(d, 0755);
	util_write_file(p, content, strlen(content), 0644);
	free(d);
	free(p);
}

static char *get(const char *rel)
{
	char *p = xasprintf("%s/%s", tmp, rel), *buf = NULL;
	size_t len;
	if (util_read_file(p, 4096, &buf, &len) < 0)
		buf = NULL;
	free(p);
	return buf;
}

static bool exists(const char *rel)
{
	char *p = xasprintf("%s/%s", tmp, rel);
	struct stat st;
	bool r = lstat(p, &st) == 0;
	free(p);
	return r;
}

static int detect_from(struct cg_host *h, const char *mounts)
{
	put("mounts", mounts);
	char *p = xasprintf("%s/mounts", tmp);
	int r = cg_host_detect(h, p);
	free(p);
	return r;
}

TEST(cgroup_detect_v1_hybrid)
{
	char *m = xasprintf("proc /proc proc rw 0 0\n"
			    "tmpfs /sys/fs/cgroup tmpfs rw,mode=755 0 0\n"
			    "cgroup %s/v1/cpu cgroup rw,relatime,cpu 0 0\n"
			    "cgroup %s/v1/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
			    "cgroup %s/v1/cpuset cgroup rw,relatime,cpuset 0 0\n"
			    "cgroup %s/v1/my\\040memory cgroup rw,relatime,memory 0 0\n"
			    "cgroup %s/v1/systemd cgroup rw,name=systemd 0 0\n"
			    "cgroup2 %s/v1/unified cgroup2 rw,relatime 0 0\n",
			    tmp, tmp, tmp, tmp, tmp, tmp);
	put("v1/my memory/memory.memsw.limit_in_bytes", "9223372036854771712\n");
	struct cg_host h;
	CHECK(detect_from(&h, m) == 0);
	free(m);
	CHECK(h.version == 1);
	CHECK(h.nmounts == 6);
	char *want = xasprintf("%s/v1/cpu", tmp);
	CHECK_STREQ(h.cpu, want);
	free(want);
	want = xasprintf("%s/v1/my memory", tmp);
	CHECK_STREQ(h.memory, want);
	free(want);
	CHECK(h.swap);
	CHECK(h.unified == NULL);
	cg_host_free(&h);

	/* cpu and cpuacct co-mounted */
	m = xasprintf("cgroup %s/v1/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n", tmp);
	CHECK(detect_from(&h, m) == 0);
	free(m);
	CHECK(h.version == 1 && h.cpu && !h.memory && !h.swap);
	cg_host_free(&h);

	CHECK(cg_host_detect(&h, "/nonexistent/mounts") == -ENOENT);
}

TEST(cgroup_detect_v2)
{
	char *m = xasprintf("cgroup2 %s/v2 cgroup2 rw,nsdelegate 0 0\n", tmp);
	struct cg_host h;
	CHECK(detect_from(&h, m) == 0);
	free(m);
	CHECK(h.version == 2);
	char *want = xasprintf("%s/v2", tmp);
	CHECK_STREQ(h.unified, want);
	free(want);
	CHECK(h.swap);
	cg_host_free(&h);
	/* nothing mounted */
	struct cg_host none;
	CHECK(detect_from(&none, "proc /proc proc rw 0 0\n") == 0);
	CHECK(none.version == 0);
	char *err = NULL;
	struct res_cgroup v = {2, -1, 100000, -1};
	CHECK(cg_pod_setup(&none, "/podfs/u", &v, &err) == -ENOENT);
	CHECK_CONTAINS(err, "no cgroup file system");
	free(err);
	CHECK(cg_oom_kills(&none, "/podfs/u") == -ENOENT);
	cg_host_free(&none);
}

TEST(cgroup_setup_v1)
{
	char *m = xasprintf("cgroup %s/s1/cpu cgroup rw,cpu 0 0\n"
			    "cgroup %s/s1/memory cgroup rw,memory 0 0\n",
			    tmp, tmp);
	struct cg_host h;
	CHECK(detect_from(&h, m) == 0);
	free(m);
	/* the kernel makes the files; here they are made beforehand */
	put("s1/cpu/podfs/u1/cpu.shares", "1024\n");
	put("s1/cpu/podfs/u1/cpu.cfs_quota_us", "-1\n");
	put("s1/cpu/podfs/u1/cpu.cfs_period_us", "100000\n");
	put("s1/memory/podfs/u1/memory.limit_in_bytes", "9223372036854771712\n");
	struct res_cgroup v = {358, 70000, 100000, 160 << 20};
	char *err = NULL;
	CHECK(cg_pod_setup(&h, "/podfs/u1", &v, &err) == 0);
	CHECK(err == NULL);
	char *s;
	CHECK_STREQ(s = get("s1/cpu/podfs/u1/cpu.shares"), "358");
	free(s);
	CHECK_STREQ(s = get("s1/cpu/podfs/u1/cpu.cfs_quota_us"), "70000");
	free(s);
	CHECK_STREQ(s = get("s1/memory/podfs/u1/memory.limit_in_bytes"), "167772160");
	free(s);
	/* no limits: the defaults stay */
	put("s1/cpu/podfs/u2/cpu.shares", "1024\n");
	put("s1/cpu/podfs/u2/cpu.cfs_quota_us", "-1\n");
	put("s1/memory/podfs/u2/memory.limit_in_bytes", "max\n");
	struct res_cgroup be = {2, -1, 100000, -1};
	CHECK(cg_pod_setup(&h, "/podfs/u2", &be, &err) == 0);
	CHECK_STREQ(s = get("s1/cpu/podfs/u2/cpu.shares"), "2");
	free(s);
	CHECK_STREQ(s = get("s1/cpu/podfs/u2/cpu.cfs_quota_us"), "-1\n");
	free(s);
	CHECK_STREQ(s = get("s1/memory/podfs/u2/memory.limit_in_bytes"), "max\n");
	free(s);
	/* a file the kernel would have made is missing: the error names it */
	CHECK(cg_pod_setup(&h, "/podfs/u3", &v, &err) == -ENOENT);
	CHECK_CONTAINS(err, "cpu.shares");
	free(err);

	/* OOM kills */
	put("s1/memory/podfs/u1/c1/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	put("s1/memory/podfs/u1/c2/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
	CHECK(cg_oom_kills(&h, "/podfs/u1/c1") == 2);
	CHECK(cg_oom_kills(&h, "/podfs/u1/c2") == 0);
	CHECK(cg_oom_kills(&h, "/podfs/u1/gone") == -ENOENT);

	/* removal: empty directories go, deepest first, under every
	 * hierarchy; one that is not empty (a cgroup in use) stays */
	CHECK(cg_exists(&h, "/podfs/u1"));
	char *d = xasprintf("%s/s1/cpu/podfs/u1/c1/deeper", tmp);
	util_mkdir_p(d, 0755);
	free(d);
	int left = cg_remove(&h, "/podfs/u1");
	CHECK(left > 0); /* the fake dirs hold files, as a busy cgroup holds tasks */
	CHECK(!exists("s1/cpu/podfs/u1/c1/deeper"));
	CHECK(cg_remove(&h, "/") == 0);
	CHECK(cg_remove(&h, "") == 0);
	CHECK(exists("s1/cpu/podfs"));
	cg_host_free(&h);
}

TEST(cgroup_remove_empty_tree)
{
	char *m = xasprintf("cgroup %s/r/cpu cgroup rw,cpu 0 0\n"
			    "cgroup %s/r/memory cgroup rw,memory 0 0\n"
			    "cgroup2 %s/r/unified cgroup2 rw 0 0\n",
			    tmp, tmp, tmp);
	struct cg_host h;
	CHECK(detect_from(&h, m) == 0);
	free(m);
	const char *dirs[] = {"r/cpu/podfs/u/a", "r/cpu/podfs/u/b/c", "r/memory/podfs/u/a",
			      "r/unified/podfs/u/a", NULL};
	for (size_t i = 0; dirs[i]; i++) {
		char *d = xasprintf("%s/%s", tmp, dirs[i]);
		util_mkdir_p(d, 0755);
		free(d);
	}
	CHECK(cg_remove(&h, "/podfs/u") == 0);
	CHECK(!cg_exists(&h, "/podfs/u"));
	CHECK(exists("r/cpu/podfs") && exists("r/unified/podfs"));
	cg_host_free(&h);
}

TEST(cgroup_setup_v2)
{
	char *m = xasprintf("cgroup2 %s/u2 cgroup2 rw 0 0\n", tmp);
	struct cg_host h;
	CHECK(detect_from(&h, m) == 0);
	free(m);
	put("u2/cgroup.subtree_control", "");
	put("u2/podfs/cgroup.subtree_control", "");
	put("u2/podfs/p/cgroup.subtree_control", "");
	put("u2/podfs/p/cpu.weight", "100\n");
	put("u2/podfs/p/cpu.max", "max 100000\n");
	put("u2/podfs/p/memory.max", "max\n");
	struct res_cgroup v = {1024, 50000, 100000, 64 << 20};
	char *err = NULL, *s;
	CHECK(cg_pod_setup(&h, "/podfs/p", &v, &err) == 0);
	CHECK_STREQ(s = get("u2/cgroup.subtree_control"), "+cpu +memory");
	free(s);
	CHECK_STREQ(s = get("u2/podfs/p/cgroup.subtree_control"), "+cpu +memory");
	free(s);
	CHECK_STREQ(s = get("u2/podfs/p/cpu.weight"), "39");
	free(s);
	CHECK_STREQ(s = get("u2/podfs/p/cpu.max"), "50000 100000");
	free(s);
	CHECK_STREQ(s = get("u2/podfs/p/memory.max"), "67108864");
	free(s);
	struct res_cgroup nolim = {2, -1, 100000, -1};
	put("u2/podfs/p/memory.max", "max\n");
	CHECK(cg_pod_setup(&h, "/podfs/p", &nolim, &err) == 0);
	CHECK_STREQ(s = get("u2/podfs/p/cpu.max"), "max 100000");
	free(s);
	CHECK_STREQ(s = get("u2/podfs/p/memory.max"), "max\n");
	free(s);
	put("u2/podfs/p/c/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
	CHECK(cg_oom_kills(&h, "/podfs/p/c") == 1);
	cg_host_free(&h);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/podfs-test-res.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(qos_classes);
	RUN(shares_and_quota);
	RUN(pod_requests_init_and_sidecars);
	RUN(admission);
	RUN(admission_ephemeral_storage);
	RUN(node_allocatable);
	RUN(pod_cgroup_values);
	RUN(oom_score_adj);
	RUN(memory_volume_size);
	RUN(oom_floor_is_a_score);
	RUN(cgroup_detect_v1_hybrid);
	RUN(cgroup_detect_v2);
	RUN(cgroup_setup_v1);
	RUN(cgroup_remove_empty_tree);
	RUN(cgroup_setup_v2);
	util_rm_rf(tmp);
	return th_report();
}
