/* resources.h: the kubelet's arithmetic on a pod's requests and limits:
 * QoS class, the pod's effective request (init containers as Kubernetes
 * counts them), node admission (OutOfcpu, OutOfmemory, OutOfpods), the
 * pod-level cgroup values, cpu shares and CFS quota, and oom_score_adj.
 * Pure functions over the spec; cgroup.c writes the values. See
 * kubelet-semantics.md section 8. */
#ifndef PODFS_RESOURCES_H
#define PODFS_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/spec.h"

#define RES_MIN_SHARES	   2
#define RES_MAX_SHARES	   262144
#define RES_CFS_PERIOD	   100000 /* µs: the kubelet's 100 ms */
#define RES_MIN_QUOTA	   1000
#define RES_SANDBOX_OOM	   (-998) /* containerd's sandbox oom_score_adj */
#define RES_GUARANTEED_OOM (-997)
#define RES_BESTEFFORT_OOM 1000

enum res_qos { RES_QOS_BESTEFFORT, RES_QOS_BURSTABLE, RES_QOS_GUARANTEED };

/* Kubernetes' GetPodQOS: every container (init containers and sidecars
 * included) is looked at; zero quantities do not count. */
enum res_qos res_qos_class(const struct spec_pod *pod);
const char *res_qos_name(enum res_qos q);

/* CPU shares for a request in milli-CPU (0: none): max(2, m*1024/1000),
 * at most 262144. */
int64_t res_milli_to_shares(int64_t milli);
/* CFS quota in µs for a limit in milli-CPU, period 100 ms, at least 1 ms. */
int64_t res_milli_to_quota(int64_t milli);

/* What the pod asks for, as the scheduler and the kubelet's admission add
 * it up: max(sum of app containers + sidecars, each init container + the
 * sidecars started before it). Milli-CPU and bytes. */
struct res_amount {
	int64_t cpu_milli, memory;
	int64_t ephemeral; /* -1: no container names ephemeral-storage */
};
void res_pod_requests(const struct spec_pod *pod, struct res_amount *out);
/* The same sum over the limits (a container without one adds nothing). */
void res_pod_limits(const struct spec_pod *pod, struct res_amount *out);

/* Admission against what is left of the node (pods, cpu, memory, then
 * ephemeral-storage, as the scheduler's Fits; an allocatable ephemeral of
 * -1 is not checked). USED is the sum of the
 * admitted pods' requests, USED_PODS their number. Returns true if the pod
 * fits; else false with *reason ("OutOfcpu", "OutOfmemory", "OutOfpods")
 * and *message ("Node didn't have enough resource: cpu, requested: 3000,
 * used: 100, capacity: 2000"), both the caller's to free. */
bool res_admit(const struct spec_pod *pod, const struct res_amount *used, int64_t used_pods,
	       const struct res_amount *allocatable, int64_t max_pods, char **reason,
	       char **message);

/* The pod-level cgroup, as the kubelet's ResourceConfigForPod: shares from
 * the effective cpu request (2 for BestEffort), a CFS quota only if every
 * container has a cpu limit, a memory limit only if every container has
 * one (their effective sum). -1 means unlimited. */
struct res_cgroup {
	int64_t shares;
	int64_t quota, period; /* quota -1: none */
	int64_t memory;	       /* bytes, -1: none */
};
void res_pod_cgroup(const struct spec_pod *pod, struct res_cgroup *out);

/* The kubelet's GetContainerOOMScoreAdjust: Guaranteed -997, BestEffort
 * 1000, Burstable 1000 - 1000*memoryRequest/capacity in [3, 999] (a
 * sidecar never above the app container with the smallest request). */
int res_oom_score_adj(const struct spec_pod *pod, const struct spec_container *c,
		      int64_t memory_capacity);

/* The lowest oom_score_adj podfs can give a container: without
 * CAP_SYS_RESOURCE a process may not lower its score below what it
 * inherited, so runc fails ("failed to update /proc/self/oom_score_adj")
 * for anything under podfs's own value. Read once. */
int res_oom_floor(void);

/* tmpfs size for an emptyDir with medium Memory, as the kubelet's
 * calculateEmptyDirMemorySize: node allocatable memory, or the pod's memory
 * limit if it has one and it is smaller, or sizeLimit if set and smaller. */
int64_t res_memory_volume_size(const struct spec_pod *pod, const struct spec_volume *v,
			       int64_t node_memory);

/* The kubelet's allocatable without reservations: capacity less its
 * default hard eviction thresholds, memory.available<100Mi and
 * nodefs.available<10% (cpu has none). An unknown EPH_CAPACITY (-1) stays
 * unknown. */
void res_node_allocatable(int64_t mem_capacity, int64_t eph_capacity, int64_t *mem, int64_t *eph);

#endif
