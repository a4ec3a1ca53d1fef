/* test_spec.c: unit tests for the manifest pipeline (backend/spec*.c):
 * defaults, quantities, validation errors with their paths and positions,
 * the JSON rendering and the name helpers. */
#include "backend/spec.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The head of a pod named "web"; tests append "  containers:" and so on. */
#define HEAD                                                                                       \
	"apiVersion: v1\n"                                                                         \
	"kind: Pod\n"                                                                              \
	"metadata:\n"                                                                              \
	"  name: web\n"                                                                            \
	"spec:\n"

/* HEAD plus one container "app" (lines 6-8); tests append container fields
 * at four spaces, or pod fields at two. */
#define POD(image)                                                                                 \
	HEAD "  containers:\n"                                                                     \
	     "  - name: app\n"                                                                     \
	     "    image: " image "\n"

/* Parse a manifest that must be valid; on failure print why and return NULL. */
static struct spec_pod *ok(const char *yaml)
{
	struct diag_list errs = {0};
	struct spec_pod *pod = NULL;
	int r = spec_parse(yaml, strlen(yaml), &pod, &errs);
	if (r != 0 || !pod) {
		char *s = diag_format_all(&errs, "test");
		fprintf(stderr, "  unexpected errors:\n%s", s);
		free(s);
		th_cur_failed = 1;
	}
	diag_list_free(&errs);
	return r == 0 ? pod : NULL;
}

/* Parse a manifest that must be refused; return its formatted errors (one a
 * line, no file name), or NULL if it parsed. *n (if given) gets the count. */
static char *bad(const char *yaml, size_t *n)
{
	struct diag_list errs = {0};
	struct spec_pod *pod = (struct spec_pod *)1;
	int r = spec_parse(yaml, strlen(yaml), &pod, &errs);
	char *s = NULL;
	if (r != -EINVAL || pod != NULL) {
		fprintf(stderr, "  manifest was accepted, want errors\n");
		th_cur_failed = 1;
		spec_pod_free(pod);
	} else {
		s = diag_format_all(&errs, NULL);
	}
	if (n)
		*n = errs.n + errs.dropped;
	diag_list_free(&errs);
	return s;
}

static const char *pull_policy(const char *image)
{
	static char buf[64];
	char *yaml = NULL;
	if (asprintf(&yaml, POD("\"%s\""), image) < 0)
		return NULL;
	struct spec_pod *pod = ok(yaml);
	free(yaml);
	if (!pod)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", pod->containers[0].image_pull_policy);
	spec_pod_free(pod);
	return buf;
}

/* ---- defaults ------------------------------------------------------------ */

TEST(minimal_pod_defaults)
{
	struct spec_pod *pod = ok(POD("busybox:1.36"));
	if (!pod)
		return;
	CHECK_STREQ(pod->name, "web");
	CHECK_STREQ(pod->namespace, "default");
	CHECK_STREQ(pod->restart_policy, "Always");
	CHECK(!pod->has_termination_grace);
	CHECK(pod->termination_grace_seconds == 30);
	CHECK(!pod->has_active_deadline);
	CHECK(pod->ncont == 1 && pod->ninit == 0);
	CHECK(!pod->host_network && !pod->share_process_namespace);
	const struct spec_container *c = &pod->containers[0];
	CHECK_STREQ(c->name, "app");
	CHECK_STREQ(c->image, "busybox:1.36");
	CHECK(!c->is_init);
	CHECK(c->restart_policy == NULL);
	CHECK(!c->command.set && !c->args.set);
	CHECK(!c->liveness && !c->readiness && !c->startup);
	spec_pod_free(pod);
}

TEST(termination_message_defaults)
{
	struct spec_pod *pod = ok(POD("busybox") "    terminationMessagePolicy: FallbackToLogsOnError\n");
	if (!pod)
		return;
	CHECK_STREQ(pod->containers[0].termination_message_path, "/dev/termination-log");
	CHECK_STREQ(pod->containers[0].termination_message_policy, "FallbackToLogsOnError");
	spec_pod_free(pod);
	pod = ok(POD("busybox"));
	if (!pod)
		return;
	CHECK_STREQ(pod->containers[0].termination_message_policy, "File");
	spec_pod_free(pod);
}

TEST(pull_policy_untagged_and_latest_are_always)
{
	CHECK_STREQ(pull_policy("busybox"), "Always");
	CHECK_STREQ(pull_policy("busybox:latest"), "Always");
	CHECK_STREQ(pull_policy("docker.io/library/busybox"), "Always");
}

