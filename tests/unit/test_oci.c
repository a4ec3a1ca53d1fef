/* test_oci.c: unit tests for backend/oci.c. Specs come from YAML through
 * spec_parse(); each produced config.json is parsed back with jansson and
 * its fields checked. */
#include "backend/oci.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static char rootfs[64]; /* a temporary rootfs with etc/passwd and etc/group */

/* A pod with one container whose body (indented 4 spaces, after name and
 * image) is BODY, and pod-level spec lines EXTRA (indented 2). */
static struct spec_pod *pod1(const char *body, const char *extra)
{
	char *y = xasprintf("apiVersion: v1\n"
			    "kind: Pod\n"
			    "metadata:\n"
			    "  name: web\n"
			    "  namespace: shop\n"
			    "  uid: 1234-abcd\n"
			    "  labels:\n"
			    "    app: frontend\n"
			    "  annotations:\n"
			    "    note: \"$(FOO) stays\"\n"
			    "spec:\n"
			    "%s"
			    "  containers:\n"
			    "  - name: app\n"
			    "    image: busybox\n"
			    "%s",
			    extra ? extra : "", body ? body : "");
	struct spec_pod *pod = th_parse_pod(y);
	free(y);
	return pod;
}

static const struct oci_facts facts = {
    .pod_name = "web",
    .namespace = "shop",
    .pod_uid = "1234-abcd",
    .node_name = "node1",
    .service_account = "default",
    .pod_ip = "10.88.0.5",
    .host_ip = "192.168.1.10",
    .node_milli_cpu = 4000,
    .node_memory = 8LL << 30,
    .node_ephemeral_storage = 100LL << 30,
};

static const struct oci_pod opod = {
    .hostname = "web",
    .netns_path = "/run/netns/podfs-web",
    .ipc_path = "/proc/100/ns/ipc",
    .uts_path = "/proc/100/ns/uts",
    .pid_path = "/proc/100/ns/pid",
    .hosts_path = "/pods/u/hosts",
    .hostname_path = "/pods/u/hostname",
    .resolv_path = "/pods/u/resolv.conf",
    .shm_path = "/pods/u/shm",
    .cgroup_parent = "/podfs/1234-abcd",
};

static char *ep_sh[] = {"/bin/sh", "-c", NULL};
static char *cmd_echo[] = {"echo", "image-cmd", NULL};
static char *img_env[] = {"PATH=/img/bin", "IMG=one", "IMG=two", "LANG=C", NULL};

static const struct image_config img_default = {
    .has_entrypoint = true,
    .has_cmd = true,
    .entrypoint = ep_sh,
    .cmd = cmd_echo,
    .env = img_env,
};

/* The env of the single container of POD, or NULL. */
static char **env_of(const struct spec_pod *pod, const struct image_config *img)
{
	char **env = NULL, *err = NULL;
	if (oci_container_env(pod, &pod->containers[0], img, &facts, &env, &err) < 0) {
		fprintf(stderr, "  env: %s\n", err);
		free(err);
		return NULL;
	}
	return env;
}

static const char *env_val(char **env, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

static ssize_t env_idx(char **env, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return (ssize_t)i;
	return -1;
}

/* The args joined by '|', or NULL and *ERR on failure. Caller frees. */
static char *args_of(const struct spec_pod *pod, const struct image_config *img, char **env,
		     char **err)
{
	char **args = NULL;
	*err = NULL;
	if (oci_process_args(&pod->containers[0], img, env, &args, err) < 0)
		return NULL;
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; args[i]; i++)
		sb_printf(&sb, "%s%s", i ? "|" : "", args[i]);
	oci_strv_free(args);
	return sb_steal(&sb);
}

/* The config.json of the first container of POD, parsed; NULL and *ERR
 * (and *RC) on failure. */
static json_t *config_of(const struct oci_pod *op, const struct spec_pod *pod,
			 const struct image_config *img, const char *const *vols, int *rc,
			 char **err)
{
	char **env = NULL;
	char *json = NULL;
	json_t *root = NULL;
	*err = NULL;
	*rc = oci_container_env(pod, &pod->containers[0], img, &facts, &env, err);
	if (*rc < 0)
		return NULL;
	*rc = oci_container_config(op, pod, &pod->containers[0], img, rootfs, "app-1", env, vols,
				   &json, err);
	oci_strv_free(env);
	if (*rc < 0)
		return NULL;
	json_error_t jerr;
	root = json_loads(json, 0, &jerr);
	if (!root)
		fprintf(stderr, "  bad JSON: %s\n", jerr.text);
	free(json);
	return root;
}

/* Follow a dotted path of object keys. */
static json_t *jget(json_t *o, const char *path)
{
	char *copy = xstrdup(path), *save = NULL;
	for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	free(copy);
	return o;
}

static const char *jstr(json_t *o, const char *path)
{
	return json_string_value(jget(o, path));
}

static long long jint(json_t *o, const char *path)
{
	json_t *v = jget(o, path);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -424242;
}

static bool jarr_has(json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static json_t *find_mount(json_t *root, const char *dst)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(root, "mounts"), i, m)
	{
		if (!strcmp(jstr(m, "destination"), dst))
			return m;
	}
	return NULL;
}

static size_t count_mounts(json_t *root, const char *dst)
{
	size_t i, n = 0;
	json_t *m;
	json_array_foreach(json_object_get(root, "mounts"), i, m)
	{
		if (!strcmp(jstr(m, "destination"), dst))
			n++;
	}
	return n;
}

static ssize_t mount_idx(json_t *root, const char *dst)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(root, "mounts"), i, m)
	{
		if (!strcmp(jstr(m, "destination"), dst))
			return (ssize_t)i;
	}
	return -1;
}

static json_t *find_ns(json_t *root, const char *type)
{
	size_t i;
	json_t *n;
	json_array_foreach(jget(root, "linux.namespaces"), i, n)
	{
		if (!strcmp(jstr(n, "type"), type))
			return n;
	}
	return NULL;
}

static bool has_cap(json_t *root, const char *set, const char *cap)
{
	char *p = xasprintf("process.capabilities.%s", set);
	bool r = jarr_has(jget(root, p), cap);
	free(p);
	return r;
}

static size_t ncaps(json_t *root, const char *set)
{
	char *p = xasprintf("process.capabilities.%s", set);
	size_t n = json_array_size(jget(root, p));
	free(p);
	return n;
}

static bool gid_listed(json_t *root, long long gid)
{
	size_t i;
	json_t *v;
	json_array_foreach(jget(root, "process.user.additionalGids"), i, v)
	{
		if (json_integer_value(v) == gid)
			return true;
	}
	return false;
}

static void write_file(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", rootfs, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(p);
}

static void rootfs_setup(void)
{
	strcpy(rootfs, "/tmp/podfs-test-oci.XXXXXX");
	if (!mkdtemp(rootfs)) {
		perror("mkdtemp");
		exit(1);
	}
	char *etc = xasprintf("%s/etc", rootfs);
	mkdir(etc, 0755);
	free(etc);
	write_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
				 "# a comment\n"
				 "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
				 "app:x:1000:1001:App:/home/app:/bin/sh\n"
				 "  nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin  \n"
				 "broken:line\n");
	write_file("etc/group", "root:x:0:\n"
				"staff:x:50:app,other\n"
				"app:x:1001:\n"
				"video:x:44:app\n"
				"audio:x:29:nobody\n");
}

static void rootfs_teardown(void)
{
	const char *files[] = {"etc/passwd", "etc/group", NULL};
	for (size_t i = 0; files[i]; i++) {
		char *p = xasprintf("%s/%s", rootfs, files[i]);
		unlink(p);
		free(p);
	}
	char *etc = xasprintf("%s/etc", rootfs);
	rmdir(etc);
	free(etc);
	rmdir(rootfs);
}

/* ---- command and args ------------------------------------------------------ */

TEST(args_neither_set)
{
	struct spec_pod *pod = pod1(NULL, NULL);
	char *err, *a = args_of(pod, &img_default, NULL, &err);
	CHECK_STREQ(a, "/bin/sh|-c|echo|image-cmd");
	free(a);
	free(err);
	spec_pod_free(pod);
}

