/* test_nodes.c: unit tests for fs/nodes.c (the mount's node table). */
#include "fs/nodes.h"
#include "tests/unit/testhelp.h"

#include <stdio.h>

TEST(paths_keep_their_numbers)
{
	struct node *root = nodes_get(N_ROOT, NULL, NULL, 0);
	CHECK(root->ino == 1); /* made first: FUSE_ROOT_ID */
	struct node *pods = nodes_get(N_PODS, NULL, NULL, 0);
	struct node *web = nodes_get(N_POD, "web", NULL, 0);
	struct node *spec = nodes_get(N_POD_FILE, "web", NULL, BF_SPEC);
	struct node *status = nodes_get(N_POD_FILE, "web", NULL, BF_STATUS);
	struct node *clog = nodes_get(N_CFILE, "web", "app", BF_LOGS);
	CHECK(pods->ino >= 2); /* 1 is the root */
	CHECK(web->ino != pods->ino && spec->ino != web->ino && status->ino != spec->ino);
	CHECK(clog->ino != spec->ino && clog->kind == N_CFILE);
	CHECK_STREQ(clog->pod, "web");
	CHECK_STREQ(clog->container, "app");
	/* the same path is the same node, whenever asked */
	CHECK(nodes_get(N_POD_FILE, "web", NULL, BF_SPEC) == spec);
	CHECK(nodes_get(N_POD, "web", NULL, 0) == web);
	CHECK(nodes_by_ino(spec->ino) == spec);
	CHECK(nodes_by_ino(0) == NULL);
	CHECK(nodes_by_ino(1u << 30) == NULL);
	/* a pod's file and a container's of the same name are different nodes */
	CHECK(nodes_get(N_CFILE, "web", "app", BF_STATUS) != status);
	/* forgetting a tree node frees nothing: the kernel may hold it */
	nodes_forget(spec->ino, 5);
	CHECK(nodes_by_ino(spec->ino) == spec);
}

TEST(scratch_nodes_are_counted_and_reused)
{
	CHECK(nodes_scratch_ino("web", 7) == NODES_INO_UNKNOWN);
	struct node *s = nodes_scratch("web", 7, true);
	uint64_t ino = s->ino, gen = s->gen;
	CHECK(s->kind == N_SCRATCH && s->sid == 7 && s->nlookup == 1);
	CHECK(nodes_scratch_ino("web", 7) == ino);
	CHECK(nodes_scratch("web", 7, true) == s && s->nlookup == 2);
	CHECK(nodes_scratch("web", 7, false) == s && s->nlookup == 2);
	/* the same id in another pod is another file */
	struct node *other = nodes_scratch("db", 7, true);
	CHECK(other != s && other->ino != ino);
	nodes_forget(ino, 1);
	CHECK(nodes_by_ino(ino) == s); /* one lookup still known */
	nodes_forget(ino, 1);
	CHECK(nodes_by_ino(ino) == NULL);
	CHECK(nodes_scratch_ino("web", 7) == NODES_INO_UNKNOWN);
	/* the freed number comes back with a new generation */
	struct node *n = nodes_scratch("web", 8, true);
	CHECK(n->ino == ino);
	CHECK(n->gen == gen + 1);
	/* forgetting more than was looked up frees it, never underflows */
	nodes_forget(n->ino, 100);
	CHECK(nodes_by_ino(ino) == NULL);
	nodes_forget(other->ino, 1);
}

TEST(many_nodes)
{
	/* past the initial array and hash sizes: every node found again */
	nodes_free_all();
	CHECK(nodes_get(N_ROOT, NULL, NULL, 0)->ino == 1);
	char pod[32];
	uint64_t first = 0, last = 0;
	for (int i = 0; i < 5000; i++) {
		snprintf(pod, sizeof(pod), "p%d", i);
		struct node *n = nodes_get(N_POD, pod, NULL, 0);
		if (i == 0)
			first = n->ino;
		last = n->ino;
	}
	CHECK(last - first == 4999);
	int bad = 0;
	for (int i = 0; i < 5000; i++) {
		snprintf(pod, sizeof(pod), "p%d", i);
		struct node *n = nodes_get(N_POD, pod, NULL, 0);
		if (n->ino != first + (uint64_t)i || nodes_by_ino(n->ino) != n)
			bad++;
	}
	CHECK(bad == 0);
}

int main(void)
{
	RUN(paths_keep_their_numbers);
	RUN(scratch_nodes_are_counted_and_reused);
	RUN(many_nodes);
	nodes_free_all();
	return th_report();
}
