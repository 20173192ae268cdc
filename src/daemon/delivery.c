#include "delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "daemon.h"
#include "maildir.h"
#include "wks_service.h"

#define DELIVERY_THREADS_MAX 64

struct delivery_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct delivery_job *queue, *queue_tail; /* waiting for a worker */
	struct delivery_job *done;               /* answered, for the loop */
	int stopping;
	int pipe[2];                             /* workers -> loop: "look at done" */
	struct event *ev;
	pthread_t threads[DELIVERY_THREADS_MAX];
	unsigned nthreads;
};

void delivery_job_free(struct delivery_job *job)
{
	if (job == NULL)
		return;
	for (size_t i = 0; i < job->npaths; i++)
		free(job->paths[i]);
	free(job->paths);
	buf_free(&job->data);
	free(job);
}

int delivery_maildir_of(const struct daemon *d, const struct wkd_address *a, char *path, size_t size)
{
	const struct conf_domain *dom = conf_find_domain(d->conf, a->domain);
	char local[WKD_LOCAL_MAX + 1];
	size_t i;
	if (dom == NULL)
		return -1;
	for (i = 0; a->local[i]; i++)
		local[i] = (char)((a->local[i] >= 'A' && a->local[i] <= 'Z') ? a->local[i] + 32 : a->local[i]);
	local[i] = 0;
	if (strchr(local, '/') != NULL || strcmp(local, ".") == 0 || strcmp(local, "..") == 0)
		return -1;
	int n = snprintf(path, size, "%s/%s", dom->maildir_root, local);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

enum smtp_rcpt_verdict delivery_rcpt_verdict(const struct daemon *d, const struct wkd_address *a)
{
	char addr[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	const struct conf_domain *dom = conf_find_domain(d->conf, a->domain);
	if (dom == NULL || !dom->mx)
		return SMTP_RCPT_RELAY_DENIED;
	if (wkd_address_format(a, addr, sizeof(addr)) < 0)
		return SMTP_RCPT_UNKNOWN;
	if (wks_is_submission(d, a))
		return SMTP_RCPT_OK;
	int r = store_user_exists(d->store, addr);
	if (r < 0)
		return SMTP_RCPT_TEMPFAIL;
	return r == 1 ? SMTP_RCPT_OK : SMTP_RCPT_UNKNOWN;
}

static enum smtp_deliver_result deliver_all(struct delivery_job *job)
{
	char name[MAILDIR_NAME_SIZE];
	for (size_t i = 0; i < job->npaths; i++) {
		if (maildir_deliver(job->paths[i], job->data.data, job->data.len, name, sizeof(name)) == 0)
			continue;
		int e = errno;
		daemon_log("smtp: delivery into %s failed: %s", job->paths[i], strerror(e));
		return (e == ENOSPC || e == EDQUOT || e == EFBIG) ? SMTP_DELIVER_NOSPACE
								  : SMTP_DELIVER_TEMPFAIL;
	}
	return SMTP_DELIVER_OK;
}

static struct delivery_job *next_job(struct delivery_pool *p)
{
	while (p->queue == NULL && !p->stopping)
		pthread_cond_wait(&p->wake, &p->lock);
	struct delivery_job *job = p->queue;
	if (job != NULL && (p->queue = job->next) == NULL)
		p->queue_tail = NULL;
	return job;
}

static void *worker(void *arg)
{
	struct delivery_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct delivery_job *job = next_job(p);
		if (job == NULL)
			break;
		pthread_mutex_unlock(&p->lock);
		job->result = deliver_all(job);
		pthread_mutex_lock(&p->lock);
		job->next = p->done;
		p->done = job;
		ssize_t w = write(p->pipe[1], "", 1); /* a full pipe already says it */
		(void)w;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* In the loop: answer every finished job. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct delivery_pool *p = arg;
	char drain[256];
	(void)what;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&p->lock);
	struct delivery_job *list = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->lock);
	while (list != NULL) {
		struct delivery_job *job = list;
		list = job->next;
		job->done(job);
	}
}

static int pool_pipe(struct daemon *d, struct delivery_pool *p)
{
	if (pipe(p->pipe) < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (fcntl(p->pipe[i], F_SETFD, FD_CLOEXEC) < 0 ||
		    fcntl(p->pipe[i], F_SETFL, O_NONBLOCK) < 0)
			return -1;
	p->ev = event_new(d->base, p->pipe[0], EV_READ | EV_PERSIST, on_done, p);
	return p->ev != NULL && event_add(p->ev, NULL) == 0 ? 0 : -1;
}

int delivery_start(struct daemon *d, unsigned threads)
{
	struct delivery_pool *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->pipe[0] = p->pipe[1] = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	d->delivery = p;
	if (pool_pipe(d, p) < 0)
		return -1;
	if (threads > DELIVERY_THREADS_MAX)
		threads = DELIVERY_THREADS_MAX;
	for (; p->nthreads < threads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0)
			return -1;
	return 0;
}

void delivery_stop(struct daemon *d)
{
	struct delivery_pool *p = d->delivery;
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* Jobs never answered: their sessions are closed without a 250. */
	for (struct delivery_job *lists[2] = {p->queue, p->done}, **l = lists; l < lists + 2; l++)
		while (*l != NULL) {
			struct delivery_job *job = *l;
			*l = job->next;
			job->result = SMTP_DELIVER_TEMPFAIL;
			job->done(job);
		}
	if (p->ev)
		event_free(p->ev);
	for (int i = 0; i < 2; i++)
		if (p->pipe[i] >= 0)
			close(p->pipe[i]);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
	d->delivery = NULL;
}

void delivery_submit(struct daemon *d, struct delivery_job *job)
{
	struct delivery_pool *p = d->delivery;
	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->queue_tail)
		p->queue_tail->next = job;
	else
		p->queue = job;
	p->queue_tail = job;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}
