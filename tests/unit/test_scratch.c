/* test_scratch.c: unit tests for fs/scratch.c (editors' scratch files). */
#include "fs/scratch.h"
#include "tests/unit/testhelp.h"

#include <errno.h>
#include <stdlib.h>

static const struct scratch_limits LIM = {
    .files_per_dir = 4, .file_bytes = 100, .total_files = 6, .total_bytes = 250};

static size_t nnames(struct scratch *s, const char *dir)
{
	char **v = scratch_names(s, dir, NULL);
	size_t n = 0;
	while (v[n])
		n++;
	scratch_free_names(v);
	return n;
}

TEST(create_write_read)
{
	struct scratch *s = scratch_new(&LIM);
	struct scratch_file *f = NULL;
	CHECK(scratch_create(s, "web", ".spec.yaml.swp", 0600, 0, 0, &f) == 0);
	struct scratch_file *again = NULL;
	CHECK(scratch_create(s, "web", ".spec.yaml.swp", 0600, 0, 0, &again) == -EEXIST);
	CHECK(scratch_write(s, f, "hello", 5, 0) == 5);
	CHECK(scratch_write(s, f, "XY", 2, 8) == 2); /* a hole is zero-filled */
	char buf[32] = {0};
	CHECK(scratch_read(s, f, buf, sizeof(buf), 0) == 10);
	CHECK(!memcmp(buf, "hello\0\0\0XY", 10));
	CHECK(scratch_read(s, f, buf, sizeof(buf), 10) == 0);
	CHECK(scratch_append(s, f, "!", 1) == 1);
	struct stat st;
	scratch_stat(s, f, &st);
	CHECK(st.st_size == 11 && st.st_nlink == 1 && st.st_mode == (S_IFREG | 0600));
	CHECK(st.st_mtim.tv_sec > 0);
	CHECK(scratch_truncate(s, f, 2) == 0);
	size_t len;
	char *c = scratch_contents(s, f, &len);
	CHECK(len == 2 && !strcmp(c, "he"));
	free(c);
	scratch_put(s, f);
	scratch_free(s);
}

TEST(limits_give_enospc)
{
	struct scratch *s = scratch_new(&LIM);
	struct scratch_file *f;
	char big[101];
	memset(big, 'x', sizeof(big));
	CHECK(scratch_create(s, "a", "f0", 0644, 0, 0, &f) == 0);
	CHECK(scratch_write(s, f, big, 101, 0) == -ENOSPC); /* over the file limit */
	CHECK(scratch_write(s, f, big, 100, 0) == 100);
	CHECK(scratch_truncate(s, f, 101) == -ENOSPC);
	scratch_put(s, f);
	for (int i = 1; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "f%d", i);
		CHECK(scratch_create(s, "a", name, 0644, 0, 0, &f) == 0);
		scratch_put(s, f);
	}
	CHECK(scratch_create(s, "a", "f4", 0644, 0, 0, &f) == -ENOSPC); /* per directory */
	CHECK(scratch_create(s, "b", "g0", 0644, 0, 0, &f) == 0);
	CHECK(scratch_write(s, f, big, 100, 0) == 100);
	scratch_put(s, f);
	CHECK(scratch_create(s, "b", "g1", 0644, 0, 0, &f) == 0);
	CHECK(scratch_write(s, f, big, 51, 0) == -ENOSPC); /* 250 bytes in all */
	CHECK(scratch_write(s, f, big, 50, 0) == 50);
	scratch_put(s, f);
	CHECK(scratch_create(s, "c", "h0", 0644, 0, 0, &f) == -ENOSPC); /* 6 files in all */
	/* a store that does not fit leaves the old file alone */
	CHECK(scratch_store(s, "b", "g1", big, 60, 0644, 0, 0) == -ENOSPC);
	f = scratch_get(s, "b", "g1");
	CHECK(f != NULL);
	size_t files, bytes;
	scratch_usage(s, &files, &bytes);
	CHECK(files == 6 && bytes == 250);
	scratch_put(s, f);
	scratch_free(s);
}