TEST(args_command_only_drops_cmd)
{
	struct spec_pod *pod = pod1("    command: [\"/app\", \"--serve\"]\n", NULL);
	char *err, *a = args_of(pod, &img_default, NULL, &err);
	CHECK_STREQ(a, "/app|--serve");
	free(a);
	free(err);
	spec_pod_free(pod);
}

TEST(args_args_only_keep_entrypoint)
{
	struct spec_pod *pod = pod1("    args: [\"echo hi\"]\n", NULL);
	char *err, *a = args_of(pod, &img_default, NULL, &err);
	CHECK_STREQ(a, "/bin/sh|-c|echo hi");
	free(a);
	free(err);
	spec_pod_free(pod);
}

TEST(args_command_and_args)
{
	struct spec_pod *pod =
	    pod1("    command: [\"/bin/env\"]\n    args: [\"-i\", \"x\"]\n", NULL);
	char *err, *a = args_of(pod, &img_default, NULL, &err);
	CHECK_STREQ(a, "/bin/env|-i|x");
	free(a);
	free(err);
	spec_pod_free(pod);
}

TEST(args_empty_entrypoint_is_unset)
{
	char *ep[] = {"", NULL};
	char *cmd[] = {"/hello", NULL};
	struct image_config img = {.has_entrypoint = true, .entrypoint = ep, .cmd = cmd};
	struct spec_pod *pod = pod1(NULL, NULL);
	char *err, *a = args_of(pod, &img, NULL, &err);
	CHECK_STREQ(a, "/hello");
	free(a);
	free(err);
	/* [""] and no Cmd: nothing to run */
	struct image_config img2 = {.has_entrypoint = true, .entrypoint = ep};
	a = args_of(pod, &img2, NULL, &err);
	CHECK(a == NULL);
	CHECK_CONTAINS(err, "no command: the image has no Entrypoint or Cmd and the container "
			    "sets no command");
	free(a);
	free(err);
	spec_pod_free(pod);
}

TEST(args_nothing_is_an_error)
{
	struct image_config empty = {0};
	struct spec_pod *pod = pod1(NULL, NULL);
	char **args = (char **)1, *err = NULL;
	int r = oci_process_args(&pod->containers[0], &empty, NULL, &args, &err);
	CHECK(r == -EINVAL);
	CHECK(args == NULL);
	CHECK_CONTAINS(err, "no command");
	free(err);
	/* a NULL image config too */
	r = oci_process_args(&pod->containers[0], NULL, NULL, &args, &err);
	CHECK(r == -EINVAL);
	free(err);
	spec_pod_free(pod);
}

