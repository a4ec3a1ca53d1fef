/* test_evict.c: unit tests for backend/evict.c: the kubelet's three local
 * storage eviction checks, their order and messages, and the disk usage
 * walk (blocks as du counts them, symlinks never followed). */
#include "backend/evict.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MI (1024LL * 1024)

/* decide on YAML's spec section with volume and container usages */
static char *decide(const char *spec, const int64_t *vol, const int64_t *ctr)
{
	char *y = xasprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n%s", spec);
	struct spec_pod *pod = th_parse_pod(y);
	free(y);
	if (!pod)
		return xstrdup("(parse error)");
	struct evict_usage u = {vol, ctr};
	char *m = evict_decide(pod, &u);
	spec_pod_free(pod);
	return m ? m : xstrdup("(stays)");
}

#define CHECK_DECIDE(spec, vol, ctr, want)                                                         \
	do {                                                                                       \
		char *m_ = decide(spec, vol, ctr);                                                 \
		CHECK_STREQ(m_, want);                                                             \
		free(m_);                                                                          \
	} while (0)

static const char *const VOLS = "  volumes:\n"
				"  - {name: cache, emptyDir: {sizeLimit: 1Mi}}\n"
				"  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}\n"
				"  - {name: free, emptyDir: {}}\n"
				"  containers:\n"
				"  - {name: app, image: busybox}\n";

TEST(emptydir_size_limit)
{
	int64_t ctr[] = {10 * MI};
	int64_t under[] = {MI, -1, 50 * MI};
	CHECK_DECIDE(VOLS, under, ctr, "(stays)"); /* exactly at the limit stays */
	int64_t over[] = {MI + 4096, -1, 0};
	CHECK_DECIDE(VOLS, over, ctr,
		     "Usage of EmptyDir volume \"cache\" exceeds the limit \"1Mi\". ");
	/* a Memory emptyDir is a sized tmpfs: never measured, never evicted */
	int64_t mem[] = {0, 50 * MI, 0};
	CHECK_DECIDE(VOLS, mem, ctr, "(stays)");
	/* a decimal limit is rendered as written */
	int64_t big[] = {3000000};
	CHECK_DECIDE("  volumes:\n  - {name: d, emptyDir: {sizeLimit: 2M}}\n"
		     "  containers:\n  - {name: app, image: busybox}\n",
		     big, ctr, "Usage of EmptyDir volume \"d\" exceeds the limit \"2M\". ");
}

static const char *const TWO = "  volumes:\n"
			       "  - {name: scratch, emptyDir: {}}\n"
			       "  containers:\n"
			       "  - name: a\n"
			       "    image: busybox\n"
			       "    resources: {limits: {ephemeral-storage: 4Mi}}\n"
			       "  - name: b\n"
			       "    image: busybox\n"
			       "    resources: {limits: {ephemeral-storage: 2Mi}}\n";

TEST(pod_total_limit)
{
	/* 6Mi in all: containers' layers and logs plus the emptyDir */
	int64_t vol_ok[] = {MI}, ctr_ok[] = {3 * MI, 2 * MI};
	CHECK_DECIDE(TWO, vol_ok, ctr_ok, "(stays)");
	int64_t vol_over[] = {2 * MI}, ctr_each_ok[] = {3 * MI, 2 * MI};
	CHECK_DECIDE(
	    TWO, vol_over, ctr_each_ok,
	    "Pod ephemeral local storage usage exceeds the total limit of containers 6Mi. ");
	/* the pod check comes before the container check */
	int64_t vol0[] = {0}, ctr_both[] = {5 * MI, 2 * MI};
	CHECK_DECIDE(
	    TWO, vol0, ctr_both,
	    "Pod ephemeral local storage usage exceeds the total limit of containers 6Mi. ");
}

TEST(container_limit)
{
	int64_t vol0[] = {0}, ctr[] = {MI, 2 * MI + 1};
	CHECK_DECIDE(TWO, vol0, ctr,
		     "Container b exceeded its local ephemeral storage limit \"2Mi\". ");
	/* a container not running (-1) is not counted */
	int64_t ctr_gone[] = {-1, MI};
	CHECK_DECIDE(TWO, vol0, ctr_gone, "(stays)");
	/* without any limit nothing is evicted, whatever is used */
	int64_t huge[] = {1LL << 40};
	CHECK_DECIDE("  containers:\n  - {name: app, image: busybox}\n", huge, huge, "(stays)");
}

TEST(init_containers_count_as_kubernetes_sums)
{
	/* an init container's limit larger than the apps' sum is the pod's */
	const char *spec = "  initContainers:\n"
			   "  - name: setup\n"
			   "    image: busybox\n"
			   "    resources: {limits: {ephemeral-storage: 8Mi}}\n"
			   "  containers:\n"
			   "  - name: app\n"
			   "    image: busybox\n"
			   "    resources: {limits: {ephemeral-storage: 1Mi}}\n";
	int64_t ctr_ok[] = {-1, MI}, ctr_over[] = {-1, 2 * MI};
	CHECK_DECIDE(spec, NULL, ctr_ok, "(stays)");
	CHECK_DECIDE(spec, NULL, ctr_over,
		     "Container app exceeded its local ephemeral storage limit \"1Mi\". ");
}

static void write_bytes(const char *path, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char buf[4096];
	memset(buf, 'x', sizeof(buf));
	while (fd >= 0 && n > 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		if (write(fd, buf, k) != (ssize_t)k)
			break;
		n -= k;
	}
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int64_t blocks_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? (int64_t)st.st_blocks * 512 : -1;
}

TEST(du_counts_blocks_and_never_follows_symlinks)
{
	char tmpl[] = "/tmp/podfs-evict.XXXXXX";
	char *dir = mkdtemp(tmpl);
	CHECK(dir != NULL);
	if (!dir)
		return;
	char *a = xasprintf("%s/a", dir), *sub = xasprintf("%s/sub", dir),
	     *b = xasprintf("%s/sub/b", dir), *link = xasprintf("%s/sub/root", dir),
	     *holes = xasprintf("%s/holes", dir);
	write_bytes(a, 100000);
	mkdir(sub, 0755);
	write_bytes(b, 3 * MI);
	CHECK(symlink("/", link) == 0);			/* following it would count the host */
	int fd = open(holes, O_WRONLY | O_CREAT, 0644); /* sparse: 1 GiB, no blocks */
	CHECK(fd >= 0 && ftruncate(fd, 1LL << 30) == 0);
	close(fd);
	int64_t want = blocks_of(dir) + blocks_of(a) + blocks_of(sub) + blocks_of(b) +
		       blocks_of(link) + blocks_of(holes);
	int64_t got = evict_du(dir);
	CHECK(got == want);
	CHECK(got >= 3 * MI + 100000 && got < 4 * MI);
	CHECK(evict_du(b) == blocks_of(b));
	CHECK(evict_du(link) == blocks_of(link)); /* the link itself only */
	char *missing = xasprintf("%s/none", dir);
	CHECK(evict_du(missing) == 0);
	unlink(a);
	unlink(b);
	unlink(link);
	unlink(holes);
	rmdir(sub);
	rmdir(dir);
	free(a);
	free(sub);
	free(b);
	free(link);
	free(holes);
	free(missing);
}

int main(void)
{
	RUN(emptydir_size_limit);
	RUN(pod_total_limit);
	RUN(container_limit);
	RUN(init_containers_count_as_kubernetes_sums);
	RUN(du_counts_blocks_and_never_follows_symlinks);
	return th_report();
}