TEST(unlink_keeps_open_file)
{
	struct scratch *s = scratch_new(&LIM);
	struct scratch_file *f;
	CHECK(scratch_create(s, "a", "x", 0644, 0, 0, &f) == 0);
	CHECK(scratch_write(s, f, "abc", 3, 0) == 3);
	uint64_t id = scratch_id(f);
	CHECK(scratch_unlink(s, "a", "x") == 0);
	CHECK(scratch_unlink(s, "a", "x") == -ENOENT);
	CHECK(scratch_get(s, "a", "x") == NULL);
	CHECK(nnames(s, "a") == 0);
	struct scratch_file *g = scratch_get_id(s, id);
	CHECK(g == f);
	scratch_put(s, g);
	struct stat st;
	scratch_stat(s, f, &st);
	CHECK(st.st_nlink == 0 && st.st_size == 3);
	scratch_put(s, f); /* the last reference frees it */
	CHECK(scratch_get_id(s, id) == NULL);
	size_t files, bytes;
	scratch_usage(s, &files, &bytes);
	CHECK(files == 0 && bytes == 0);
	scratch_free(s);
}

TEST(rename_replace_noreplace_exchange)
{
	struct scratch *s = scratch_new(&LIM);
	CHECK(scratch_store(s, "a", "one", "1", 1, 0644, 0, 0) == 0);
	CHECK(scratch_store(s, "a", "two", "22", 2, 0644, 0, 0) == 0);
	CHECK(scratch_rename(s, "a", "one", "two", true, false) == -EEXIST);
	CHECK(scratch_rename(s, "a", "one", "two", false, true) == 0);
	struct scratch_file *f = scratch_get(s, "a", "one");
	struct stat st;
	scratch_stat(s, f, &st);
	CHECK(st.st_size == 2);
	scratch_put(s, f);
	CHECK(scratch_rename(s, "a", "one", "two", false, false) == 0);
	CHECK(nnames(s, "a") == 1);
	f = scratch_get(s, "a", "two");
	scratch_stat(s, f, &st);
	CHECK(st.st_size == 2);
	scratch_put(s, f);
	CHECK(scratch_rename(s, "a", "nope", "x", false, false) == -ENOENT);
	CHECK(scratch_rename(s, "a", "two", "three", false, true) == -ENOENT);
	/* the same name in another directory is another file */
	CHECK(scratch_store(s, "b", "two", "b", 1, 0644, 0, 0) == 0);
	uint64_t *ids;
	char **v = scratch_names(s, "a", &ids);
	CHECK(v[0] && !strcmp(v[0], "two") && !v[1]);
	f = scratch_get_id(s, ids[0]);
	scratch_stat(s, f, &st);
	CHECK(st.st_size == 2);
	scratch_put(s, f);
	free(ids);
	scratch_free_names(v);
	size_t files, bytes;
	scratch_usage(s, &files, &bytes);
	CHECK(files == 2 && bytes == 3);
	scratch_free(s);
}

TEST(drop_dir_and_times)
{
	struct scratch *s = scratch_new(&LIM);
	struct timespec ts;
	CHECK(!scratch_dir_mtime(s, "a", &ts));
	CHECK(scratch_store(s, "a", "x", "1", 1, 0644, 0, 0) == 0);
	CHECK(scratch_store(s, "a", "y", "1", 1, 0644, 0, 0) == 0);
	CHECK(scratch_dir_mtime(s, "a", &ts) && ts.tv_sec > 0);
	struct scratch_file *held = scratch_get(s, "a", "y");
	scratch_drop_dir(s, "a");
	CHECK(nnames(s, "a") == 0);
	CHECK(!scratch_dir_mtime(s, "a", &ts));
	struct stat st;
	scratch_stat(s, held, &st);
	CHECK(st.st_nlink == 0);
	struct stat want = {.st_mode = 0600, .st_uid = 1000, .st_gid = 1000};
	scratch_setattr(s, held, &want, SCRATCH_SET_MODE | SCRATCH_SET_UID | SCRATCH_SET_GID);
	scratch_stat(s, held, &st);
	CHECK(st.st_mode == (S_IFREG | 0600) && st.st_uid == 1000 && st.st_gid == 1000);
	scratch_put(s, held);
	size_t files, bytes;
	scratch_usage(s, &files, &bytes);
	CHECK(files == 0 && bytes == 0);
	scratch_free(s);
}

int main(void)
{
	RUN(create_write_read);
	RUN(limits_give_enospc);
	RUN(unlink_keeps_open_file);
	RUN(rename_replace_noreplace_exchange);
	RUN(drop_dir_and_times);
	return th_report();
}
