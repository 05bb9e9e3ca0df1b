/*
 * client-update.c: replacing the client's own program with the one a
 * bdfarm server offers. The client knows its own digest and ELF
 * identification, accepts only an ELF executable of its own class, byte
 * order and architecture, and re-executes it with its original arguments.
 */
#include "bdfarm.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "digest.h"
#include "log.h"
#include "xmalloc.h"

#define CLIENT_UPDATE_SELF	"/proc/self/exe"
#define CLIENT_UPDATE_E_TYPE	16	/* offsets in both ELF classes */
#define CLIENT_UPDATE_E_MACHINE	18

/*
 * Read the client's own program: its digest, which the server's is
 * compared with, and its ELF identification. Done once at start, before
 * the event loop runs. Returns -1 if the program cannot be read.
 */
int
client_update_self(struct client *c)
{
	struct digest	*d;
	unsigned char	 buf[65536];
	ssize_t		 n;
	size_t		 have = 0;
	int		 fd;

	if ((fd = open(CLIENT_UPDATE_SELF, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	d = digest_new();
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			digest_free(d);
			close(fd);
			return -1;
		}
		if (have < sizeof c->self_elf) {
			size_t	take = sizeof c->self_elf - have;

			if (take > (size_t)n)
				take = (size_t)n;
			memcpy(c->self_elf + have, buf, take);
			have += take;
		}
		digest_update(d, buf, (size_t)n);
	}
	close(fd);
	digest_final(d, c->self_digest);
	digest_free(d);
	if (have < sizeof c->self_elf ||
	    memcmp(c->self_elf, ELFMAG, SELFMAG) != 0)
		return -1;
	c->have_self = 1;
	return 0;
}

/* A 16-bit ELF header field in the file's own byte order. */
static unsigned int
client_update_half(const unsigned char *head, size_t off)
{
	if (head[EI_DATA] == ELFDATA2MSB)
		return (unsigned int)head[off] << 8 | head[off + 1];
	return (unsigned int)head[off + 1] << 8 | head[off];
}

/*
 * Whether the first bytes of a file the server sent make an executable
 * this machine can run: ELF, same class, byte order and machine as the
 * running program, and an executable (not an object or core) file.
 */
int
client_update_check(const struct client *c, const unsigned char *head,
    size_t len, char **cause)
{
	unsigned int	type;

	if (!c->have_self) {
		*cause = xstrdup(_("this program's own file cannot be read"));
		return -1;
	}
	if (len < sizeof c->self_elf || memcmp(head, ELFMAG, SELFMAG) != 0) {
		*cause = xstrdup(_("it is not an ELF program"));
		return -1;
	}
	if (head[EI_CLASS] != c->self_elf[EI_CLASS] ||
	    head[EI_DATA] != c->self_elf[EI_DATA] ||
	    client_update_half(head, CLIENT_UPDATE_E_MACHINE) !=
	    client_update_half(c->self_elf, CLIENT_UPDATE_E_MACHINE)) {
		*cause = xstrdup(_("it is a program for another kind of "
		    "machine"));
		return -1;
	}
	type = client_update_half(head, CLIENT_UPDATE_E_TYPE);
	if (type != ET_EXEC && type != ET_DYN) {
		*cause = xstrdup(_("it is not an executable"));
		return -1;
	}
	return 0;
}

/* Become the new program, with the arguments this one was started with. */
void
client_update_exec(const char *program, char **argv)
{
	log_info(_("running the new program %s"), program);
	execv(program, argv);
	log_warn(_("cannot run %s"), program);
}
