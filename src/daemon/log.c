#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

/* The daemon's log: a copy of the original stderr (see daemon_quiet_library),
 * with a buffer of its own: stdio then never calls fstat to size one (the
 * key holder's sandbox forbids it), and each line leaves in one write. */
static FILE *log_out;
static char log_buf[8192];

void daemon_log(const char *fmt, ...)
{
	FILE *f = log_out ? log_out : stderr;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(f); /* one whole line at a time: threads log too */
	fprintf(f, "%s sealmaild: ", stamp);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
	funlockfile(f);
}

const char *daemon_exit_text(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "by signal %d%s", WTERMSIG(status), WTERMSIG(status) == SIGSYS
			 ? " (a system call outside its sandbox)" : "");
	else
		snprintf(buf, size, "with exit status %d", WEXITSTATUS(status));
	return buf;
}

int daemon_log_fd(void)
{
	return fileno(log_out ? log_out : stderr);
}

/* Debian's librnp prints its internal diagnostics on fd 2 whatever it is
 * told (see pgp.h); keep them out of the log unless SEALMAIL_DEBUG is set. */
void daemon_quiet_library(void);
void daemon_quiet_library(void)
{
	if (getenv("SEALMAIL_DEBUG") != NULL)
		return;
	int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	FILE *f = saved >= 0 ? fdopen(saved, "w") : NULL;
	if (f != NULL && null >= 0 && setvbuf(f, log_buf, _IOFBF, sizeof(log_buf)) == 0 &&
	    dup2(null, STDERR_FILENO) >= 0)
		log_out = f;
	else if (f != NULL)
		fclose(f);
	else if (saved >= 0)
		close(saved);
	if (null >= 0)
		close(null);
}