TEST(pull_policy_tag_and_digest_are_if_not_present)
{
	CHECK_STREQ(pull_policy("busybox:1.36"), "IfNotPresent");
	CHECK_STREQ(
		pull_policy("busybox@sha256:"
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
		"IfNotPresent");
	CHECK_STREQ(pull_policy("busybox:1.36@sha256:"
				"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
		    "IfNotPresent");
}

TEST(pull_policy_registry_port_is_not_a_tag)
{
	CHECK_STREQ(pull_policy("localhost:5000/busybox"), "Always");
	CHECK_STREQ(pull_policy("localhost:5000/busybox:latest"), "Always");
	CHECK_STREQ(pull_policy("localhost:5000/busybox:1.36"), "IfNotPresent");
}

TEST(pull_policy_explicit_is_kept_and_empty_is_defaulted)
{
	struct spec_pod *pod = ok(POD("busybox") "    imagePullPolicy: Never\n");
	if (pod)
		CHECK_STREQ(pod->containers[0].image_pull_policy, "Never");
	spec_pod_free(pod);
	/* Kubernetes defaults "" as it does an absent field */
	pod = ok(POD("busybox:1.36") "    imagePullPolicy: \"\"\n"
				     "  restartPolicy: \"\"\n");
	if (pod) {
		CHECK_STREQ(pod->containers[0].image_pull_policy, "IfNotPresent");
		CHECK_STREQ(pod->restart_policy, "Always");
	}
	spec_pod_free(pod);
}

TEST(probe_defaults)
{
	struct spec_pod *pod = ok(POD("busybox") "    livenessProbe:\n"
						 "      exec:\n"
						 "        command: [\"true\"]\n");
	if (!pod)
		return;
	const struct spec_probe *p = pod->containers[0].liveness;
	CHECK(p != NULL);
	if (p) {
		CHECK(p->h.kind == SPEC_H_EXEC);
		CHECK(p->h.exec_command.n == 1);
		CHECK_STREQ(p->h.exec_command.v[0], "true");
		CHECK(p->timeout_seconds == 1);
		CHECK(p->period_seconds == 10);
		CHECK(p->success_threshold == 1);
		CHECK(p->failure_threshold == 3);
		CHECK(p->initial_delay_seconds == 0);
		CHECK(!p->has_termination_grace);
	}
	spec_pod_free(pod);
}

TEST(probe_values_are_kept)
{
	struct spec_pod *pod = ok(POD("busybox") "    readinessProbe:\n"
						 "      tcpSocket: {port: 80}\n"
						 "      initialDelaySeconds: 4\n"
						 "      timeoutSeconds: 5\n"
						 "      periodSeconds: 6\n"
						 "      successThreshold: 7\n"
						 "      failureThreshold: 8\n"
						 "    startupProbe:\n"
						 "      grpc: {port: 9000}\n"
						 "      terminationGracePeriodSeconds: 3\n");
	if (!pod)
		return;
	const struct spec_probe *p = pod->containers[0].readiness;
	CHECK(p && p->h.kind == SPEC_H_TCP && p->h.port.num == 80 && !p->h.port.is_name);
	CHECK(p && p->initial_delay_seconds == 4 && p->timeout_seconds == 5 &&
	      p->period_seconds == 6 && p->success_threshold == 7 && p->failure_threshold == 8);
	p = pod->containers[0].startup;
	CHECK(p && p->h.kind == SPEC_H_GRPC && p->h.port.num == 9000 && !p->h.grpc_service);
	CHECK(p && p->has_termination_grace && p->termination_grace_seconds == 3);
	spec_pod_free(pod);
}

TEST(http_get_defaults)
{
	struct spec_pod *pod = ok(POD("busybox") "    livenessProbe:\n"
						 "      httpGet:\n"
						 "        port: 8080\n"
						 "    lifecycle:\n"
						 "      preStop:\n"
						 "        httpGet:\n"
						 "          port: 80\n"
						 "          path: \"\"\n");
	if (!pod)
		return;
	const struct spec_handler *h = &pod->containers[0].liveness->h;
	CHECK(h->kind == SPEC_H_HTTP);
	CHECK_STREQ(h->path, "/");
	CHECK_STREQ(h->scheme, "HTTP");
	CHECK(h->host == NULL);
	CHECK(h->port.set && !h->port.is_name && h->port.num == 8080);
	h = pod->containers[0].pre_stop;
	CHECK(h && h->kind == SPEC_H_HTTP);
	if (h)
		CHECK_STREQ(h->path, "/");
	spec_pod_free(pod);
}

TEST(http_get_named_and_quoted_ports)
{
	struct spec_pod *pod = ok(POD("busybox") "    ports:\n"
						 "    - name: http\n"
						 "      containerPort: 80\n"
						 "    livenessProbe:\n"
						 "      httpGet: {port: http, scheme: HTTPS, path: /live}\n"
						 "    readinessProbe:\n"
						 "      httpGet: {port: \"8080\"}\n");
	if (!pod)
		return;
	const struct spec_handler *h = &pod->containers[0].liveness->h;
	CHECK(h->port.is_name);
	CHECK_STREQ(h->port.name, "http");
	CHECK_STREQ(h->scheme, "HTTPS");
	CHECK_STREQ(h->path, "/live");
	/* IntOrString: a quoted number is a number */
	h = &pod->containers[0].readiness->h;
	CHECK(!h->port.is_name && h->port.num == 8080);
	spec_pod_free(pod);
}

TEST(hooks_of_every_kind)
{
	struct spec_pod *pod = ok(POD("busybox") "    lifecycle:\n"
						 "      postStart:\n"
						 "        tcpSocket: {port: 22, host: 10.0.0.1}\n"
						 "      preStop:\n"
						 "        sleep: {seconds: 30}\n");
	if (!pod)
		return;
	const struct spec_container *c = &pod->containers[0];
	CHECK(c->post_start && c->post_start->kind == SPEC_H_TCP && c->post_start->port.num == 22);
	CHECK(c->post_start && c->post_start->host && !strcmp(c->post_start->host, "10.0.0.1"));
	CHECK(c->pre_stop && c->pre_stop->kind == SPEC_H_SLEEP && c->pre_stop->sleep_seconds == 30);
	spec_pod_free(pod);
}

TEST(port_protocol_defaults_to_tcp)
{
	struct spec_pod *pod = ok(POD("busybox") "    ports:\n"
						 "    - containerPort: 80\n"
						 "    - containerPort: 53\n"
						 "      protocol: UDP\n"
						 "      hostPort: 5353\n");
	if (!pod)
		return;
	const struct spec_container *c = &pod->containers[0];
	CHECK(c->nports == 2);
	CHECK_STREQ(c->ports[0].protocol, "TCP");
	CHECK(c->ports[0].container_port == 80 && c->ports[0].host_port == 0);
	CHECK(c->ports[0].name == NULL);
	CHECK_STREQ(c->ports[1].protocol, "UDP");
	CHECK(c->ports[1].host_port == 5353);
	spec_pod_free(pod);
}

/* ---- resources and quantities --------------------------------------------- */

TEST(requests_default_to_limits_per_resource)
{
	struct spec_pod *pod = ok(POD("busybox") "    resources:\n"
						 "      requests:\n"
						 "        memory: 64Mi\n"
						 "      limits:\n"
						 "        cpu: 500m\n"
						 "        memory: 128Mi\n");
	if (!pod)
		return;
	const struct spec_resources *r = &pod->containers[0].resources;
	CHECK(r->limits.has_cpu && r->limits.cpu_milli == 500);
	CHECK(r->requests.has_cpu && r->requests.cpu_milli == 500); /* from the limit */
	CHECK(r->requests.has_memory && r->requests.memory == 64 << 20); /* its own */
	CHECK(r->limits.memory == 128 << 20);
	CHECK(!r->requests.has_ephemeral && !r->limits.has_ephemeral);
	spec_pod_free(pod);
}

TEST(requests_default_for_init_containers_too)
{
	struct spec_pod *pod = ok(HEAD "  initContainers:\n"
				       "  - name: init\n"
				       "    image: busybox\n"
				       "    resources: {limits: {memory: 1Gi, ephemeral-storage: 2Gi}}\n"
				       "  containers:\n"
				       "  - name: app\n"
				       "    image: busybox\n");
	if (!pod)
		return;
	const struct spec_resources *r = &pod->init_containers[0].resources;
	CHECK(pod->init_containers[0].is_init);
	CHECK(r->requests.has_memory && r->requests.memory == 1LL << 30);
	CHECK(r->requests.has_ephemeral && r->requests.ephemeral == 2LL << 30);
	CHECK(!r->requests.has_cpu);
	/* no limits, no requests invented */
	r = &pod->containers[0].resources;
	CHECK(!r->requests.has_cpu && !r->requests.has_memory && !r->limits.has_cpu);
	spec_pod_free(pod);
}

TEST(quantities_in_specs)
{
	struct spec_pod *pod = ok(HEAD "  containers:\n"
				       "  - name: a\n"
				       "    image: busybox\n"
				       "    resources: {limits: {cpu: 0.1, memory: 200M}}\n"
				       "  - name: b\n"
				       "    image: busybox\n"
				       "    resources: {limits: {cpu: \"2\", memory: 1Gi}}\n"
				       "  - name: c\n"
				       "    image: busybox\n"
				       "    resources: {limits: {cpu: 1.5, memory: 129e6}}\n"
				       "  - name: d\n"
				       "    image: busybox\n"
				       "    resources: {limits: {cpu: 0.0001, memory: 400m}}\n");
	if (!pod)
		return;
	CHECK(pod->ncont == 4);
	CHECK(pod->containers[0].resources.limits.cpu_milli == 100);
	CHECK(pod->containers[0].resources.limits.memory == 200000000);
	CHECK(pod->containers[1].resources.limits.cpu_milli == 2000);
	CHECK(pod->containers[1].resources.limits.memory == 1073741824);
	CHECK(pod->containers[2].resources.limits.cpu_milli == 1500);
	CHECK(pod->containers[2].resources.limits.memory == 129000000);
	/* finer than 1m rounds up to 1m; "400m" of memory is 0.4 bytes, rounded up */
	CHECK(pod->containers[3].resources.limits.cpu_milli == 1);
	CHECK(pod->containers[3].resources.limits.memory == 1);
	spec_pod_free(pod);
}

TEST(quantity_errors)
{
	char *e = bad(POD("busybox") "    resources:\n"
				     "      limits:\n"
				     "        memory: 1KB\n"
				     "        cpu: 1.5.3\n"
				     "      requests:\n"
				     "        memory: 1e100\n",
		      NULL);
	CHECK_CONTAINS(e, "11:17: spec.containers[0].resources.limits.memory: invalid quantity "
			  "\"1KB\"");
	CHECK_CONTAINS(e, "spec.containers[0].resources.limits.cpu: invalid quantity \"1.5.3\"");
	CHECK_CONTAINS(e, "spec.containers[0].resources.requests.memory: quantity \"1e100\" is "
			  "too large");
	free(e);
}

TEST(request_over_limit)
{
	size_t n = 0;
	char *e = bad(POD("busybox") "    resources:\n"
				     "      requests: {cpu: \"1\", memory: 2Gi}\n"
				     "      limits: {cpu: 500m, memory: 1Gi}\n",
		      &n);
	CHECK(n == 2);
	CHECK_CONTAINS(e, "spec.containers[0].resources.requests.cpu: Invalid value: \"1\": must "
			  "be less than or equal to cpu limit of 500m");
	CHECK_CONTAINS(e, "spec.containers[0].resources.requests.memory: Invalid value: \"2Gi\": "
			  "must be less than or equal to memory limit of 1Gi");
	free(e);
}

/* ---- env --------------------------------------------------------------- */

TEST(env_sources_and_defaults)
{
	struct spec_pod *pod = ok(POD("busybox") "    env:\n"
						 "    - name: A\n"
						 "      value: hello\n"
						 "    - name: B\n"
						 "    - name: C\n"
						 "      valueFrom:\n"
						 "        fieldRef: {fieldPath: spec.nodeName}\n"
						 "    - name: D\n"
						 "      valueFrom:\n"
						 "        resourceFieldRef: {resource: limits.memory}\n");
	if (!pod)
		return;
	const struct spec_container *c = &pod->containers[0];
	CHECK(c->nenv == 4);
	CHECK(c->env[0].source == SPEC_ENV_VALUE);
	CHECK_STREQ(c->env[0].value, "hello");
	CHECK(c->env[1].source == SPEC_ENV_VALUE);
	CHECK_STREQ(c->env[1].value, "");
	CHECK(c->env[2].source == SPEC_ENV_FIELD);
	CHECK_STREQ(c->env[2].field_path, "spec.nodeName");
	CHECK_STREQ(c->env[2].field_api_version, "v1");
	CHECK(c->env[3].source == SPEC_ENV_RESOURCE);
	CHECK_STREQ(c->env[3].resource, "limits.memory");
	CHECK_STREQ(c->env[3].divisor, "1");
	CHECK(c->env[3].divisor_milli == 1000);
	CHECK(c->env[3].container_name == NULL);
	spec_pod_free(pod);
}

TEST(resource_divisors)
{
	struct spec_pod *pod = ok(POD("busybox") "    env:\n"
						 "    - name: A\n"
						 "      valueFrom:\n"
						 "        resourceFieldRef: {resource: limits.cpu, divisor: 1m}\n"
						 "    - name: B\n"
						 "      valueFrom:\n"
						 "        resourceFieldRef: {resource: requests.memory, divisor: "
						 "1Mi, containerName: app}\n"
						 "    - name: C\n"
						 "      valueFrom:\n"
						 "        resourceFieldRef: {resource: limits.memory, divisor: "
						 "\"1000\"}\n"
						 "    - name: D\n"
						 "      valueFrom:\n"
						 "        resourceFieldRef: {resource: limits.memory, divisor: "
						 "1Ei}\n"
						 "    - name: E\n"
						 "      valueFrom:\n"
						 "        resourceFieldRef: {resource: limits.cpu, divisor: 0}\n");
	if (!pod)
		return;
	const struct spec_container *c = &pod->containers[0];
	CHECK_STREQ(c->env[0].divisor, "1m");
	CHECK(c->env[0].divisor_milli == 1);
	CHECK(c->env[1].divisor_milli == 1048576000LL);
	CHECK_STREQ(c->env[1].container_name, "app");
	CHECK(c->env[2].divisor_milli == 1000000); /* "1000" is 1k */
	CHECK(c->env[3].divisor_milli == ((__int128)1 << 60) * 1000);
	CHECK_STREQ(c->env[4].divisor, "1"); /* zero is unset */
	CHECK(c->env[4].divisor_milli == 1000);
	spec_pod_free(pod);
}

TEST(resource_divisors_refused_as_kubernetes_does)
{
	size_t n = 0;
	char *e = bad(POD("busybox") "    env:\n"
				     "    - name: A\n"
				     "      valueFrom:\n"
				     "        resourceFieldRef: {resource: limits.cpu, divisor: 10m}\n"
				     "    - name: B\n"
				     "      valueFrom:\n"
				     "        resourceFieldRef: {resource: limits.memory, divisor: 2Mi}\n"
				     "    - name: C\n"
				     "      valueFrom:\n"
				     "        resourceFieldRef: {resource: limits.memory, divisor: \"1024\"}\n"
				     "    - name: D\n"
				     "      valueFrom:\n"
				     "        resourceFieldRef: {resource: limits.cpu, divisor: 1Ki}\n"
				     "    - name: E\n"
				     "      valueFrom:\n"
				     "        resourceFieldRef: {resource: limits.memory, divisor: 1e3}\n",
		      &n);
	CHECK(n == 5);
	CHECK_CONTAINS(e, "env[0].valueFrom.resourceFieldRef.divisor: Unsupported value: \"10m\": "
			  "only divisor's values 1m and 1 are supported with the cpu resource");
	CHECK_CONTAINS(e, "env[1].valueFrom.resourceFieldRef.divisor: Unsupported value: \"2Mi\"");
	CHECK_CONTAINS(e, "env[2].valueFrom.resourceFieldRef.divisor: Unsupported value: \"1024\"");
	CHECK_CONTAINS(e, "env[3].valueFrom.resourceFieldRef.divisor: Unsupported value: \"1Ki\"");
	CHECK_CONTAINS(e, "env[4].valueFrom.resourceFieldRef.divisor: Unsupported value: \"1e3\"");
	free(e);
}

TEST(env_field_path_errors)
{
	size_t n = 0;
	char *e = bad(POD("busybox") "    env:\n"
				     "    - name: A\n"
				     "      valueFrom:\n"
				     "        fieldRef: {fieldPath: sepc.nodeName}\n"
				     "    - name: B\n"
				     "      valueFrom:\n"
				     "        fieldRef: {fieldPath: metadata.labels}\n"
				     "    - name: C\n"
				     "      value: x\n"
				     "      valueFrom:\n"
				     "        fieldRef: {fieldPath: metadata.name}\n",
		      &n);
	CHECK(n == 3);
	CHECK_CONTAINS(e, "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "
			  "\"sepc.nodeName\": error converting fieldPath: field label not "
			  "supported: sepc.nodeName");
	CHECK_CONTAINS(e, "did you mean spec.nodeName?");
	CHECK_CONTAINS(e, "env[1].valueFrom.fieldRef.fieldPath: Unsupported value: "
			  "\"metadata.labels\"");
	CHECK_CONTAINS(e, "env[2].valueFrom: may not be specified when `value` is not empty");
	free(e);
}

/* ---- errors: all at once, paths, positions ----------------------------------- */

TEST(all_errors_at_once)
{
	size_t n = 0;
	char *e = bad("apiVersion: v1\n"
		      "kind: Pod\n"
		      "metadata:\n"
		      "  name: Web_1\n"
		      "spec:\n"
		      "  restartPolicy: Sometimes\n"
		      "  containers:\n"
		      "  - name: app\n",
		      &n);
	CHECK(n == 3);
	CHECK_CONTAINS(e, "4:9: metadata.name: \"Web_1\" must be a DNS-1123 label");
	CHECK_CONTAINS(e, "6:18: spec.restartPolicy: Unsupported value: \"Sometimes\"");
	CHECK_CONTAINS(e, "8:5: spec.containers[0].image: required value");
	free(e);
}

TEST(diag_paths_and_positions)
{
	const char *yaml = POD("busybox") "    env:\n"
					  "    - name: GREETING\n"
					  "      value: hello\n"
					  "    - name: NODE\n"
					  "      valueForm:\n"
					  "        fieldRef: {fieldPath: spec.nodeName}\n";
	struct diag_list errs = {0};
	struct spec_pod *pod = NULL;
	CHECK(spec_parse(yaml, strlen(yaml), &pod, &errs) == -EINVAL);
	CHECK(pod == NULL);
	CHECK(errs.n == 1);
	if (errs.n >= 1) {
		CHECK_STREQ(errs.v[0].path, "spec.containers[0].env[1].valueForm");
		CHECK(errs.v[0].line == 13);
		CHECK(errs.v[0].col == 7);
		CHECK_STREQ(errs.v[0].msg, "unknown field; did you mean valueFrom?");
		char *s = diag_format(&errs.v[0], "pod.yaml");
		CHECK_STREQ(s, "pod.yaml:13:7: spec.containers[0].env[1].valueForm: unknown field; "
			       "did you mean valueFrom?");
		free(s);
	}
	diag_list_free(&errs);
}

TEST(errors_sorted_by_position)
{
	const char *yaml = POD("busybox") "    ports:\n"
					  "    - containerPort: 70000\n"
					  "  restartPolicy: Sometimes\n"
					  "  terminationGracePeriodSeconds: -1\n";
	struct diag_list errs = {0};
	struct spec_pod *pod = NULL;
	CHECK(spec_parse(yaml, strlen(yaml), &pod, &errs) == -EINVAL);
	CHECK(errs.n == 3);
	for (size_t i = 1; i < errs.n; i++)
		CHECK(errs.v[i - 1].line < errs.v[i].line ||
		      (errs.v[i - 1].line == errs.v[i].line && errs.v[i - 1].col <= errs.v[i].col));
	if (errs.n == 3) {
		CHECK_STREQ(errs.v[0].path, "spec.containers[0].ports[0].containerPort");
		CHECK_STREQ(errs.v[1].path, "spec.restartPolicy");
		CHECK_STREQ(errs.v[2].path, "spec.terminationGracePeriodSeconds");
	}
	diag_list_free(&errs);
}

TEST(typo_is_decoded_as_the_field_it_suggests)
{
	/* "imag" is reported once; it is read as image, so no "image: required" */
	size_t n = 0;
	char *e = bad(HEAD "  containers:\n"
			   "  - name: app\n"
			   "    imag: busybox\n",
		      &n);
	CHECK(n == 1);
	CHECK_CONTAINS(e, "8:5: spec.containers[0].imag: unknown field; did you mean image?");
	free(e);
}

TEST(type_error_shadows_validation_below_it)
{
	size_t n = 0;
	char *e = bad(HEAD "  containers:\n"
			   "  - name: app\n"
			   "    image: 123\n",
		      &n);
	CHECK(n == 1);
	CHECK_CONTAINS(e, "spec.containers[0].image: expected a string, got an integer 123; "
			  "quote it: \"123\"");
	free(e);
}

TEST(type_error_hints)
{
	char *e = bad(POD("busybox") "    ports:\n"
				     "    - containerPort: \"80\"\n"
				     "    stdin: \"true\"\n"
				     "    env:\n"
				     "    - name: DEBUG\n"
				     "      value: yes\n",
		      NULL);
	CHECK_CONTAINS(e, "containerPort: expected an integer, got a string \"80\"; remove the "
			  "quotes");
	CHECK_CONTAINS(e, "stdin: expected a boolean (true or false), got a string \"true\"");
	CHECK_CONTAINS(e, "env[0].value: expected a string, got a boolean yes; quote it: \"yes\"");
	free(e);
}

TEST(unsupported_field_has_a_reason_and_no_follow_up)
{
	size_t n = 0;
	char *e = bad(POD("busybox") "  volumes:\n"
				     "  - name: cfg\n"
				     "    configMap: {name: settings}\n",
		      &n);
	CHECK(n == 1);
	CHECK_CONTAINS(e, "spec.volumes[0].configMap: not supported by podfs");
	free(e);
}

TEST(empty_and_syntax_errors)
{
	char *e = bad("", NULL);
	CHECK_CONTAINS(e, "manifest is empty");
	free(e);
	e = bad("# only a comment\n", NULL);
	CHECK_CONTAINS(e, "manifest is empty");
	free(e);
	e = bad("apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"web\n", NULL);
	CHECK_CONTAINS(e, "YAML syntax error");
	free(e);
	e = bad(POD("busybox") "---\n" POD("busybox"), NULL);
	CHECK_CONTAINS(e, "9:1: more than one YAML document");
	free(e);
	e = bad("- a\n- b\n", NULL);
	CHECK_STREQ(e, "1:1: expected a Pod manifest (a mapping), got a list\n");
	free(e);
}

TEST(too_many_errors_are_counted)
{
	/* 300 containers without an image: 200 errors kept, the rest counted */
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	fputs(HEAD "  containers:\n", f);
	for (int i = 0; i < 300; i++)
		fprintf(f, "  - name: c%d\n", i);
	fclose(f);
	struct diag_list errs = {0};
	struct spec_pod *pod = NULL;
	CHECK(spec_parse(yaml, len, &pod, &errs) == -EINVAL);
	CHECK(errs.n == DIAG_MAX);
	CHECK(errs.dropped == 100);
	char *s = diag_format_all(&errs, "f");
	CHECK_CONTAINS(s, "(100 more errors not shown)");
	free(s);
	diag_list_free(&errs);
	free(yaml);
}

/* ---- containers, probes, volumes ----------------------------------------- */

TEST(duplicate_container_names_across_init_and_app)
{
	size_t n = 0;
	char *e = bad(HEAD "  initContainers:\n"
			   "  - name: app\n"
			   "    image: busybox\n"
			   "  containers:\n"
			   "  - name: app\n"
			   "    image: busybox\n",
		      &n);
	CHECK(n == 1);
	CHECK_CONTAINS(e, "10:11: spec.containers[0].name: Duplicate value: \"app\": "
			  "spec.initContainers[0] has that name");
	free(e);
}

TEST(sidecar_init_container)
{
	struct spec_pod *pod = ok(HEAD "  initContainers:\n"
				       "  - name: proxy\n"
				       "    image: nginx\n"
				       "    restartPolicy: Always\n"
				       "    readinessProbe: {tcpSocket: {port: 80}}\n"
				       "    startupProbe: {tcpSocket: {port: 80}}\n"
				       "    lifecycle: {preStop: {sleep: {seconds: 1}}}\n"
				       "  containers:\n"
				       "  - name: app\n"
				       "    image: busybox\n");
	if (!pod)
		return;
	const struct spec_container *c = &pod->init_containers[0];
	CHECK(pod->ninit == 1 && c->is_init);
	CHECK_STREQ(c->restart_policy, "Always");
	CHECK(c->readiness && c->startup && !c->liveness && c->pre_stop);
	spec_pod_free(pod);
}

TEST(init_container_rules)
{
	size_t n = 0;
	char *e = bad(HEAD "  initContainers:\n"
			   "  - name: init\n"
			   "    image: busybox\n"
			   "    livenessProbe: {exec: {command: [\"true\"]}}\n"
			   "    lifecycle: {postStart: {exec: {command: [\"true\"]}}}\n"
			   "  - name: other\n"
			   "    image: busybox\n"
			   "    restartPolicy: OnFailure\n"
			   "  containers:\n"
			   "  - name: app\n"
			   "    image: busybox\n"
			   "    restartPolicy: Always\n",
		      &n);
	CHECK(n == 4);
	CHECK_CONTAINS(e, "spec.initContainers[0].livenessProbe: Forbidden: may not be set for "
			  "init containers without restartPolicy=Always");
	CHECK_CONTAINS(e, "spec.initContainers[0].lifecycle: Forbidden");
	CHECK_CONTAINS(e, "spec.initContainers[1].restartPolicy: Unsupported value: \"OnFailure\"");
	CHECK_CONTAINS(e, "spec.containers[0].restartPolicy: Forbidden: may not be set for "
			  "non-init containers");
	free(e);
}

TEST(probe_rules)
{
	size_t n = 0;
	char *e = bad(POD("busybox") "    livenessProbe:\n"
				     "      exec: {command: [\"true\"]}\n"
				     "      httpGet: {port: 80}\n"
				     "      successThreshold: 2\n"
				     "      periodSeconds: -1\n"
				     "    readinessProbe:\n"
				     "      tcpSocket: {port: 80}\n"
				     "      terminationGracePeriodSeconds: 5\n"
				     "    startupProbe:\n"
				     "      failureThreshold: 3\n",
		      &n);
	CHECK(n == 5);
	CHECK_CONTAINS(e, "livenessProbe.httpGet: may not specify more than 1 handler type");
	CHECK_CONTAINS(e, "livenessProbe.successThreshold: Invalid value: 2: must be 1");
	CHECK_CONTAINS(e, "livenessProbe.periodSeconds: Invalid value: -1: must be greater than or "
			  "equal to 0");
	CHECK_CONTAINS(e, "readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not "
			  "be set for readinessProbes");
	CHECK_CONTAINS(e, "startupProbe: must specify a handler type");
	free(e);
}

TEST(sleep_hook_within_grace_period)
{
	struct spec_pod *pod = ok(POD("busybox") "    lifecycle: {preStop: {sleep: {seconds: 30}}}\n");
	CHECK(pod != NULL);
	spec_pod_free(pod);
	char *e = bad(POD("busybox") "    lifecycle: {preStop: {sleep: {seconds: 31}}}\n", NULL);
	CHECK_CONTAINS(e, "lifecycle.preStop.sleep.seconds: Invalid value: 31: must be less than or "
			  "equal to the pod's terminationGracePeriodSeconds (30)");
	free(e);
}

TEST(volumes_and_mounts)
{
	struct spec_pod *pod = ok(POD("busybox") "    volumeMounts:\n"
						 "    - {name: cache, mountPath: /cache}\n"
						 "    - {name: logs, mountPath: /logs, readOnly: true, "
						 "subPath: app}\n"
						 "  volumes:\n"
						 "  - name: cache\n"
						 "    emptyDir: {medium: Memory, sizeLimit: 64Mi}\n"
						 "  - name: logs\n"
						 "    hostPath: {path: /var/log}\n"
						 "  - name: plain\n"
						 "    emptyDir: {}\n");
	if (!pod)
		return;
	CHECK(pod->nvolumes == 3);
	CHECK(pod->volumes[0].kind == SPEC_VOL_EMPTYDIR);
	CHECK_STREQ(pod->volumes[0].medium, "Memory");
	CHECK(pod->volumes[0].has_size_limit && pod->volumes[0].size_limit == 64 << 20);
	CHECK(pod->volumes[1].kind == SPEC_VOL_HOSTPATH);
	CHECK_STREQ(pod->volumes[1].host_path, "/var/log");
	CHECK_STREQ(pod->volumes[1].host_path_type, "");
	CHECK_STREQ(pod->volumes[2].medium, "");
	CHECK(!pod->volumes[2].has_size_limit);
	const struct spec_container *c = &pod->containers[0];
	CHECK(c->nmounts == 2);
	CHECK_STREQ(c->mounts[1].name, "logs");
	CHECK_STREQ(c->mounts[1].sub_path, "app");
	CHECK(c->mounts[1].read_only && !c->mounts[0].read_only);
	spec_pod_free(pod);
}

TEST(mount_errors)
{
	size_t n = 0;
	char *e = bad(POD("busybox") "    volumeMounts:\n"
				     "    - {name: nope, mountPath: /a}\n"
				     "    - {name: data, mountPath: rel}\n"
				     "    - {name: data, mountPath: /b, subPath: ../x}\n"
				     "    - {name: data, mountPath: /c, subPath: /abs}\n"
				     "  volumes:\n"
				     "  - name: data\n"
				     "    emptyDir: {}\n",
		      &n);
	CHECK(n == 4);
	CHECK_CONTAINS(e, "volumeMounts[0].name: Not found: \"nope\"");
	CHECK_CONTAINS(e, "volumeMounts[1].mountPath: Invalid value: \"rel\": must be an absolute "
			  "path");
	CHECK_CONTAINS(e, "volumeMounts[2].subPath: Invalid value: \"../x\": must not contain '..'");
	CHECK_CONTAINS(e, "volumeMounts[3].subPath: Invalid value: \"/abs\": must be a relative path");
	free(e);
}

TEST(security_context_and_host_fields)
{
	struct spec_pod *pod = ok(POD("busybox") "    securityContext:\n"
						 "      privileged: true\n"
						 "      readOnlyRootFilesystem: true\n"
						 "      capabilities: {add: [NET_ADMIN], drop: [ALL]}\n"
						 "  securityContext: {runAsUser: 1000, runAsGroup: 2000, "
						 "runAsNonRoot: true, fsGroup: 3000}\n"
						 "  hostNetwork: true\n"
						 "  shareProcessNamespace: true\n"
						 "  hostAliases:\n"
						 "  - ip: 10.1.2.3\n"
						 "    hostnames: [db.local, cache.local]\n");
	if (!pod)
		return;
	const struct spec_security *s = &pod->containers[0].security;
	CHECK(s->set && s->has_privileged && s->privileged);
	CHECK(s->has_read_only_root && s->read_only_root);
	CHECK(!s->has_allow_priv_esc && !s->has_run_as_user);
	CHECK(s->cap_add.n == 1 && !strcmp(s->cap_add.v[0], "NET_ADMIN"));
	CHECK(s->cap_drop.n == 1 && !strcmp(s->cap_drop.v[0], "ALL"));
	CHECK(pod->security.has_run_as_user && pod->security.run_as_user == 1000);
	CHECK(pod->security.has_run_as_group && pod->security.run_as_group == 2000);
	CHECK(pod->security.has_run_as_non_root && pod->security.run_as_non_root);
	CHECK(pod->has_fs_group && pod->fs_group == 3000);
	CHECK(pod->host_network && pod->share_process_namespace);
	CHECK(pod->nhost_aliases == 1);
	CHECK_STREQ(pod->host_aliases[0].ip, "10.1.2.3");
	CHECK(pod->host_aliases[0].hostnames.n == 2);
	CHECK_STREQ(pod->host_aliases[0].hostnames.v[1], "cache.local");
	spec_pod_free(pod);
}

TEST(security_context_errors)
{
	size_t n = 0;
	char *e = bad(POD("busybox") "    securityContext:\n"
				     "      privileged: true\n"
				     "      allowPrivilegeEscalation: false\n"
				     "      runAsUser: 2147483648\n"
				     "      capabilities: {add: [net_admin]}\n"
				     "  securityContext: {fsGroup: -1}\n",
		      &n);
	CHECK(n == 4);
	CHECK_CONTAINS(e, "spec.containers[0].securityContext: Invalid value: cannot set "
			  "`allowPrivilegeEscalation` to false and `privileged` to true");
	CHECK_CONTAINS(e, "securityContext.runAsUser: Invalid value: 2147483648: must be between 0 "
			  "and 2147483647, inclusive");
	CHECK_CONTAINS(e, "capabilities.add[0]: Invalid value: \"net_admin\"");
	CHECK_CONTAINS(e, "spec.securityContext.fsGroup: Invalid value: -1");
	free(e);
}

TEST(ports_and_host_ports)
{
	size_t n = 0;
	char *e = bad(HEAD "  containers:\n"
			   "  - name: a\n"
			   "    image: busybox\n"
			   "    ports:\n"
			   "    - {name: http, containerPort: 80, hostPort: 8080}\n"
			   "    - {name: http, containerPort: 0}\n"
			   "    - {name: this-name-is-too-long, containerPort: 70000, protocol: tcp}\n"
			   "  - name: b\n"
			   "    image: busybox\n"
			   "    ports:\n"
			   "    - {containerPort: 81, hostPort: 8080}\n",
		      &n);
	CHECK(n == 6);
	CHECK_CONTAINS(e, "ports[1].containerPort: required value");
	CHECK_CONTAINS(e, "ports[1].name: Duplicate value: \"http\"");
	CHECK_CONTAINS(e, "ports[2].containerPort: Invalid value: 70000: must be between 1 and "
			  "65535, inclusive");
	CHECK_CONTAINS(e, "ports[2].name: Invalid value: \"this-name-is-too-long\": must be no more "
			  "than 15 characters");
	CHECK_CONTAINS(e, "ports[2].protocol: Unsupported value: \"tcp\"");
	CHECK_CONTAINS(e, "spec.containers[1].ports[0].hostPort: Duplicate value: \"8080/TCP\"");
	free(e);
}

TEST(labels_and_annotations)
{
	struct spec_pod *pod = ok("apiVersion: v1\n"
				  "kind: Pod\n"
				  "metadata:\n"
				  "  name: web\n"
				  "  labels: {app: web, app.kubernetes.io/name: web, empty: \"\"}\n"
				  "  annotations: {note: \"any text: at all\"}\n"
				  "spec:\n"
				  "  containers: [{name: app, image: busybox}]\n");
	if (!pod)
		return;
	CHECK(pod->labels.n == 3);
	CHECK_STREQ(pod->labels.v[1].key, "app.kubernetes.io/name");
	CHECK_STREQ(pod->labels.v[2].value, "");
	CHECK_STREQ(spec_annotation(pod, "note"), "any text: at all");
	CHECK(spec_annotation(pod, "missing") == NULL);
	spec_pod_free(pod);
	size_t n = 0;
	char *e = bad("apiVersion: v1\n"
		      "kind: Pod\n"
		      "metadata:\n"
		      "  name: web\n"
		      "  labels: {\"a b\": x, ok: \"-bad\"}\n"
		      "spec:\n"
		      "  containers: [{name: app, image: busybox}]\n",
		      &n);
	CHECK(n == 2);
	CHECK_CONTAINS(e, "metadata.labels[a b]: Invalid value: \"a b\": a label key must be a "
			  "qualified name");
	CHECK_CONTAINS(e, "metadata.labels[ok]: Invalid value: \"-bad\": a label value must be");
	free(e);
}

TEST(json_and_anchors)
{
	struct spec_pod *pod =
		ok("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"},"
		   " \"spec\": {\"containers\": [{\"name\": \"app\", \"image\": \"busybox\","
		   " \"command\": [\"sleep\", \"1\"]}]}}");
	if (pod) {
		CHECK_STREQ(pod->name, "j");
		CHECK(pod->containers[0].command.n == 2);
	}
	spec_pod_free(pod);
	pod = ok(HEAD "  containers:\n"
		      "  - name: a\n"
		      "    image: &img busybox:1.36\n"
		      "    resources: &res {limits: {memory: 64Mi}}\n"
		      "  - name: b\n"
		      "    image: *img\n"
		      "    resources: *res\n");
	if (pod) {
		CHECK_STREQ(pod->containers[1].image, "busybox:1.36");
		CHECK(pod->containers[1].resources.limits.memory == 64 << 20);
		CHECK(pod->containers[1].resources.requests.memory == 64 << 20);
	}
	spec_pod_free(pod);
}

TEST(kubectl_run_output_is_valid)
{
	struct spec_pod *pod = ok("apiVersion: v1\n"
				  "kind: Pod\n"
				  "metadata:\n"
				  "  creationTimestamp: null\n"
				  "  labels:\n"
				  "    run: nginx\n"
				  "  name: nginx\n"
				  "spec:\n"
				  "  containers:\n"
				  "  - image: nginx\n"
				  "    name: nginx\n"
				  "    resources: {}\n"
				  "  dnsPolicy: ClusterFirst\n"
				  "  restartPolicy: Always\n"
				  "status: {}\n");
	if (pod)
		CHECK_STREQ(pod->containers[0].image_pull_policy, "Always");
	spec_pod_free(pod);
}

TEST(pod_level_rules)
{
	size_t n = 0;
	char *e = bad(POD("busybox") "  activeDeadlineSeconds: 0\n"
				     "  dnsPolicy: None\n"
				     "  hostAliases: [{ip: 300.1.1.1, hostnames: [x]}]\n"
				     "  volumes:\n"
				     "  - name: Bad_Name\n"
				     "    emptyDir: {medium: tmpfs}\n"
				     "  - name: nothing\n",
		      &n);
	CHECK(n == 6);
	CHECK_CONTAINS(e, "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and "
			  "2147483647, inclusive");
	CHECK_CONTAINS(e, "spec.dnsPolicy: Invalid value: \"None\"");
	CHECK_CONTAINS(e, "spec.hostAliases[0].ip: Invalid value: \"300.1.1.1\": must be a valid "
			  "IP address");
	CHECK_CONTAINS(e, "spec.volumes[0].name: Invalid value: \"Bad_Name\": must be a DNS-1123 "
			  "label");
	CHECK_CONTAINS(e, "spec.volumes[0].emptyDir.medium: Unsupported value: \"tmpfs\"");
	CHECK_CONTAINS(e, "15:5: spec.volumes[1]: must specify a volume type (emptyDir or "
			  "hostPath)");
	free(e);
}

TEST(explicit_zero_grace_is_kept)
{
	struct spec_pod *pod = ok(POD("busybox") "  terminationGracePeriodSeconds: 0\n"
						 "  activeDeadlineSeconds: 60\n"
						 "  restartPolicy: Never\n");
	if (!pod)
		return;
	CHECK(pod->has_termination_grace && pod->termination_grace_seconds == 0);
	CHECK(pod->has_active_deadline && pod->active_deadline_seconds == 60);
	CHECK_STREQ(pod->restart_policy, "Never");
	spec_pod_free(pod);
}

/* ---- JSON rendering --------------------------------------------------------- */

TEST(json_contains_defaults)
{
	struct spec_pod *pod = ok(POD("busybox") "    livenessProbe: {httpGet: {port: 80}}\n"
						 "    ports: [{containerPort: 80}]\n"
						 "    env:\n"
						 "    - name: POD\n"
						 "      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n"
						 "    resources: {limits: {cpu: 0.1, memory: 1Gi}}\n");
	if (!pod)
		return;
	char *j = spec_to_json(pod);
	CHECK_CONTAINS(j, "\"apiVersion\": \"v1\"");
	CHECK_CONTAINS(j, "\"kind\": \"Pod\"");
	CHECK_CONTAINS(j, "\"namespace\": \"default\"");
	CHECK_CONTAINS(j, "\"restartPolicy\": \"Always\"");
	CHECK_CONTAINS(j, "\"terminationGracePeriodSeconds\": 30");
	CHECK_CONTAINS(j, "\"imagePullPolicy\": \"Always\"");
	CHECK_CONTAINS(j, "\"terminationMessagePath\": \"/dev/termination-log\"");
	CHECK_CONTAINS(j, "\"terminationMessagePolicy\": \"File\"");
	CHECK_CONTAINS(j, "\"path\": \"/\"");
	CHECK_CONTAINS(j, "\"scheme\": \"HTTP\"");
	CHECK_CONTAINS(j, "\"timeoutSeconds\": 1");
	CHECK_CONTAINS(j, "\"periodSeconds\": 10");
	CHECK_CONTAINS(j, "\"successThreshold\": 1");
	CHECK_CONTAINS(j, "\"failureThreshold\": 3");
	CHECK_CONTAINS(j, "\"initialDelaySeconds\": 0");
	CHECK_CONTAINS(j, "\"protocol\": \"TCP\"");
	CHECK_CONTAINS(j, "\"apiVersion\": \"v1\",\n                \"fieldPath\": \"metadata.name\"");
	CHECK_CONTAINS(j, "\"cpu\": \"100m\"");
	CHECK_CONTAINS(j, "\"memory\": \"1Gi\"");
	/* requests were defaulted from limits: the quantities appear twice */
	const char *first = strstr(j, "\"cpu\": \"100m\"");
	CHECK(first && strstr(first + 1, "\"cpu\": \"100m\""));
	free(j);
	spec_pod_free(pod);
}

TEST(json_of_volumes_and_sidecar)
{
	struct spec_pod *pod = ok(HEAD "  initContainers:\n"
				       "  - name: side\n"
				       "    image: busybox\n"
				       "    restartPolicy: Always\n"
				       "  containers:\n"
				       "  - name: app\n"
				       "    image: busybox\n"
				       "  volumes:\n"
				       "  - name: a\n"
				       "    emptyDir: {sizeLimit: 500Mi}\n"
				       "  - name: b\n"
				       "    hostPath: {path: /srv, type: Directory}\n");
	if (!pod)
		return;
	char *j = spec_to_json(pod);
	CHECK_CONTAINS(j, "\"initContainers\"");
	CHECK_CONTAINS(j, "\"restartPolicy\": \"Always\"");
	CHECK_CONTAINS(j, "\"sizeLimit\": \"500Mi\"");
	CHECK_CONTAINS(j, "\"path\": \"/srv\"");
	CHECK_CONTAINS(j, "\"type\": \"Directory\"");
	free(j);
	spec_pod_free(pod);
}

/* ---- helpers ------------------------------------------------------------ */

TEST(default_container_annotation)
{
	const char *two = HEAD "  containers:\n"
			       "  - name: first\n"
			       "    image: busybox\n"
			       "  - name: main\n"
			       "    image: busybox\n";
	struct spec_pod *pod = ok(two);
	if (pod) {
		CHECK_STREQ(spec_default_container(pod)->name, "first");
		spec_pod_free(pod);
	}
	pod = ok("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
		 "    kubectl.kubernetes.io/default-container: main\n"
		 "spec:\n  containers:\n  - {name: first, image: busybox}\n"
		 "  - {name: main, image: busybox}\n");
	if (pod) {
		CHECK_STREQ(spec_default_container(pod)->name, "main");
		spec_pod_free(pod);
	}
	/* a name that is no container falls back to the first, as kubectl does */
	pod = ok("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
		 "    kubectl.kubernetes.io/default-container: nope\n"
		 "spec:\n  initContainers:\n  - {name: nope2, image: busybox}\n"
		 "  containers:\n  - {name: first, image: busybox}\n"
		 "  - {name: main, image: busybox}\n");
	if (pod) {
		CHECK_STREQ(spec_default_container(pod)->name, "first");
		spec_pod_free(pod);
	}
}

TEST(default_container_never_an_init_container)
{
	struct spec_pod *pod =
		ok("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
		   "    kubectl.kubernetes.io/default-container: init\n"
		   "spec:\n  initContainers:\n  - {name: init, image: busybox}\n"
		   "  containers:\n  - {name: app, image: busybox}\n");
	if (pod) {
		CHECK_STREQ(spec_default_container(pod)->name, "app");
		spec_pod_free(pod);
	}
}

static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

TEST(dns1123_label)
{
	char *s63 = repeat('a', 63), *s64 = repeat('a', 64);
	CHECK(spec_is_dns1123_label("web"));
	CHECK(spec_is_dns1123_label("a"));
	CHECK(spec_is_dns1123_label("0"));
	CHECK(spec_is_dns1123_label("123"));
	CHECK(spec_is_dns1123_label("web-1"));
	CHECK(spec_is_dns1123_label("a--b"));
	CHECK(spec_is_dns1123_label(s63));
	CHECK(!spec_is_dns1123_label(s64));
	CHECK(!spec_is_dns1123_label(""));
	CHECK(!spec_is_dns1123_label(NULL));
	CHECK(!spec_is_dns1123_label("-web"));
	CHECK(!spec_is_dns1123_label("web-"));
	CHECK(!spec_is_dns1123_label("Web"));
	CHECK(!spec_is_dns1123_label("web_1"));
	CHECK(!spec_is_dns1123_label("web.example"));
	CHECK(!spec_is_dns1123_label("web 1"));
	CHECK(!spec_is_dns1123_label("wéb"));
	free(s63);
	free(s64);
}

TEST(dns1123_subdomain)
{
	char *s63 = repeat('a', 63), *s64 = repeat('a', 64);
	CHECK(spec_is_dns1123_subdomain("web"));
	CHECK(spec_is_dns1123_subdomain("web.example.com"));
	CHECK(spec_is_dns1123_subdomain("a.b-c.d"));
	CHECK(spec_is_dns1123_subdomain(s63));
	CHECK(!spec_is_dns1123_subdomain(s64)); /* each label is at most 63 */
	CHECK(!spec_is_dns1123_subdomain(""));
	CHECK(!spec_is_dns1123_subdomain(NULL));
	CHECK(!spec_is_dns1123_subdomain(".web"));
	CHECK(!spec_is_dns1123_subdomain("web."));
	CHECK(!spec_is_dns1123_subdomain("web..example"));
	CHECK(!spec_is_dns1123_subdomain("-web.example"));
	CHECK(!spec_is_dns1123_subdomain("web-.example"));
	CHECK(!spec_is_dns1123_subdomain("Web.example"));
	CHECK(!spec_is_dns1123_subdomain("web_1.example"));
	/* 253 characters in all is the limit: 4 labels of 63 and dots = 255 */
	char buf[300];
	snprintf(buf, sizeof(buf), "%s.%s.%s.%s", s63, s63, s63, s63);
	CHECK(strlen(buf) == 255);
	CHECK(!spec_is_dns1123_subdomain(buf));
	buf[253] = '\0'; /* ends in 'a' */
	CHECK(spec_is_dns1123_subdomain(buf));
	free(s63);
	free(s64);
}

TEST(pod_name_is_a_label_but_node_name_a_subdomain)
{
	char *e = bad("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web.example\n"
		      "spec:\n  containers: [{name: app, image: busybox}]\n",
		      NULL);
	CHECK_CONTAINS(e, "metadata.name: \"web.example\" must be a DNS-1123 label");
	free(e);
	struct spec_pod *pod = ok(POD("busybox") "  nodeName: node-1.example.com\n");
	if (pod)
		CHECK_STREQ(pod->node_name, "node-1.example.com");
	spec_pod_free(pod);
}

static enum spec_change cmp(const char *a, const char *b)
{
	return spec_compare(a, strlen(a), b, strlen(b));
}

TEST(compare_manifests)
{
	const char *base = "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {app: web}\n"
			   "spec:\n  initContainers:\n  - name: init\n    image: busybox\n"
			   "    command: [true]\n  containers:\n  - name: a\n    image: busybox\n"
			   "    command: [sleep, '9']\n  - name: b\n    image: busybox\n";
	CHECK(cmp(base, base) == SPEC_SAME);
	/* comments, flow style, quoting, key order: nothing changes */
	CHECK(cmp(base, "# a comment\nkind: Pod\napiVersion: \"v1\"\nmetadata:\n  labels:\n"
			"    app: web\nspec:\n  containers:\n  - {name: a, image: busybox, "
			"command: [\"sleep\", \"9\"]}\n  - name: b\n    image: 'busybox'\n"
			"  initContainers:\n  - command: [true]\n    name: init\n"
			"    image: busybox\n") == SPEC_SAME);
	/* the same manifest as JSON */
	CHECK(cmp(base, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"labels\":"
			"{\"app\":\"web\"}},\"spec\":{\"initContainers\":[{\"name\":\"init\","
			"\"image\":\"busybox\",\"command\":[true]}],\"containers\":[{\"name\":"
			"\"a\",\"image\":\"busybox\",\"command\":[\"sleep\",\"9\"]},{\"name\":"
			"\"b\",\"image\":\"busybox\"}]}}") == SPEC_SAME);
	/* an image, of an app or an init container: in place */
	char *t = xstrdup(base);
	char *img = strstr(strstr(t, "name: b"), "busybox");
	memcpy(img, "busyb0x", 7);
	CHECK(cmp(base, t) == SPEC_IMAGES);
	free(t);
	t = xstrdup(base);
	img = strstr(strstr(t, "name: init"), "busybox");
	memcpy(img, "busyb0x", 7);
	CHECK(cmp(base, t) == SPEC_IMAGES);
	free(t);
	/* anything else replaces the pod */
	t = xstrdup(base);
	memcpy(strstr(t, "'9'"), "'8'", 3);
	CHECK(cmp(base, t) == SPEC_REPLACE);
	free(t);
	t = xstrdup(base);
	memcpy(strstr(t, "app: web"), "app: wex", 8);
	CHECK(cmp(base, t) == SPEC_REPLACE);
	free(t);
	/* an image and a command: replace */
	t = xstrdup(base);
	memcpy(strstr(strstr(t, "name: a"), "busybox"), "busyb0x", 7);
	memcpy(strstr(t, "'9'"), "'8'", 3);
	CHECK(cmp(base, t) == SPEC_REPLACE);
	free(t);
	/* a container more, or renamed, or an "image" key elsewhere */
	CHECK(cmp(base, "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n"
			"    image: busybox\n") == SPEC_REPLACE);
	CHECK(cmp("metadata: {annotations: {image: a}}\n", "metadata: {annotations: {image: b}}\n") ==
	      SPEC_REPLACE);
	CHECK(cmp("spec: {image: a}\n", "spec: {image: b}\n") == SPEC_REPLACE);
	/* 9 and "9" are different values; unparsable text is a replace */
	CHECK(cmp("a: 9\n", "a: \"9\"\n") == SPEC_REPLACE);
	CHECK(cmp("a: 0x10\n", "a: 16\n") == SPEC_SAME);
	CHECK(cmp(base, "a: [\n") == SPEC_REPLACE);
	CHECK(cmp("", "") == SPEC_SAME);
}

int main(void)
{
	RUN(minimal_pod_defaults);
	RUN(compare_manifests);
	RUN(termination_message_defaults);
	RUN(pull_policy_untagged_and_latest_are_always);
	RUN(pull_policy_tag_and_digest_are_if_not_present);
	RUN(pull_policy_registry_port_is_not_a_tag);
	RUN(pull_policy_explicit_is_kept_and_empty_is_defaulted);
	RUN(probe_defaults);
	RUN(probe_values_are_kept);
	RUN(http_get_defaults);
	RUN(http_get_named_and_quoted_ports);
	RUN(hooks_of_every_kind);
	RUN(port_protocol_defaults_to_tcp);
	RUN(requests_default_to_limits_per_resource);
	RUN(requests_default_for_init_containers_too);
	RUN(quantities_in_specs);
	RUN(quantity_errors);
	RUN(request_over_limit);
	RUN(env_sources_and_defaults);
	RUN(resource_divisors);
	RUN(resource_divisors_refused_as_kubernetes_does);
	RUN(env_field_path_errors);
	RUN(all_errors_at_once);
	RUN(diag_paths_and_positions);
	RUN(errors_sorted_by_position);
	RUN(typo_is_decoded_as_the_field_it_suggests);
	RUN(type_error_shadows_validation_below_it);
	RUN(type_error_hints);
	RUN(unsupported_field_has_a_reason_and_no_follow_up);
	RUN(empty_and_syntax_errors);
	RUN(too_many_errors_are_counted);
	RUN(duplicate_container_names_across_init_and_app);
	RUN(sidecar_init_container);
	RUN(init_container_rules);
	RUN(probe_rules);
	RUN(sleep_hook_within_grace_period);
	RUN(volumes_and_mounts);
	RUN(mount_errors);
	RUN(security_context_and_host_fields);
	RUN(security_context_errors);
	RUN(ports_and_host_ports);
	RUN(labels_and_annotations);
	RUN(json_and_anchors);
	RUN(kubectl_run_output_is_valid);
	RUN(pod_level_rules);
	RUN(explicit_zero_grace_is_kept);
	RUN(json_contains_defaults);
	RUN(json_of_volumes_and_sidecar);
	RUN(default_container_annotation);
	RUN(default_container_never_an_init_container);
	RUN(dns1123_label);
	RUN(dns1123_subdomain);
	RUN(pod_name_is_a_label_but_node_name_a_subdomain);
	return th_report();
}
