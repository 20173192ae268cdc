#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

/* "*" listens on every IPv6 and IPv4 address through one dual-stack
 * socket; an explicit [IPv6] address is IPv6 only. */
static int make_addr(const struct conf_listen *l, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (l->family == CONF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(l->port);
		*len = sizeof(*in);
		return inet_pton(AF_INET, l->address, &in->sin_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(l->port);
	*len = sizeof(*in6);
	if (l->family == CONF_ANY)
		return 0; /* in6addr_any: all zeros */
	return inet_pton(AF_INET6, l->address, &in6->sin6_addr) == 1 ? 0 : -1;
}

int daemon_listen(const struct conf_listen *l, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, v6only = l->family == CONF_INET6;
	if (make_addr(l, &ss, &len) < 0) {
		daemon_log("%s: bad address %s", what, l->address);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Linux hands TCP_NODELAY on to accepted sockets. Without it a reply
	 * written in two pieces (HTTP head and body, each a TLS record) waits
	 * for the peer's delayed ACK: 40 ms per request. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 511) < 0)
		goto fail;
	return fd;
fail:
	daemon_log("%s: cannot listen on %s port %u: %s", what, l->address, l->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}
