/*-------------------------------------------------------------------------
 *
 * receiver.c
 *		UDP sockets and the receive loop.
 *
 * One thread serves every socket (IPv4 and IPv6, any number of addresses
 * and ports): poll(), then recvmmsg() up to RECV_BATCH datagrams per call,
 * copy each into the packet ring and go back to the kernel.  It never
 * waits for anything downstream: when the ring is full the datagram is
 * dropped and counted.  The kernel's own drops (socket buffer overflow)
 * are read from SO_RXQ_OVFL and counted too, so "drops" in the statistics
 * is every datagram that reached the host and was not decoded.
 *
 * The receive buffer is set with SO_RCVBUFFORCE when the process may
 * (CAP_NET_ADMIN), else SO_RCVBUF, which the kernel caps at
 * net.core.rmem_max; the size obtained is logged.
 *
 * Each listener has its exporter allow-list (allow.c): a datagram from a
 * source outside it is counted (in total and per address) and dropped
 * here, before it takes queue space or reaches a decoder, so a flood of
 * spoofed datagrams costs neither memory nor rows.  SIGHUP may change the
 * lists: the main thread builds the new ones and the receiver swaps them
 * in between two batches (receiver_allow_install), so it never locks for
 * them on the way.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE				/* recvmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "allow.h"
#include "daemon.h"
#include "log.h"

#define RECV_BATCH		64
#define MAX_DATAGRAM	65536
#define MAX_LISTENERS	64

/* Split "[v6]:port", "addr:port", "*:port" or "port" into host and port. */
static int
split_address(const char *spec, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;

	if (spec[0] == '[')
	{
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		snprintf(host, hlen, "%.*s", (int) (close - spec - 1), spec + 1);
		snprintf(port, plen, "%s", close + 2);
		return 0;
	}
	colon = strrchr(spec, ':');
	if (colon == NULL)
	{
		snprintf(host, hlen, "127.0.0.1");
		snprintf(port, plen, "%s", spec);
		return 0;
	}
	if (strchr(spec, ':') != colon)
		return -1;				/* bare IPv6 address: needs brackets */
	snprintf(host, hlen, "%.*s", (int) (colon - spec), spec);
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

static void
set_rcvbuf(int fd, int64_t want, const char *name)
{
	int			size = (int) want,
				got = 0;
	socklen_t	len = sizeof(got);

	if (want <= 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
	/* Linux reports twice the size asked for (bookkeeping overhead). */
	if (got / 2 < size)
		log_warning("%s: receive buffer is %d bytes, not the %d asked for "
					"(raise net.core.rmem_max or run with CAP_NET_ADMIN)",
					name, got / 2, size);
	else
		log_info("%s: receive buffer %d bytes", name, got / 2);
}

static int
open_one(Daemon *d, const struct addrinfo *ai, const char *spec, int64_t rcvbuf)
{
	Listener   *l = &d->listeners[d->n_listeners];
	int			one = 1;
	int			fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
	{
		log_error("%s: socket: %s", spec, strerror(errno));
		return -1;
	}
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
	{
		log_error("%s: cannot bind: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->last_overflow = 0;
	snprintf(l->name, sizeof(l->name), "udp %s%s", spec,
			 ai->ai_family == AF_INET6 ? " (IPv6)" : "");
	snprintf(l->spec, sizeof(l->spec), "%s", spec);
	l->port = ntohs(ai->ai_family == AF_INET6 ?
					((const struct sockaddr_in6 *) ai->ai_addr)->sin6_port :
					((const struct sockaddr_in *) ai->ai_addr)->sin_port);
	memset(&l->allow, 0, sizeof(l->allow));
	set_rcvbuf(fd, rcvbuf, l->name);
	d->n_listeners++;
	return 0;
}

/* Bind one address spec; "*" binds both 0.0.0.0 and [::]. */
static int
open_spec(Daemon *d, const char *spec, int64_t rcvbuf)
{
	char		host[256],
				port[32];
	struct addrinfo hints = {0},
			   *res,
			   *ai;
	int			rc,
				opened = 0;

	if (split_address(spec, host, sizeof(host), port, sizeof(port)) < 0)
	{
		log_error("listen: cannot parse \"%s\" (use ADDR:PORT, [ADDR6]:PORT or *:PORT)", spec);
		return -1;
	}
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(strcmp(host, "*") == 0 || host[0] == '\0' ? NULL : host, port, &hints, &res);
	if (rc != 0)
	{
		log_error("listen: %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
	{
		if (d->n_listeners == MAX_LISTENERS)
			break;
		if (open_one(d, ai, spec, rcvbuf) < 0)
		{
			freeaddrinfo(res);
			return -1;
		}
		opened++;
		if (strcmp(host, "*") != 0 && host[0] != '\0')
			break;				/* a named host: its first address only */
	}
	freeaddrinfo(res);
	return opened > 0 ? 0 : -1;
}

/* Open every socket of the listen setting; -1 if any fails. */
int
receiver_open(Daemon *d, const char *listen, int64_t rcvbuf)
{
	char	   *copy = strdup(listen),
			   *save = NULL;

	d->listeners = calloc(MAX_LISTENERS, sizeof(Listener));
	d->n_listeners = 0;
	for (char *tok = strtok_r(copy, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save))
		if (open_spec(d, tok, rcvbuf) < 0)
		{
			free(copy);
			return -1;
		}
	free(copy);
	if (d->n_listeners == 0)
	{
		log_error("listen: no address given");
		return -1;
	}
	return 0;
}

/*
 * The allow-list of every listener from the allow_exporters text: a
 * malloc'ed array of d->n_listeners lists.  An entry limited to a listener
 * must name one ("@*:2055" as written in listen, or "@2055"), so that a
 * typo does not silently leave a listener open.  0, or -1 with a message.
 */
int
receiver_allow_build(Daemon *d, const char *text, AllowList **out, char *err, size_t errlen)
{
	AllowEntry *e;
	AllowList  *lists;
	int			n;

	*out = NULL;
	if (allow_parse(text, &e, &n, err, errlen) < 0)
		return -1;
	for (int i = 0; i < n; i++)
	{
		bool		found = e[i].listener[0] == '\0';

		for (int k = 0; k < d->n_listeners && !found; k++)
			found = allow_entry_for(&e[i], d->listeners[k].spec, d->listeners[k].port);
		if (!found)
		{
			snprintf(err, errlen, "allow_exporters: \"@%s\" names no listen address "
					 "(write it as in listen, or give the port)", e[i].listener);
			free(e);
			return -1;
		}
	}
	lists = calloc(d->n_listeners, sizeof(AllowList));
	for (int k = 0; lists && k < d->n_listeners; k++)
	{
		lists[k].prefixes = malloc((n ? n : 1) * sizeof(AllowPrefix));
		for (int i = 0; lists[k].prefixes && i < n; i++)
			if (allow_entry_for(&e[i], d->listeners[k].spec, d->listeners[k].port))
				lists[k].prefixes[lists[k].n++] = e[i].prefix;
		if (lists[k].prefixes == NULL)
		{
			receiver_allow_free(d, lists);
			lists = NULL;
		}
	}
	free(e);
	if (lists == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	*out = lists;
	return 0;
}

void
receiver_allow_free(Daemon *d, AllowList *lists)
{
	if (lists == NULL)
		return;
	for (int k = 0; k < d->n_listeners; k++)
		allow_list_free(&lists[k]);
	free(lists);
}

/* Say what each listener accepts. */
static void
log_allow(Daemon *d)
{
	for (int k = 0; k < d->n_listeners; k++)
	{
		Listener   *l = &d->listeners[k];
		char		buf[1024] = "",
					one[64];
		size_t		len = 0;

		if (l->allow.n == 0)
		{
			log_info("%s: accepting datagrams from any source (allow_exporters is not set for it)",
					 l->name);
			continue;
		}
		for (int i = 0; i < l->allow.n && len < sizeof(buf) - 1; i++)
		{
			allow_format(&l->allow.prefixes[i], one, sizeof(one));
			len += snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "", one);
		}
		log_info("%s: accepting datagrams from %s only", l->name, buf);
	}
}

/*
 * Put new lists in force: directly before the receiver runs, else handed
 * to it (it swaps them in at its next turn and frees the old ones).
 */
void
receiver_allow_install(Daemon *d, AllowList *lists, bool running)
{
	if (!running)
	{
		for (int k = 0; k < d->n_listeners; k++)
			d->listeners[k].allow = lists[k];
		free(lists);
		log_allow(d);
		return;
	}
	pthread_mutex_lock(&d->allow_lock);
	receiver_allow_free(d, d->allow_pending);
	d->allow_pending = lists;
	atomic_fetch_add(&d->allow_generation, 1);
	pthread_mutex_unlock(&d->allow_lock);
}

/* In the receiver: take lists the main thread installed since last time. */
static void
take_allow(Daemon *d, unsigned *generation)
{
	AllowList  *lists;

	if (atomic_load(&d->allow_generation) == *generation)
		return;
	pthread_mutex_lock(&d->allow_lock);
	lists = d->allow_pending;
	d->allow_pending = NULL;
	*generation = atomic_load(&d->allow_generation);
	pthread_mutex_unlock(&d->allow_lock);
	if (lists == NULL)
		return;
	for (int k = 0; k < d->n_listeners; k++)
	{
		AllowList	old = d->listeners[k].allow;

		d->listeners[k].allow = lists[k];
		lists[k] = old;
	}
	receiver_allow_free(d, lists);
	log_allow(d);
}

static void
sockaddr_to_nfaddr(const struct sockaddr_storage *ss, NfAddr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET)
	{
		a->family = 4;
		memcpy(a->addr, &((const struct sockaddr_in *) ss)->sin_addr, 4);
	}
	else if (ss->ss_family == AF_INET6)
	{
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *) ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(in6))
		{
			a->family = 4;
			memcpy(a->addr, in6->s6_addr + 12, 4);
		}
		else
		{
			a->family = 6;
			memcpy(a->addr, in6->s6_addr, 16);
		}
	}
}

typedef struct RecvBufs
{
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct sockaddr_storage from[RECV_BATCH];
	char		cmsg[RECV_BATCH][CMSG_SPACE(sizeof(uint32_t))];
	uint8_t    *data;
} RecvBufs;

static void
prepare(RecvBufs *rb)
{
	for (int i = 0; i < RECV_BATCH; i++)
	{
		rb->iov[i].iov_base = rb->data + (size_t) i * MAX_DATAGRAM;
		rb->iov[i].iov_len = MAX_DATAGRAM;
		memset(&rb->msgs[i].msg_hdr, 0, sizeof(struct msghdr));
		rb->msgs[i].msg_hdr.msg_iov = &rb->iov[i];
		rb->msgs[i].msg_hdr.msg_iovlen = 1;
		rb->msgs[i].msg_hdr.msg_name = &rb->from[i];
		rb->msgs[i].msg_hdr.msg_namelen = sizeof(rb->from[i]);
		rb->msgs[i].msg_hdr.msg_control = rb->cmsg[i];
		rb->msgs[i].msg_hdr.msg_controllen = sizeof(rb->cmsg[i]);
	}
}

/* Count the kernel's drops: SO_RXQ_OVFL gives the socket's running total. */
static void
note_overflow(Daemon *d, Listener *l, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
		{
			uint32_t	total;

			memcpy(&total, CMSG_DATA(c), sizeof(total));
			if (total != l->last_overflow)
			{
				atomic_fetch_add(&d->stats.rx_socket_drops, (uint32_t) (total - l->last_overflow));
				l->last_overflow = total;
			}
		}
}

/* Drain one ready socket; returns datagrams received. */
static int
drain_socket(Daemon *d, Listener *l, RecvBufs *rb)
{
	int			n,
				kept = 0,
				pushed;
	uint64_t	bytes = 0;
	uint8_t    *data[RECV_BATCH];
	uint32_t	len[RECV_BATCH];
	NfAddr		from[RECV_BATCH];

	prepare(rb);
	n = recvmmsg(l->fd, rb->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
	{
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			log_warning("%s: recvmmsg: %s", l->name, strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++)
	{
		note_overflow(d, l, &rb->msgs[i].msg_hdr);
		sockaddr_to_nfaddr(&rb->from[i], &from[kept]);
		bytes += rb->msgs[i].msg_len;
		if (!allow_match(&l->allow, &from[kept]))
		{
			sources_add(&d->sources, &from[kept], SRC_DENIED, 1);
			atomic_fetch_add(&d->stats.denied, 1);
			continue;
		}
		data[kept] = rb->iov[i].iov_base;
		len[kept] = rb->msgs[i].msg_len;
		kept++;
	}
	pushed = kept ? packet_ring_push_many(&d->ring, kept, data, len, from, now_ms()) : 0;
	atomic_fetch_add(&d->stats.rx_packets, n);
	atomic_fetch_add(&d->stats.rx_bytes, bytes);
	if (pushed < kept)
	{
		atomic_fetch_add(&d->stats.rx_queue_drops, kept - pushed);
		for (int i = pushed; i < kept; i++)
			sources_add(&d->sources, &from[i], SRC_QUEUE_DROPS, 1);
	}
	return n;
}

void *
receiver_main(void *arg)
{
	Daemon	   *d = arg;
	struct pollfd pfd[MAX_LISTENERS];
	RecvBufs   *rb = calloc(1, sizeof(RecvBufs));
	unsigned	allow_generation = atomic_load(&d->allow_generation);

	rb->data = malloc((size_t) RECV_BATCH * MAX_DATAGRAM);
	for (int i = 0; i < d->n_listeners; i++)
	{
		pfd[i].fd = d->listeners[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!atomic_load(&d->stop_receiving))
	{
		int			ready = poll(pfd, d->n_listeners, 200);

		take_allow(d, &allow_generation);
		if (ready <= 0)
			continue;
		for (int i = 0; i < d->n_listeners; i++)
			if (pfd[i].revents & POLLIN)
				while (drain_socket(d, &d->listeners[i], rb) == RECV_BATCH)
					;
	}
	/* Take what the kernel already holds (bounded: senders may go on). */
	for (int i = 0; i < d->n_listeners; i++)
		for (int rounds = 0; rounds < 1000; rounds++)
			if (drain_socket(d, &d->listeners[i], rb) == 0)
				break;
	packet_ring_close(&d->ring);
	free(rb->data);
	free(rb);
	return NULL;
}