TEST(args_expanded_from_env)
{
	/* kubernetes e2e: command `TEST_VAR=wrong echo "$(TEST_VAR)"` */
	struct spec_pod *pod = pod1("    command: [\"sh\", \"-c\", \"TEST_VAR=wrong echo "
				    "\\\"$(TEST_VAR)\\\"\"]\n"
				    "    args: [\"$(TEST_VAR)\", \"$$(TEST_VAR)\", \"$(NOPE)\"]\n"
				    "    env:\n"
				    "    - name: TEST_VAR\n"
				    "      value: test-value\n",
				    NULL);
	char **env = env_of(pod, &img_default);
	char *err, *a = args_of(pod, &img_default, env, &err);
	CHECK_STREQ(a, "sh|-c|TEST_VAR=wrong echo \"test-value\"|test-value|$(TEST_VAR)|$(NOPE)");
	free(a);
	free(err);
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(args_image_cmd_not_expanded)
{
	char *cmd[] = {"sh", "-c", "echo $$ $(FOO)", NULL};
	char *env[] = {"FOO=bar", NULL};
	struct image_config img = {.cmd = cmd};
	struct spec_pod *pod = pod1(NULL, NULL);
	char *err, *a = args_of(pod, &img, env, &err);
	CHECK_STREQ(a, "sh|-c|echo $$ $(FOO)");
	free(a);
	free(err);
	spec_pod_free(pod);
}

/* ---- environment ---------------------------------------------------------- */

TEST(env_expansion_foobar)
{
	struct spec_pod *pod = pod1("    env:\n"
				    "    - name: FOO\n"
				    "      value: foo-value\n"
				    "    - name: BAR\n"
				    "      value: bar-value\n"
				    "    - name: FOOBAR\n"
				    "      value: \"$(FOO);;$(BAR)\"\n",
				    NULL);
	char **env = env_of(pod, &img_default);
	CHECK_STREQ(env_val(env, "FOOBAR"), "foo-value;;bar-value");
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_expansion_rules)
{
	struct spec_pod *pod = pod1("    env:\n"
				    "    - name: FOO\n"
				    "      value: foo\n"
				    "    - name: ESC\n"
				    "      value: \"$$(FOO)\"\n"
				    "    - name: UNRESOLVED\n"
				    "      value: \"$(NOPE)-$(FOO)\"\n"
				    "    - name: UNTERMINATED\n"
				    "      value: \"a$(FOO\"\n"
				    "    - name: PARTIAL\n"
				    "      value: \"$(FOO $(FOO)\"\n"
				    "    - name: PLAIN\n"
				    "      value: \"$FOO ${FOO} $ end$\"\n"
				    "    - name: DOUBLE\n"
				    "      value: \"$$$$ $$$(FOO)\"\n"
				    "    - name: EMPTYREF\n"
				    "      value: \"$()\"\n"
				    "    - name: LATER\n"
				    "      value: \"$(DEFINED_LATER)\"\n"
				    "    - name: DEFINED_LATER\n"
				    "      value: x\n",
				    NULL);
	char **env = env_of(pod, &img_default);
	CHECK_STREQ(env_val(env, "ESC"), "$(FOO)");
	CHECK_STREQ(env_val(env, "UNRESOLVED"), "$(NOPE)-foo");
	CHECK_STREQ(env_val(env, "UNTERMINATED"), "a$(FOO");
	/* Go scans to the first ')': the name is "FOO $(FOO", undefined */
	CHECK_STREQ(env_val(env, "PARTIAL"), "$(FOO $(FOO)");
	CHECK_STREQ(env_val(env, "PLAIN"), "$FOO ${FOO} $ end$");
	CHECK_STREQ(env_val(env, "DOUBLE"), "$$ $foo");
	CHECK_STREQ(env_val(env, "EMPTYREF"), "$()");
	/* only what is defined so far counts */
	CHECK_STREQ(env_val(env, "LATER"), "$(DEFINED_LATER)");
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_order_and_override)
{
	struct spec_pod *pod = pod1("    env:\n"
				    "    - name: LANG\n"
				    "      value: C.UTF-8\n"
				    "    - name: NEW\n"
				    "      value: \"$(IMG)/$(PATH)\"\n"
				    "    - name: NEW\n"
				    "      value: second\n",
				    NULL);
	char **env = env_of(pod, &img_default);
	/* HOSTNAME first, then the image's Env, then the pod's */
	CHECK(env_idx(env, "PATH") == 0);
	CHECK(env_idx(env, "HOSTNAME") == 1);
	CHECK_STREQ(env_val(env, "HOSTNAME"), "web");
	CHECK(env_idx(env, "IMG") == 2);
	CHECK(env_idx(env, "LANG") == 3);
	CHECK(env_idx(env, "NEW") == 4);
	CHECK(env[5] == NULL);
	/* the image's PATH replaces the default, a later IMG the earlier */
	CHECK_STREQ(env_val(env, "PATH"), "/img/bin");
	CHECK_STREQ(env_val(env, "IMG"), "two");
	/* the pod's value wins, in the image variable's place */
	CHECK_STREQ(env_val(env, "LANG"), "C.UTF-8");
	CHECK_STREQ(env_val(env, "NEW"), "second");
	oci_strv_free(env);

	/* the kubelet expands against the pod's env only: the image's Env
	 * and the runtime's PATH and HOSTNAME stay unresolved, unless the pod
	 * declared the name before (then its value, not the image's) */
	struct spec_pod *pod2 = pod1("    env:\n"
				     "    - name: NEW\n"
				     "      value: \"$(IMG):$(PATH):$(HOSTNAME)\"\n"
				     "    - name: IMG\n"
				     "      value: mine\n"
				     "    - name: AFTER\n"
				     "      value: \"$(IMG):$(PATH)\"\n",
				     NULL);
	env = env_of(pod2, &img_default);
	CHECK_STREQ(env_val(env, "NEW"), "$(IMG):$(PATH):$(HOSTNAME)");
	CHECK_STREQ(env_val(env, "AFTER"), "mine:$(PATH)");
	oci_strv_free(env);
	spec_pod_free(pod2);
	spec_pod_free(pod);
}

TEST(env_default_path_and_hostname_override)
{
	struct image_config img = {0};
	struct spec_pod *pod = pod1("    env:\n"
				    "    - name: HOSTNAME\n"
				    "      value: custom\n",
				    NULL);
	char **env = env_of(pod, &img);
	CHECK_STREQ(env_val(env, "PATH"),
		    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	CHECK_STREQ(env_val(env, "HOSTNAME"), "custom");
	CHECK(env[2] == NULL);
	oci_strv_free(env);
	spec_pod_free(pod);

	/* spec.hostname wins over the pod name; an explicit fact over both */
	pod = pod1(NULL, "  hostname: myhost\n");
	env = env_of(pod, NULL);
	CHECK_STREQ(env_val(env, "HOSTNAME"), "myhost");
	oci_strv_free(env);
	struct oci_facts f = facts;
	f.hostname = "given";
	char *err = NULL;
	CHECK(oci_container_env(pod, &pod->containers[0], NULL, &f, &env, &err) == 0);
	CHECK_STREQ(env_val(env, "HOSTNAME"), "given");
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_bad_image_entries_skipped)
{
	char *bad[] = {"NOEQUALS", "=novalue", "OK=1", "EMPTY=", NULL};
	struct image_config img = {.env = bad};
	struct spec_pod *pod = pod1(NULL, NULL);
	char **env = env_of(pod, &img);
	CHECK(env_idx(env, "NOEQUALS") < 0);
	CHECK_STREQ(env_val(env, "OK"), "1");
	CHECK_STREQ(env_val(env, "EMPTY"), "");
	for (size_t i = 0; env && env[i]; i++)
		CHECK(env[i][0] != '=');
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_field_refs)
{
	struct spec_pod *pod =
	    pod1("    env:\n"
		 "    - name: FOO\n"
		 "      value: foo\n"
		 "    - name: NAME\n"
		 "      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n"
		 "    - name: NS\n"
		 "      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}\n"
		 "    - name: UID\n"
		 "      valueFrom: {fieldRef: {fieldPath: metadata.uid}}\n"
		 "    - name: APP\n"
		 "      valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}\n"
		 "    - name: MISSING\n"
		 "      valueFrom: {fieldRef: {fieldPath: \"metadata.labels['nope']\"}}\n"
		 "    - name: NOTE\n"
		 "      valueFrom:\n"
		 "        fieldRef: {fieldPath: \"metadata.annotations['note']\"}\n"
		 "    - name: NODE\n"
		 "      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}\n"
		 "    - name: SA\n"
		 "      valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}\n"
		 "    - name: POD_IP\n"
		 "      valueFrom: {fieldRef: {fieldPath: status.podIP}}\n"
		 "    - name: POD_IPS\n"
		 "      valueFrom: {fieldRef: {fieldPath: status.podIPs}}\n"
		 "    - name: HOST_IP\n"
		 "      valueFrom: {fieldRef: {fieldPath: status.hostIP}}\n",
		 NULL);
	char **env = env_of(pod, &img_default);
	CHECK_STREQ(env_val(env, "NAME"), "web");
	CHECK_STREQ(env_val(env, "NS"), "shop");
	CHECK_STREQ(env_val(env, "UID"), "1234-abcd");
	CHECK_STREQ(env_val(env, "APP"), "frontend");
	CHECK_STREQ(env_val(env, "MISSING"), "");
	/* values from valueFrom are not expanded */
	CHECK_STREQ(env_val(env, "NOTE"), "$(FOO) stays");
	CHECK_STREQ(env_val(env, "NODE"), "node1");
	CHECK_STREQ(env_val(env, "SA"), "default");
	CHECK_STREQ(env_val(env, "POD_IP"), "10.88.0.5");
	CHECK_STREQ(env_val(env, "POD_IPS"), "10.88.0.5");
	CHECK_STREQ(env_val(env, "HOST_IP"), "192.168.1.10");
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_resource_cpu_rounds_up)
{
	struct spec_pod *pod =
	    pod1("    resources:\n"
		 "      requests: {cpu: 250m, memory: 32Mi}\n"
		 "      limits: {cpu: 1250m, memory: 64Mi}\n"
		 "    env:\n"
		 "    - name: CPU_REQUEST\n"
		 "      valueFrom: {resourceFieldRef: {resource: requests.cpu}}\n"
		 "    - name: CPU_LIMIT\n"
		 "      valueFrom: {resourceFieldRef: {resource: limits.cpu}}\n"
		 "    - name: CPU_LIMIT_M\n"
		 "      valueFrom:\n"
		 "        resourceFieldRef: {resource: limits.cpu, divisor: 1m}\n",
		 NULL);
	char **env = env_of(pod, &img_default);
	CHECK_STREQ(env_val(env, "CPU_REQUEST"), "1");
	CHECK_STREQ(env_val(env, "CPU_LIMIT"), "2");
	CHECK_STREQ(env_val(env, "CPU_LIMIT_M"), "1250");
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_resource_memory_divisor)
{
	struct spec_pod *pod =
	    pod1("    resources:\n"
		 "      limits: {memory: 64Mi, ephemeral-storage: 1G}\n"
		 "    env:\n"
		 "    - name: MEM_MI\n"
		 "      valueFrom:\n"
		 "        resourceFieldRef: {resource: limits.memory, divisor: 1Mi}\n"
		 "    - name: MEM\n"
		 "      valueFrom: {resourceFieldRef: {resource: limits.memory}}\n"
		 "    - name: MEM_REQ_GI\n"
		 "      valueFrom:\n"
		 "        resourceFieldRef: {resource: requests.memory, divisor: 1Gi}\n"
		 "    - name: EPH_K\n"
		 "      valueFrom:\n"
		 "        resourceFieldRef:\n"
		 "          resource: limits.ephemeral-storage\n"
		 "          divisor: 1Ki\n",
		 NULL);
	char **env = env_of(pod, &img_default);
	CHECK_STREQ(env_val(env, "MEM_MI"), "64");
	CHECK_STREQ(env_val(env, "MEM"), "67108864");
	/* requests default to limits; 64Mi of 1Gi rounds up to 1 */
	CHECK_STREQ(env_val(env, "MEM_REQ_GI"), "1");
	CHECK_STREQ(env_val(env, "EPH_K"), "976563"); /* 10^9 / 1024, rounded up */
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_resource_no_limit_is_node_allocatable)
{
	struct spec_pod *pod =
	    pod1("    env:\n"
		 "    - name: CPU_LIMIT\n"
		 "      valueFrom: {resourceFieldRef: {resource: limits.cpu}}\n"
		 "    - name: MEM_LIMIT\n"
		 "      valueFrom:\n"
		 "        resourceFieldRef: {resource: limits.memory, divisor: 1Mi}\n"
		 "    - name: EPH_LIMIT\n"
		 "      valueFrom:\n"
		 "        resourceFieldRef:\n"
		 "          resource: limits.ephemeral-storage\n"
		 "          divisor: 1Gi\n"
		 "    - name: CPU_REQUEST\n"
		 "      valueFrom: {resourceFieldRef: {resource: requests.cpu}}\n",
		 NULL);
	char **env = env_of(pod, &img_default);
	CHECK_STREQ(env_val(env, "CPU_LIMIT"), "4");
	CHECK_STREQ(env_val(env, "MEM_LIMIT"), "8192");
	CHECK_STREQ(env_val(env, "EPH_LIMIT"), "100");
	CHECK_STREQ(env_val(env, "CPU_REQUEST"), "0");
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_resource_other_container)
{
	const char *y = "apiVersion: v1\n"
			"kind: Pod\n"
			"metadata: {name: two}\n"
			"spec:\n"
			"  containers:\n"
			"  - name: app\n"
			"    image: busybox\n"
			"    env:\n"
			"    - name: SIDE_MEM\n"
			"      valueFrom:\n"
			"        resourceFieldRef:\n"
			"          containerName: side\n"
			"          resource: limits.memory\n"
			"          divisor: 1Mi\n"
			"  - name: side\n"
			"    image: busybox\n"
			"    resources: {limits: {memory: 100M}}\n";
	struct spec_pod *pod = th_parse_pod(y);
	CHECK(pod != NULL);
	if (!pod)
		return;
	char **env = env_of(pod, NULL);
	CHECK_STREQ(env_val(env, "SIDE_MEM"), "96"); /* 95.37 rounded up */
	oci_strv_free(env);
	spec_pod_free(pod);
}

TEST(env_hostname_truncated)
{
	/* no metadata.name: the name comes from the facts (the directory) */
	struct spec_pod *pod = th_parse_pod("apiVersion: v1\nkind: Pod\n"
				     "spec:\n  containers:\n  - name: app\n    image: busybox\n");
	CHECK(pod != NULL);
	if (!pod)
		return;
	struct oci_facts f = {
	    .pod_name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.-bbbb"};
	char **env = NULL, *err = NULL;
	CHECK(oci_container_env(pod, &pod->containers[0], NULL, &f, &env, &err) == 0);
	/* cut to 63, then no trailing '-' or '.' */
	CHECK_STREQ(env_val(env, "HOSTNAME"),
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	oci_strv_free(env);
	free(err);
	spec_pod_free(pod);
}

/* ---- user ---------------------------------------------------------------- */

TEST(user_by_name)
{
	struct image_config img = img_default;
	img.user = "app";
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(jint(c, "process.user.uid") == 1000);
	CHECK(jint(c, "process.user.gid") == 1001);
	/* supplementary groups from /etc/group */
	CHECK(gid_listed(c, 50));
	CHECK(gid_listed(c, 44));
	CHECK(!gid_listed(c, 29));
	json_decref(c);
	free(err);

	/* "nobody" sits on a line with spaces around it */
	img.user = "nobody";
	c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(jint(c, "process.user.uid") == 65534);
	CHECK(gid_listed(c, 29));
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(user_uid_gid_forms)
{
	struct image_config img = img_default;
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	static const struct {
		const char *user;
		long long uid, gid;
		bool sgids;
	} cases[] = {
	    {"1000:1000", 1000, 1000, false}, /* numbers as they are, no extra groups */
	    {"app:staff", 1000, 50, false},   /* group given: no supplementary */
	    {"1000", 1000, 1001, true},	      /* uid in passwd: its gid and groups */
	    {"4242", 4242, 0, false},	      /* not in passwd: gid 0 */
	    {"4242:video", 4242, 44, false},  {"", 0, 0, false}, {NULL, 0, 0, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		img.user = (char *)cases[i].user;
		json_t *c = config_of(&opod, pod, &img, NULL, &rc, &err);
		CHECK(rc == 0);
		CHECK(jint(c, "process.user.uid") == cases[i].uid);
		CHECK(jint(c, "process.user.gid") == cases[i].gid);
		CHECK((jget(c, "process.user.additionalGids") != NULL) == cases[i].sgids);
		if (rc != 0 || jint(c, "process.user.gid") != cases[i].gid)
			fprintf(stderr, "  case %zu (%s): %s\n", i,
				cases[i].user ? cases[i].user : "NULL", err ? err : "");
		json_decref(c);
		free(err);
	}
	spec_pod_free(pod);
}

TEST(user_unknown_name)
{
	struct image_config img = img_default;
	img.user = "ghost";
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(c == NULL);
	CHECK(rc == -EINVAL);
	CHECK_CONTAINS(err, "unable to find user \"ghost\": no matching entries in passwd file");
	free(err);

	img.user = "app:nogroup";
	c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(c == NULL);
	CHECK_CONTAINS(err, "unable to find group \"nogroup\": no matching entries in group file");
	free(err);
	spec_pod_free(pod);
}

TEST(user_security_context_wins)
{
	struct image_config img = img_default;
	img.user = "app:staff";
	/* pod-level runAsUser, container-level runAsGroup */
	struct spec_pod *pod = pod1("    securityContext: {runAsGroup: 77}\n",
				    "  securityContext: {runAsUser: 1000, fsGroup: 2000}\n");
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(jint(c, "process.user.uid") == 1000);
	CHECK(jint(c, "process.user.gid") == 77);
	CHECK(gid_listed(c, 2000));
	CHECK(!gid_listed(c, 50));
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	/* runAsUser alone: the passwd gid of that uid and its groups */
	pod =
	    pod1("    securityContext: {runAsUser: 1000}\n", "  securityContext: {runAsUser: 5}\n");
	c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(jint(c, "process.user.uid") == 1000);
	CHECK(jint(c, "process.user.gid") == 1001);
	CHECK(gid_listed(c, 50));
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(user_run_as_non_root)
{
	struct image_config img = img_default;
	int rc;
	char *err;
	/* no image user: root */
	struct spec_pod *pod = pod1("    securityContext: {runAsNonRoot: true}\n", NULL);
	json_t *c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(c == NULL);
	CHECK(rc == -EINVAL);
	CHECK_CONTAINS(err, "container has runAsNonRoot and image will run as root");
	CHECK_CONTAINS(err, "container: app");
	free(err);
	img.user = "0:0";
	c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(c == NULL);
	CHECK_CONTAINS(err, "container has runAsNonRoot and image will run as root");
	free(err);
	/* the kubelet cannot check a name, so it refuses it */
	img.user = "app";
	c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(c == NULL);
	CHECK_CONTAINS(err, "image has non-numeric user (app), cannot verify user is non-root");
	free(err);
	img.user = "1000";
	c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(jint(c, "process.user.uid") == 1000);
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	/* pod-level runAsNonRoot with runAsUser 0 */
	pod = pod1(NULL, "  securityContext: {runAsNonRoot: true, runAsUser: 0}\n");
	c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK(c == NULL);
	CHECK_CONTAINS(err, "runAsUser breaks non-root policy");
	free(err);
	spec_pod_free(pod);
}

static long long uid_for(const char *user, int *rc, char **err)
{
	struct image_config img = img_default;
	img.user = (char *)user;
	struct spec_pod *pod = pod1(NULL, NULL);
	json_t *c = config_of(&opod, pod, &img, NULL, rc, err);
	long long uid = jint(c, "process.user.uid");
	json_decref(c);
	spec_pod_free(pod);
	return uid;
}

/* /etc/passwd as a symlink (absolute, or climbing with ".."), resolved
 * inside the rootfs where the host has no etc/real. */
static void symlink_cases(void)
{
	char *real = xasprintf("%s/etc/real", rootfs);
	char *link = xasprintf("%s/etc/passwd", rootfs);
	char *save = xasprintf("%s/etc/passwd.orig", rootfs);
	char *hop = xasprintf("%s/etc/hop", rootfs);
	CHECK(rename(link, save) == 0);
	FILE *f = fopen(real, "w");
	if (f) {
		fputs("linked:x:3333:3334::/:/bin/sh\n", f);
		fclose(f);
	}
	int rc;
	char *err;
	static const char *const targets[] = {"/../../../../../etc/real", "../../../../etc/real",
					      "hop", "./../etc/./real", NULL};
	CHECK(symlink("/etc/real", hop) == 0);
	for (size_t i = 0; targets[i]; i++) {
		unlink(link);
		CHECK(symlink(targets[i], link) == 0);
		CHECK(uid_for("linked", &rc, &err) == 3333);
		CHECK(rc == 0);
		if (rc)
			fprintf(stderr, "  target %s: %s\n", targets[i], err);
		free(err);
	}

	/* a loop is an error, not a hang */
	unlink(link);
	unlink(hop);
	CHECK(symlink("hop", link) == 0);
	CHECK(symlink("passwd", hop) == 0);
	uid_for("linked", &rc, &err);
	CHECK(rc == -EINVAL);
	CHECK_CONTAINS(err, "unable to find user \"linked\"");
	free(err);
	/* a numeric user does not need the file */
	CHECK(uid_for("77", &rc, &err) == 77);
	free(err);

	/* a FIFO is refused rather than read forever */
	unlink(link);
	CHECK(mkfifo(link, 0644) == 0);
	uid_for("linked", &rc, &err);
	CHECK(rc == -EINVAL);
	CHECK_CONTAINS(err, "unable to find user \"linked\"");
	free(err);

	unlink(link);
	unlink(hop);
	unlink(real);
	CHECK(rename(save, link) == 0);
	free(real);
	free(link);
	free(save);
	free(hop);
}

TEST(user_symlinks_stay_in_rootfs)
{
	symlink_cases();
}

TEST(user_symlinks_without_openat2)
{
	oci_no_openat2 = true;
	symlink_cases();
	int rc;
	char *err;
	CHECK(uid_for("app", &rc, &err) == 1000);
	free(err);
	oci_no_openat2 = false;
}

/* ---- capabilities ------------------------------------------------------- */

static bool have_cap(int n)
{
	return prctl(PR_CAPBSET_READ, (unsigned long)n, 0, 0, 0) == 1;
}

TEST(caps_default_fourteen)
{
	static const char *const docker[] = {"CAP_CHOWN",
					     "CAP_DAC_OVERRIDE",
					     "CAP_FSETID",
					     "CAP_FOWNER",
					     "CAP_MKNOD",
					     "CAP_NET_RAW",
					     "CAP_SETGID",
					     "CAP_SETUID",
					     "CAP_SETFCAP",
					     "CAP_SETPCAP",
					     "CAP_NET_BIND_SERVICE",
					     "CAP_SYS_CHROOT",
					     "CAP_KILL",
					     "CAP_AUDIT_WRITE",
					     NULL};
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	for (size_t i = 0; docker[i]; i++) {
		CHECK(has_cap(c, "bounding", docker[i]));
		CHECK(has_cap(c, "effective", docker[i]));
		CHECK(has_cap(c, "permitted", docker[i]));
	}
	CHECK(ncaps(c, "bounding") == 14);
	CHECK(ncaps(c, "effective") == 14);
	CHECK(ncaps(c, "permitted") == 14);
	CHECK(json_is_array(jget(c, "process.capabilities.inheritable")));
	CHECK(ncaps(c, "inheritable") == 0);
	CHECK(ncaps(c, "ambient") == 0);
	CHECK(jget(c, "process.noNewPrivileges") == json_false());
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(caps_add_and_drop)
{
	struct spec_pod *pod = pod1("    securityContext:\n"
				    "      capabilities:\n"
				    "        add: [NET_ADMIN, CAP_SYS_TIME]\n"
				    "        drop: [KILL, MKNOD]\n",
				    NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(has_cap(c, "bounding", "CAP_NET_ADMIN"));
	CHECK(has_cap(c, "permitted", "CAP_SYS_TIME"));
	CHECK(!has_cap(c, "bounding", "CAP_KILL"));
	CHECK(!has_cap(c, "effective", "CAP_MKNOD"));
	CHECK(has_cap(c, "bounding", "CAP_CHOWN"));
	CHECK(ncaps(c, "bounding") == 14);
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(caps_drop_all)
{
	struct spec_pod *pod = pod1("    securityContext:\n"
				    "      capabilities: {drop: [ALL]}\n",
				    NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(ncaps(c, "bounding") == 0);
	CHECK(ncaps(c, "effective") == 0);
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	/* ALL first, then the named ones */
	pod = pod1("    securityContext:\n"
		   "      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}\n",
		   NULL);
	c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(ncaps(c, "bounding") == 1);
	CHECK(has_cap(c, "bounding", "CAP_NET_BIND_SERVICE"));
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	pod = pod1("    securityContext:\n"
		   "      capabilities: {add: [ALL], drop: [CHOWN]}\n",
		   NULL);
	c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(!has_cap(c, "bounding", "CAP_CHOWN"));
	CHECK(has_cap(c, "bounding", "CAP_SYS_ADMIN") == have_cap(21));
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(caps_privileged)
{
	struct spec_pod *pod = pod1("    securityContext: {privileged: true}\n", NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	size_t avail = 0;
	for (int i = 0; i <= 40; i++)
		avail += have_cap(i);
	CHECK(ncaps(c, "bounding") == avail);
	CHECK(ncaps(c, "effective") == avail);
	CHECK(has_cap(c, "bounding", "CAP_SYS_ADMIN") == have_cap(21));
	/* nothing podfs itself lacks (this host has no CAP_SYS_RESOURCE) */
	CHECK(has_cap(c, "bounding", "CAP_SYS_RESOURCE") == have_cap(24));
	CHECK(jget(c, "linux.maskedPaths") == NULL);
	CHECK(jget(c, "linux.readonlyPaths") == NULL);
	CHECK(jget(c, "process.noNewPrivileges") == json_false());
	json_t *dev = json_array_get(jget(c, "linux.resources.devices"), 0);
	CHECK(jget(dev, "allow") == json_true());
	CHECK(jarr_has(jget(find_mount(c, "/sys"), "options"), "rw"));
	CHECK(!jarr_has(jget(find_mount(c, "/sys"), "options"), "ro"));
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(caps_unavailable_or_unknown)
{
	struct spec_pod *pod = pod1("    securityContext:\n"
				    "      capabilities: {add: [NOT_A_CAP]}\n",
				    NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(c == NULL);
	CHECK(rc == -EINVAL);
	CHECK_CONTAINS(err, "unknown capability \"NOT_A_CAP\"");
	free(err);
	spec_pod_free(pod);

	if (have_cap(24))
		return; /* SYS_RESOURCE is there: nothing to refuse */
	pod = pod1("    securityContext:\n"
		   "      capabilities: {add: [SYS_RESOURCE]}\n",
		   NULL);
	c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(c == NULL);
	CHECK(rc == -EPERM);
	CHECK_CONTAINS(err, "\"SYS_RESOURCE\" is not in podfs's capability bounding set");
	free(err);
	spec_pod_free(pod);
}

TEST(no_new_privileges)
{
	struct spec_pod *pod =
	    pod1("    securityContext: {allowPrivilegeEscalation: false}\n", NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jget(c, "process.noNewPrivileges") == json_true());
	json_decref(c);
	free(err);
	spec_pod_free(pod);
	pod = pod1("    securityContext: {allowPrivilegeEscalation: true}\n", NULL);
	c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jget(c, "process.noNewPrivileges") == json_false());
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

/* ---- resources ----------------------------------------------------------- */

TEST(cgroup_cpu_limit_and_memory)
{
	struct spec_pod *pod = pod1("    resources:\n"
				    "      limits: {cpu: 500m, memory: 256Mi}\n",
				    NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(jint(c, "linux.resources.cpu.quota") == 50000);
	CHECK(jint(c, "linux.resources.cpu.period") == 100000);
	/* the request defaults to the limit: 500 * 1024 / 1000 */
	CHECK(jint(c, "linux.resources.cpu.shares") == 512);
	CHECK(jint(c, "linux.resources.memory.limit") == 268435456);
	CHECK_STREQ(jstr(c, "linux.cgroupsPath"), "/podfs/1234-abcd/app-1");
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(cgroup_cpu_request_only)
{
	struct spec_pod *pod = pod1("    resources:\n"
				    "      requests: {cpu: 100m, memory: 1Gi}\n",
				    NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jint(c, "linux.resources.cpu.shares") == 102);
	CHECK(jget(c, "linux.resources.cpu.quota") == NULL);
	CHECK(jget(c, "linux.resources.cpu.period") == NULL);
	CHECK(jget(c, "linux.resources.memory") == NULL); /* requests are not limits */
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(cgroup_none_and_minimums)
{
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jint(c, "linux.resources.cpu.shares") == 2);
	CHECK(jget(c, "linux.resources.cpu.quota") == NULL);
	CHECK(jget(c, "linux.resources.memory") == NULL);
	json_t *dev = json_array_get(jget(c, "linux.resources.devices"), 0);
	CHECK(jget(dev, "allow") == json_false());
	CHECK_STREQ(jstr(dev, "access"), "rwm");
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	/* 1m: shares max(2, 1), quota max(1000, 100) */
	pod = pod1("    resources: {limits: {cpu: 1m}}\n", NULL);
	c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jint(c, "linux.resources.cpu.shares") == 2);
	CHECK(jint(c, "linux.resources.cpu.quota") == 1000);
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	/* huge: shares capped at 262144 */
	pod = pod1("    resources: {requests: {cpu: 1000}}\n", NULL);
	c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jint(c, "linux.resources.cpu.shares") == 262144);
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(cgroup_zero_limits_and_swap)
{
	/* a limit of 0 is no limit (the kubelet's IsZero) */
	struct spec_pod *pod = pod1("    resources: {limits: {cpu: 0, memory: 0}}\n", NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(jint(c, "linux.resources.cpu.shares") == 2);
	CHECK(jget(c, "linux.resources.cpu.quota") == NULL);
	CHECK(jget(c, "linux.resources.memory") == NULL);
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	/* no swap where the host accounts it: swap (memory+swap) = limit */
	pod = pod1("    resources: {limits: {memory: 64Mi}}\n", NULL);
	struct oci_pod op = opod;
	op.no_swap = true;
	c = config_of(&op, pod, &img_default, NULL, &rc, &err);
	CHECK(jint(c, "linux.resources.memory.limit") == 67108864);
	CHECK(jint(c, "linux.resources.memory.swap") == 67108864);
	json_decref(c);
	free(err);
	c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jget(c, "linux.resources.memory.swap") == NULL);
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(oom_score_adj_in_process)
{
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jget(c, "process.oomScoreAdj") == NULL); /* unset: inherited */
	json_decref(c);
	free(err);
	struct oci_pod op = opod;
	op.has_oom_score_adj = true;
	op.oom_score_adj = 999;
	c = config_of(&op, pod, &img_default, NULL, &rc, &err);
	CHECK(jint(c, "process.oomScoreAdj") == 999);
	json_decref(c);
	free(err);
	op.oom_score_adj = 0; /* zero is a value, not "unset" */
	c = config_of(&op, pod, &img_default, NULL, &rc, &err);
	CHECK(jget(c, "process.oomScoreAdj") != NULL && jint(c, "process.oomScoreAdj") == 0);
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	op.oom_score_adj = -998;
	char *infra = oci_infra_config(&op, "/infra", "inf-1");
	json_t *j = json_loads(infra, 0, NULL);
	CHECK(jint(j, "process.oomScoreAdj") == -998);
	json_decref(j);
	free(infra);
}

TEST(mounts_subpath_sources)
{
	/* a resolved subPath (volume.c's bind) replaces volume path + subPath */
	const char *extra = "  volumes:\n"
			    "  - name: data\n"
			    "    emptyDir: {}\n";
	struct spec_pod *pod = pod1("    volumeMounts:\n"
				    "    - {name: data, mountPath: /whole}\n"
				    "    - {name: data, mountPath: /part, subPath: a/b, readOnly: true}\n",
				    extra);
	CHECK(pod != NULL);
	if (!pod)
		return;
	const char *vols[] = {"/var/pods/u/vol/data", NULL};
	char *srcs[] = {NULL, "/run/podfs/x/subpaths/u/app/1", NULL};
	struct oci_pod op = opod;
	op.mount_sources = srcs;
	int rc;
	char *err;
	json_t *c = config_of(&op, pod, &img_default, vols, &rc, &err);
	CHECK(rc == 0);
	CHECK_STREQ(jstr(find_mount(c, "/whole"), "source"), "/var/pods/u/vol/data");
	CHECK_STREQ(jstr(find_mount(c, "/part"), "source"), "/run/podfs/x/subpaths/u/app/1");
	CHECK(jarr_has(jget(find_mount(c, "/part"), "options"), "ro"));
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(env_more_field_refs)
{
	/* serviceAccountName as given; hostIPs like hostIP; with no facts the
	 * spec's values, and "" for what only the node knows */
	struct spec_pod *pod =
	    pod1("    env:\n"
		 "    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}\n"
		 "    - {name: HOST_IPS, valueFrom: {fieldRef: {fieldPath: status.hostIPs}}}\n"
		 "    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}\n"
		 "    - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}\n"
		 "    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}\n"
		 "    - {name: NOTE, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['note']\"}}}\n"
		 "    - {name: AFTER, value: \"[$(SA)|$(HOST_IPS)|$(POD_IP)]\"}\n",
		 "  serviceAccountName: builder\n  nodeName: spec-node\n");
	CHECK(pod != NULL);
	if (!pod)
		return;
	char **env = NULL, *err = NULL;
	struct oci_facts f = facts;
	f.service_account = NULL;
	f.node_name = NULL;
	CHECK(oci_container_env(pod, &pod->containers[0], NULL, &f, &env, &err) == 0);
	CHECK_STREQ(env_val(env, "SA"), "builder");
	CHECK_STREQ(env_val(env, "HOST_IPS"), "192.168.1.10");
	CHECK_STREQ(env_val(env, "NODE"), "spec-node");
	/* values from valueFrom are expanded into later values as they are */
	CHECK_STREQ(env_val(env, "AFTER"), "[builder|192.168.1.10|10.88.0.5]");
	oci_strv_free(env);
	CHECK(oci_container_env(pod, &pod->containers[0], NULL, NULL, &env, &err) == 0);
	CHECK_STREQ(env_val(env, "UID"), "1234-abcd");
	CHECK_STREQ(env_val(env, "HOST_IPS"), "");
	CHECK_STREQ(env_val(env, "POD_IP"), "");
	CHECK_STREQ(env_val(env, "NOTE"), "$(FOO) stays");
	oci_strv_free(env);
	free(err);
	spec_pod_free(pod);
}

TEST(rlimit_not_above_hard_limit)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	json_t *r = json_array_get(jget(c, "process.rlimits"), 0);
	CHECK_STREQ(jstr(r, "type"), "RLIMIT_NOFILE");
	CHECK(jint(r, "hard") == (long long)rl.rlim_max);
	CHECK(jint(r, "soft") == (long long)rl.rlim_max);
	CHECK(json_array_size(jget(c, "process.rlimits")) == 1);
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

/* ---- namespaces, hostname, root -------------------------------------------- */

TEST(app_namespaces_by_path_no_hostname)
{
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(jget(c, "hostname") == NULL);
	CHECK(find_ns(c, "pid") && !jget(find_ns(c, "pid"), "path"));
	CHECK(find_ns(c, "mount") && !jget(find_ns(c, "mount"), "path"));
	CHECK_STREQ(jstr(find_ns(c, "network"), "path"), "/run/netns/podfs-web");
	CHECK_STREQ(jstr(find_ns(c, "ipc"), "path"), "/proc/100/ns/ipc");
	CHECK_STREQ(jstr(find_ns(c, "uts"), "path"), "/proc/100/ns/uts");
	CHECK(find_ns(c, "user") == NULL);
	CHECK(find_ns(c, "cgroup") == NULL);
	CHECK(json_array_size(jget(c, "linux.namespaces")) == 5);
	CHECK(jarr_has(jget(c, "linux.maskedPaths"), "/proc/kcore"));
	CHECK(jarr_has(jget(c, "linux.maskedPaths"), "/sys/firmware"));
	CHECK(jarr_has(jget(c, "linux.readonlyPaths"), "/proc/sys"));
	CHECK(jarr_has(jget(c, "linux.readonlyPaths"), "/proc/sysrq-trigger"));
	CHECK_STREQ(jstr(c, "ociVersion"), "1.0.2");
	CHECK_STREQ(jstr(c, "root.path"), rootfs);
	CHECK(jget(c, "root.readonly") == json_false());
	CHECK(jget(c, "process.terminal") == json_false());
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(app_shared_pid_and_host_network)
{
	struct spec_pod *pod = pod1(NULL, "  shareProcessNamespace: true\n");
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK_STREQ(jstr(find_ns(c, "pid"), "path"), "/proc/100/ns/pid");
	json_decref(c);
	free(err);
	spec_pod_free(pod);

	struct oci_pod hp = opod;
	hp.netns_path = NULL;
	pod = pod1(NULL, "  hostNetwork: true\n");
	c = config_of(&hp, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK(find_ns(c, "network") == NULL);
	CHECK(find_ns(c, "pid") && !jget(find_ns(c, "pid"), "path"));
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(cwd_choice)
{
	struct image_config img = img_default;
	img.working_dir = "/srv/img";
	struct spec_pod *pod = pod1("    workingDir: /app/\n", NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK_STREQ(jstr(c, "process.cwd"), "/app");
	json_decref(c);
	free(err);
	spec_pod_free(pod);
	pod = pod1(NULL, NULL);
	c = config_of(&opod, pod, &img, NULL, &rc, &err);
	CHECK_STREQ(jstr(c, "process.cwd"), "/srv/img");
	json_decref(c);
	free(err);
	c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK_STREQ(jstr(c, "process.cwd"), "/");
	/* env and args made it into process */
	CHECK(jarr_has(jget(c, "process.env"), "HOSTNAME=web"));
	CHECK(json_array_size(jget(c, "process.args")) == 4);
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

/* ---- mounts --------------------------------------------------------------- */

TEST(mounts_defaults_shm_and_etc_files)
{
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK_STREQ(jstr(find_mount(c, "/proc"), "type"), "proc");
	CHECK_STREQ(jstr(find_mount(c, "/dev"), "type"), "tmpfs");
	CHECK_STREQ(jstr(find_mount(c, "/dev/pts"), "type"), "devpts");
	CHECK_STREQ(jstr(find_mount(c, "/dev/mqueue"), "type"), "mqueue");
	CHECK_STREQ(jstr(find_mount(c, "/sys"), "type"), "sysfs");
	CHECK(jarr_has(jget(find_mount(c, "/sys"), "options"), "ro"));
	json_t *cg = find_mount(c, "/sys/fs/cgroup");
	CHECK_STREQ(jstr(cg, "type"), "cgroup");
	CHECK(jarr_has(jget(cg, "options"), "ro"));
	/* the pod's shm replaces the default tmpfs */
	CHECK(count_mounts(c, "/dev/shm") == 1);
	json_t *shm = find_mount(c, "/dev/shm");
	CHECK_STREQ(jstr(shm, "type"), "bind");
	CHECK_STREQ(jstr(shm, "source"), "/pods/u/shm");
	CHECK(jarr_has(jget(shm, "options"), "rbind"));
	CHECK(mount_idx(c, "/dev") < mount_idx(c, "/dev/shm"));
	json_t *h = find_mount(c, "/etc/hosts");
	CHECK_STREQ(jstr(h, "source"), "/pods/u/hosts");
	CHECK_STREQ(jstr(h, "type"), "bind");
	CHECK(!jarr_has(jget(h, "options"), "ro"));
	CHECK_STREQ(jstr(find_mount(c, "/etc/hostname"), "source"), "/pods/u/hostname");
	CHECK_STREQ(jstr(find_mount(c, "/etc/resolv.conf"), "source"), "/pods/u/resolv.conf");
	json_decref(c);
	free(err);

	/* without a pod shm: the default tmpfs */
	struct oci_pod op = opod;
	op.shm_path = NULL;
	c = config_of(&op, pod, &img_default, NULL, &rc, &err);
	CHECK_STREQ(jstr(find_mount(c, "/dev/shm"), "type"), "tmpfs");
	CHECK(count_mounts(c, "/dev/shm") == 1);
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(mounts_read_only_root)
{
	struct spec_pod *pod = pod1("    securityContext: {readOnlyRootFilesystem: true}\n", NULL);
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, NULL, &rc, &err);
	CHECK(jget(c, "root.readonly") == json_true());
	CHECK(jarr_has(jget(find_mount(c, "/etc/hosts"), "options"), "ro"));
	CHECK(jarr_has(jget(find_mount(c, "/etc/hostname"), "options"), "ro"));
	CHECK(jarr_has(jget(find_mount(c, "/etc/resolv.conf"), "options"), "ro"));
	/* /dev/shm stays writable, as containerd leaves it */
	CHECK(!jarr_has(jget(find_mount(c, "/dev/shm"), "options"), "ro"));
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(mounts_volumes)
{
	const char *extra = "  volumes:\n"
			    "  - name: data\n"
			    "    emptyDir: {}\n"
			    "  - name: conf\n"
			    "    hostPath: {path: /srv/conf}\n"
			    "  - name: hosts\n"
			    "    emptyDir: {}\n";
	struct spec_pod *pod = pod1("    volumeMounts:\n"
				    "    - name: data\n"
				    "      mountPath: /data/cache\n"
				    "      subPath: app/cache\n"
				    "    - name: conf\n"
				    "      mountPath: /etc/app/\n"
				    "      readOnly: true\n"
				    "    - name: data\n"
				    "      mountPath: /data\n"
				    "    - name: hosts\n"
				    "      mountPath: /etc/hosts\n"
				    "      subPath: hosts\n",
				    extra);
	CHECK(pod != NULL);
	if (!pod)
		return;
	const char *vols[] = {"/var/pods/u/vol/data", "/srv/conf", "/var/pods/u/vol/hosts", NULL};
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, vols, &rc, &err);
	CHECK(rc == 0);
	json_t *m = find_mount(c, "/data/cache");
	CHECK_STREQ(jstr(m, "type"), "bind");
	CHECK_STREQ(jstr(m, "source"), "/var/pods/u/vol/data/app/cache");
	CHECK(jarr_has(jget(m, "options"), "rbind"));
	CHECK(!jarr_has(jget(m, "options"), "ro"));
	m = find_mount(c, "/etc/app");
	CHECK_STREQ(jstr(m, "source"), "/srv/conf");
	CHECK(jarr_has(jget(m, "options"), "ro"));
	CHECK(jarr_has(jget(m, "options"), "rbind"));
	/* a parent is mounted before what is inside it */
	CHECK(mount_idx(c, "/data") >= 0);
	CHECK(mount_idx(c, "/data") < mount_idx(c, "/data/cache"));
	/* a volume at /etc/hosts replaces the pod's file */
	CHECK(count_mounts(c, "/etc/hosts") == 1);
	CHECK_STREQ(jstr(find_mount(c, "/etc/hosts"), "source"), "/var/pods/u/vol/hosts/hosts");
	json_decref(c);
	free(err);

	/* no host path for a volume: an error, not a crash */
	const char *short_vols[] = {"/var/pods/u/vol/data", NULL, NULL, NULL};
	c = config_of(&opod, pod, &img_default, short_vols, &rc, &err);
	CHECK(c == NULL);
	CHECK(rc == -EINVAL);
	CHECK_CONTAINS(err, "no host path for volume \"conf\"");
	free(err);
	spec_pod_free(pod);
}

TEST(mounts_volume_over_dev_shm)
{
	struct spec_pod *pod = pod1("    volumeMounts:\n"
				    "    - name: shm\n"
				    "      mountPath: /dev/shm\n",
				    "  volumes:\n"
				    "  - name: shm\n"
				    "    emptyDir: {medium: Memory}\n");
	CHECK(pod != NULL);
	if (!pod)
		return;
	const char *vols[] = {"/var/pods/u/vol/shm", NULL};
	int rc;
	char *err;
	json_t *c = config_of(&opod, pod, &img_default, vols, &rc, &err);
	CHECK(count_mounts(c, "/dev/shm") == 1);
	CHECK_STREQ(jstr(find_mount(c, "/dev/shm"), "source"), "/var/pods/u/vol/shm");
	CHECK(mount_idx(c, "/dev") < mount_idx(c, "/dev/shm"));
	json_decref(c);
	free(err);
	spec_pod_free(pod);
}

TEST(non_utf8_paths_kept)
{
	/* jansson refuses bytes that are not UTF-8; they must not vanish */
	struct oci_pod op = opod;
	op.hosts_path = "/pods/caf\xe9/hosts";
	struct spec_pod *pod = pod1(NULL, NULL);
	int rc;
	char *err;
	json_t *c = config_of(&op, pod, &img_default, NULL, &rc, &err);
	CHECK(rc == 0);
	CHECK_STREQ(jstr(find_mount(c, "/etc/hosts"), "source"), "/pods/caf\xef\xbf\xbd/hosts");
	json_decref(c);
	free(err);
	spec_pod_free(pod);
	char *s = oci_infra_config(&opod, "/root\xc3(fs", "i");
	c = json_loads(s, 0, NULL);
	CHECK_STREQ(jstr(c, "root.path"), "/root\xef\xbf\xbd(fs");
	json_decref(c);
	free(s);
}

TEST(config_error_paths_leave_outputs_null)
{
	struct image_config empty = {0};
	struct spec_pod *pod = pod1(NULL, NULL);
	char *json = (char *)1, *err = NULL;
	int r = oci_container_config(&opod, pod, &pod->containers[0], &empty, rootfs, "x", NULL,
				     NULL, &json, &err);
	CHECK(r == -EINVAL);
	CHECK(json == NULL);
	CHECK_CONTAINS(err, "container app: no command");
	free(err);
	/* a missing rootfs is fine for numeric users */
	r = oci_container_config(&opod, pod, &pod->containers[0], &img_default,
				 "/nonexistent/rootfs", "x", NULL, NULL, &json, &err);
	CHECK(r == 0);
	CHECK(json != NULL);
	free(json);
	free(err);
	spec_pod_free(pod);
	oci_strv_free(NULL);
}

/* ---- the infra container -------------------------------------------------- */

static json_t *infra(const struct oci_pod *op)
{
	char *s = oci_infra_config(op, "/pods/u/infra/rootfs", "infra");
	json_t *root = json_loads(s, 0, NULL);
	free(s);
	return root;
}

TEST(infra_fields)
{
	json_t *c = infra(&opod);
	CHECK(c != NULL);
	CHECK_STREQ(jstr(c, "ociVersion"), "1.0.2");
	CHECK_STREQ(jstr(c, "root.path"), "/pods/u/infra/rootfs");
	CHECK(jget(c, "root.readonly") == json_true());
	CHECK(jget(c, "process.terminal") == json_false());
	CHECK(jint(c, "process.user.uid") == 65535);
	CHECK(jint(c, "process.user.gid") == 65535);
	json_t *args = jget(c, "process.args");
	CHECK(json_array_size(args) == 2);
	CHECK_STREQ(json_string_value(json_array_get(args, 0)), "/catatonit");
	CHECK_STREQ(json_string_value(json_array_get(args, 1)), "-P");
	CHECK(json_array_size(jget(c, "process.env")) == 1);
	CHECK(jarr_has(jget(c, "process.env"), "PATH=/"));
	CHECK_STREQ(jstr(c, "process.cwd"), "/");
	CHECK(jget(c, "process.noNewPrivileges") == json_true());
	CHECK(json_is_array(jget(c, "process.capabilities.bounding")));
	CHECK(ncaps(c, "bounding") == 0);
	CHECK(ncaps(c, "effective") == 0);
	CHECK(ncaps(c, "permitted") == 0);
	CHECK_STREQ(jstr(c, "hostname"), "web");
	CHECK_STREQ(jstr(c, "linux.cgroupsPath"), "/podfs/1234-abcd/infra");
	CHECK(jint(c, "linux.resources.cpu.shares") == 2);
	static const char *const fresh[] = {"pid", "ipc", "uts", "mount", NULL};
	for (size_t i = 0; fresh[i]; i++)
		CHECK(find_ns(c, fresh[i]) && !jget(find_ns(c, fresh[i]), "path"));
	CHECK_STREQ(jstr(find_ns(c, "network"), "path"), "/run/netns/podfs-web");
	CHECK(json_array_size(jget(c, "linux.maskedPaths")) == 11);
	CHECK(json_array_size(jget(c, "linux.readonlyPaths")) == 5);
	/* mounts: /proc /dev /dev/pts /dev/shm (the pod's) /dev/mqueue /sys ro */
	CHECK(json_array_size(json_object_get(c, "mounts")) == 6);
	CHECK(find_mount(c, "/proc") && find_mount(c, "/dev/pts") && find_mount(c, "/dev/mqueue"));
	CHECK(jarr_has(jget(find_mount(c, "/sys"), "options"), "ro"));
	CHECK(find_mount(c, "/sys/fs/cgroup") == NULL);
	CHECK(count_mounts(c, "/dev/shm") == 1);
	CHECK_STREQ(jstr(find_mount(c, "/dev/shm"), "type"), "bind");
	CHECK_STREQ(jstr(find_mount(c, "/dev/shm"), "source"), "/pods/u/shm");
	json_decref(c);
}

TEST(infra_host_network_and_no_shm)
{
	struct oci_pod op = opod;
	op.netns_path = NULL;
	op.shm_path = NULL;
	op.cgroup_parent = "/podfs/p/";
	json_t *c = infra(&op);
	CHECK(find_ns(c, "network") == NULL);
	CHECK(json_array_size(jget(c, "linux.namespaces")) == 4);
	CHECK_STREQ(jstr(find_mount(c, "/dev/shm"), "type"), "tmpfs");
	CHECK_STREQ(jstr(c, "linux.cgroupsPath"), "/podfs/p/infra");
	json_decref(c);

	op.hostname = NULL;
	c = infra(&op);
	CHECK(jget(c, "hostname") == NULL);
	json_decref(c);
}

int main(void)
{
	rootfs_setup();
	RUN(args_neither_set);
	RUN(args_command_only_drops_cmd);
	RUN(args_args_only_keep_entrypoint);
	RUN(args_command_and_args);
	RUN(args_empty_entrypoint_is_unset);
	RUN(args_nothing_is_an_error);
	RUN(args_expanded_from_env);
	RUN(args_image_cmd_not_expanded);
	RUN(env_expansion_foobar);
	RUN(env_expansion_rules);
	RUN(env_order_and_override);
	RUN(env_default_path_and_hostname_override);
	RUN(env_bad_image_entries_skipped);
	RUN(env_field_refs);
	RUN(env_resource_cpu_rounds_up);
	RUN(env_resource_memory_divisor);
	RUN(env_resource_no_limit_is_node_allocatable);
	RUN(env_resource_other_container);
	RUN(env_hostname_truncated);
	RUN(user_by_name);
	RUN(user_uid_gid_forms);
	RUN(user_unknown_name);
	RUN(user_security_context_wins);
	RUN(user_run_as_non_root);
	RUN(user_symlinks_stay_in_rootfs);
	RUN(user_symlinks_without_openat2);
	RUN(caps_default_fourteen);
	RUN(caps_add_and_drop);
	RUN(caps_drop_all);
	RUN(caps_privileged);
	RUN(caps_unavailable_or_unknown);
	RUN(no_new_privileges);
	RUN(cgroup_cpu_limit_and_memory);
	RUN(cgroup_cpu_request_only);
	RUN(cgroup_none_and_minimums);
	RUN(cgroup_zero_limits_and_swap);
	RUN(oom_score_adj_in_process);
	RUN(mounts_subpath_sources);
	RUN(env_more_field_refs);
	RUN(rlimit_not_above_hard_limit);
	RUN(app_namespaces_by_path_no_hostname);
	RUN(app_shared_pid_and_host_network);
	RUN(cwd_choice);
	RUN(mounts_defaults_shm_and_etc_files);
	RUN(mounts_read_only_root);
	RUN(mounts_volumes);
	RUN(mounts_volume_over_dev_shm);
	RUN(non_utf8_paths_kept);
	RUN(config_error_paths_leave_outputs_null);
	RUN(infra_fields);
	RUN(infra_host_network_and_no_shm);
	rootfs_teardown();
	return th_report();
}
