/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	pollwait - let libmilter's workers wait for the MTA's next command
 * SYNOPSIS
 *	int poll(struct pollfd *fds, nfds_t nfds, int timeout)
 * DESCRIPTION
 *	Debian's libmilter is built with its pool of workers
 *	(_FFR_WORKERS_POOL). A worker that has handled an MTA command polls
 *	the connection for the next one for 1 ms only; when none has come,
 *	it hands the connection back to the controller thread (a pipe write
 *	wakes the controller, which polls all idle connections again, and
 *	later wakes a worker through a condition variable, or starts a new
 *	one). Postfix talks to a milter at every SMTP stage of a session
 *	(connect, HELO, MAIL, RCPT, DATA, the message, QUIT), each an SMTP
 *	round trip of the client after the last: under load nearly every
 *	stage missed the 1 ms and paid the hand-over, which was most of
 *	bav-milter's CPU time (t/bench/milter: 555 us per message; bav-milter's
 *	own code is about 1 % of it).
 *
 *	bav-milter therefore provides poll() itself, as it provides sigwait()
 *	(main.c): that one call, made from libmilter's code with one
 *	descriptor, POLLIN and a 1 ms timeout, waits WORKER_WAIT_MS instead.
 *	The wait ends as soon as the command arrives, so it adds no latency;
 *	it only keeps the worker thread with its connection for that long
 *	(libmilter built without the pool keeps one thread per connection
 *	for the whole session). Every other poll() call goes to the C
 *	library unchanged.
 *
 *	Process state of bav-milter, set once (pthread_once) on the first
 *	call: the real poll() and the address range of libmilter's code.
 * DIAGNOSTICS
 *	Those of poll(2). Should the C library's poll() not be found, ppoll()
 *	does the work.
 * SEE ALSO
 *	libmilter worker.c (mi_pool_controller) and engine.c
 *	(mi_rd_socket_ready), poll(2), dl_iterate_phdr(3)
 */
#include "bav_milter.h"

#include <dlfcn.h>
#include <link.h>
#include <libmilter/mfapi.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* long enough for the next SMTP command of most clients, so that the
   worker stays with its connection through the SMTP dialogue */
#define WORKER_WAIT_MS 50

typedef int poll_fn(struct pollfd *, nfds_t, int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static poll_fn *real_poll;
static uintptr_t milter_lo, milter_hi;	/* libmilter's code, or 0, 0 */

/* dl_iterate_phdr callback: the executable segment holding smfi_main */
static int find_milter(struct dl_phdr_info *info, size_t size, void *data)
{
	const uintptr_t target = (uintptr_t)data;
	unsigned int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) != 0 &&
		    target >= lo && target < lo + ph->p_memsz) {
			milter_lo = lo;
			milter_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

static void resolve(void)
{
	Dl_info lib, self;

	real_poll = (poll_fn *)dlsym(RTLD_NEXT, "poll");
	/* libmilter linked into the executable: leave it alone */
	if (dladdr((const void *)smfi_main, &lib) != 0 &&
	    dladdr((const void *)resolve, &self) != 0 &&
	    lib.dli_fbase != self.dli_fbase)
		(void)dl_iterate_phdr(find_milter, (void *)(uintptr_t)smfi_main);
}

__attribute__((visibility("default")))
int poll(struct pollfd *fds, nfds_t nfds, int timeout);
int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	pthread_once(&once, resolve);
	if (timeout == 1 && nfds == 1 && fds[0].events == POLLIN) {
		uintptr_t caller = (uintptr_t)__builtin_return_address(0);

		if (caller >= milter_lo && caller < milter_hi)
			timeout = WORKER_WAIT_MS;
	}
	if (real_poll == NULL) {
		struct timespec ts = { timeout / 1000,
				       (long)(timeout % 1000) * 1000000L };

		return ppoll(fds, nfds, timeout < 0 ? NULL : &ts, NULL);
	}
	return real_poll(fds, nfds, timeout);
}
