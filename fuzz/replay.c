/* replay: runs a fuzz target over every file of the corpus directories (or
 * single files) given as arguments, without libFuzzer, so the corpus is a
 * regression test in every build, sanitized or not. Prints TAP: one
 * "ok N - path" per input, then the plan. A crash or failed check inside
 * the target aborts; the "# running" line names the input that did it. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_FILE_MAX (64u << 20)

struct replay {
	unsigned n;      /* test points printed */
	unsigned failed;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads path into an exactly-sized heap block, so that a sanitizer sees
 * any read past the end of the input. */
static uint8_t *read_exact(const char *path, size_t *ret_len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	uint8_t *p = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > REPLAY_FILE_MAX)
		goto done;
	size_t len = (size_t)st.st_size;
	p = malloc(len ? len : 1);
	size_t got = 0;
	while (p != NULL && got < len) {
		ssize_t k = read(fd, p + got, len - got);
		if (k <= 0) {
			free(p);
			p = NULL;
			break;
		}
		got += (size_t)k;
	}
	if (p != NULL)
		*ret_len = len;
done:
	close(fd);
	return p;
}

static void replay_file(struct replay *rp, const char *path)
{
	size_t len = 0;
	uint8_t *data = read_exact(path, &len);
	rp->n++;
	if (data == NULL) {
		rp->failed++;
		printf("not ok %u - %s # cannot read it\n", rp->n, path);
		return;
	}
	printf("# running %s\n", path);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	printf("ok %u - %s\n", rp->n, path);
	fflush(stdout);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Collects the names of dir's visible entries, sorted for a stable order.
 * Returns -1 if dir cannot be read or memory runs out. */
static int list_dir(const char *dir, char ***ret_names, size_t *ret_n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char **grown = realloc(names, (n + 1) * sizeof(*names));
		if (grown == NULL)
			goto fail;
		names = grown;
		if ((names[n] = strdup(e->d_name)) == NULL)
			goto fail;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	*ret_names = names;
	*ret_n = n;
	return 0;
fail:
	closedir(d);
	free_names(names, n);
	return -1;
}

static void replay_dir(struct replay *rp, const char *dir)
{
	char **names = NULL;
	size_t n = 0;
	char path[4096];
	if (list_dir(dir, &names, &n) < 0 || n == 0) {
		rp->failed++;
		printf("not ok %u - %s # no readable inputs in it\n", ++rp->n, dir);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (k < 0 || (size_t)k >= sizeof(path)) {
			rp->failed++;
			printf("not ok %u - %s # path too long\n", ++rp->n, names[i]);
			continue;
		}
		replay_file(rp, path);
	}
	free_names(names, n);
}

int main(int argc, char **argv)
{
	struct replay rp = {0, 0};
	struct stat st;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			replay_dir(&rp, argv[i]);
		else
			replay_file(&rp, argv[i]);
	}
	printf("1..%u\n", rp.n);
	return rp.failed ? 1 : 0;
}
