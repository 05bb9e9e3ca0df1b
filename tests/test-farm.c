/*
 * test-farm.c: unit tests of the job table: adding, defining, refusing and
 * removing jobs, the queue order, the names under which .blend files
 * travel, and the hosts.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "farm.h"
#include "proto.h"
#include "state.h"
#include "unit.h"
#include "xmalloc.h"

#define DIGEST1		"11111111111111111111111111111111"
#define DIGEST2		"22222222222222222222222222222222"
#define BLENDDIGEST	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define MAX_EVENTS	64

/* The events of one test, kind and job only. */
static enum farm_event	 test_farm_kinds[MAX_EVENTS];
static struct job	*test_farm_jobs[MAX_EVENTS];
static char		 test_farm_details[MAX_EVENTS][64];
static size_t		 test_farm_nevents;

/* The observer: record what the farm says. */
static void
test_farm_record(struct farm *farm, enum farm_event ev, struct job *job,
    long frame, const char *host, const char *detail, void *arg)
{
	(void)farm;
	(void)frame;
	(void)host;
	ck_assert_ptr_eq(arg, &test_farm_nevents);
	ck_assert_uint_lt(test_farm_nevents, MAX_EVENTS);
	test_farm_kinds[test_farm_nevents] = ev;
	test_farm_jobs[test_farm_nevents] = job;
	snprintf(test_farm_details[test_farm_nevents],
	    sizeof test_farm_details[0], "%s", detail != NULL ? detail : "");
	test_farm_nevents++;
}

/* Start a farm whose events are recorded. */
static void
test_farm_init(struct farm *farm)
{
	test_farm_nevents = 0;
	farm_init(farm, 180000, test_farm_record, &test_farm_nevents);
}

/* Add a job of frames 1 to 10 of blend. */
static struct job *
test_farm_job(struct farm *farm, const char *name, const char *blend)
{
	struct job	*job = farm_add_job(farm, name);

	farm_set_definition(farm, job, blend, 1, 10, DIGEST1);
	return job;
}

/* The name a .blend at path gets when its plain name is taken. */
static void
test_farm_hashed(const char *path, const char *stem, const char *ext,
    char *out, size_t len)
{
	char	hex[DIGEST_HEX_SIZE];

	digest_buffer(path, strlen(path), hex);
	hex[8] = '\0';
	if (ext != NULL)
		snprintf(out, len, "%s-%s.%s", stem, hex, ext);
	else
		snprintf(out, len, "%s-%s", stem, hex);
}

/* Whether every job in the farm has a distinct blend name per path. */
static void
test_farm_names_distinct(struct farm *farm)
{
	struct job	*a, *b;

	TAILQ_FOREACH(a, &farm->jobs, entry) {
		ck_assert_ptr_nonnull(a->blend_name);
		ck_assert(proto_valid_file_name(a->blend_name));
		for (b = TAILQ_NEXT(a, entry); b != NULL;
		    b = TAILQ_NEXT(b, entry)) {
			if (strcmp(a->blend_path, b->blend_path) == 0)
				continue;
			if (strcmp(a->blend_name, b->blend_name) == 0)
				ck_abort_msg("%s and %s both travel as %s",
				    a->blend_path, b->blend_path,
				    a->blend_name);
		}
	}
}

START_TEST(test_farm_init_empty)
{
	struct farm	farm;
	size_t		done = 9, out = 9;

	test_farm_init(&farm);
	ck_assert(TAILQ_EMPTY(&farm.jobs));
	ck_assert(TAILQ_EMPTY(&farm.hosts));
	ck_assert_uint_eq(farm.next_seq, 1);
	ck_assert_int_eq(farm.redistribute_delay, 180000);
	ck_assert_uint_eq(farm_frames_total(&farm, &done, &out), 0);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(out, 0);
	farm_free(&farm);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_add_find_remove)
{
	struct farm	 farm;
	struct job	*a, *b;

	test_farm_init(&farm);
	a = farm_add_job(&farm, "a.job");
	b = farm_add_job(&farm, "b.job");
	ck_assert_uint_eq(test_farm_nevents, 0);
	ck_assert_uint_eq(a->seq, 1);
	ck_assert_uint_eq(b->seq, 2);
	ck_assert_uint_eq(farm.next_seq, 3);
	ck_assert(!job_ready(a));
	ck_assert_ptr_eq(farm_find_job(&farm, "a.job"), a);
	ck_assert_ptr_eq(farm_find_job(&farm, "b.job"), b);
	ck_assert_ptr_null(farm_find_job(&farm, "c.job"));
	ck_assert_ptr_null(farm_find_job(&farm, "a.jo"));

	farm_set_definition(&farm, a, "/srv/a.blend", 1, 3, DIGEST1);
	ck_assert_uint_eq(test_farm_nevents, 1);
	ck_assert_int_eq(test_farm_kinds[0], FARM_JOB_ADDED);
	ck_assert_ptr_eq(test_farm_jobs[0], a);
	ck_assert_str_eq(a->blend_path, "/srv/a.blend");
	ck_assert_int_eq(a->first, 1);
	ck_assert_int_eq(a->last, 3);
	ck_assert_uint_eq(a->nframes, 3);

	farm_remove_job(&farm, a);
	ck_assert_int_eq(test_farm_kinds[1], FARM_JOB_REMOVED);
	ck_assert_ptr_eq(test_farm_jobs[1], a);
	ck_assert_ptr_null(farm_find_job(&farm, "a.job"));
	ck_assert_ptr_eq(TAILQ_FIRST(&farm.jobs), b);

	/* A job file that comes back is a new, younger job. */
	a = farm_add_job(&farm, "a.job");
	ck_assert_uint_eq(a->seq, 3);
	ck_assert_ptr_eq(TAILQ_LAST(&farm.jobs, jobs), a);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_invalid_then_valid)
{
	struct farm	 farm;
	struct job	*job;
	struct file_id	 id = { 1, 2, 3, 4 };

	test_farm_init(&farm);
	job = test_farm_job(&farm, "a.job", "/srv/a.blend");
	farm_set_blend_digest(&farm, job, BLENDDIGEST, &id);
	ck_assert(job_ready(job));

	farm_set_invalid(&farm, job, "not three lines");
	ck_assert_int_eq(test_farm_kinds[test_farm_nevents - 1],
	    FARM_JOB_INVALID);
	ck_assert_str_eq(test_farm_details[test_farm_nevents - 1],
	    "not three lines");
	ck_assert_str_eq(job->invalid, "not three lines");
	ck_assert_str_eq(job->job_digest, "");
	ck_assert_str_eq(job->blend_digest, "");
	ck_assert_int_eq(job->blend_id.ino, 0);
	ck_assert_ptr_null(job->frames);
	ck_assert_uint_eq(job->nframes, 0);
	ck_assert(!job_ready(job));

	/* Fixed: a new job again, to be hashed again. */
	farm_set_definition(&farm, job, "/srv/a.blend", 1, 10, DIGEST1);
	ck_assert_int_eq(test_farm_kinds[test_farm_nevents - 1],
	    FARM_JOB_ADDED);
	ck_assert_ptr_null(job->invalid);
	ck_assert_uint_eq(job->nframes, 10);
	ck_assert(!job_ready(job));
	farm_set_blend_digest(&farm, job, BLENDDIGEST, &id);
	ck_assert(job_ready(job));
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_sort)
{
	struct farm	 farm;
	struct job	*job, *j[4];
	const char	*order[] = { "c.job", "a.job", "d.job", "b.job" };
	size_t		 i = 0;

	test_farm_init(&farm);
	j[0] = farm_add_job(&farm, "a.job");
	j[1] = farm_add_job(&farm, "b.job");
	j[2] = farm_add_job(&farm, "c.job");
	j[3] = farm_add_job(&farm, "d.job");
	farm_set_priority(&farm, j[1], -5);
	farm_set_priority(&farm, j[2], 7);
	ck_assert_uint_eq(test_farm_nevents, 2);
	ck_assert_int_eq(test_farm_kinds[0], FARM_JOB_CHANGED);
	TAILQ_FOREACH(job, &farm.jobs, entry)
		ck_assert_str_eq(job->name, order[i++]);
	ck_assert_uint_eq(i, 4);

	/* A new job of the default priority goes after the older ones. */
	job = farm_add_job(&farm, "e.job");
	ck_assert_ptr_eq(TAILQ_NEXT(j[3], entry), job);
	ck_assert_ptr_eq(TAILQ_LAST(&farm.jobs, jobs), j[1]);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_frames_total)
{
	struct farm	 farm;
	struct job	*a, *b, *c;
	size_t		 done, out;

	test_farm_init(&farm);
	a = test_farm_job(&farm, "a.job", "/srv/a.blend");
	b = farm_add_job(&farm, "b.job");
	farm_set_definition(&farm, b, "/srv/b.blend", -2, 2, DIGEST1);
	c = farm_add_job(&farm, "c.job");
	farm_set_invalid(&farm, c, "no .blend");
	job_frame_set(a, &a->frames[0], FRAME_DONE);
	job_frame_out(b, &b->frames[1], host_get(&farm, "alpha"), 1000);
	ck_assert_uint_eq(farm_frames_total(&farm, &done, &out), 15);
	ck_assert_uint_eq(done, 1);
	ck_assert_uint_eq(out, 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_find_blend)
{
	struct farm	 farm;
	struct job	*a, *b;
	struct file_id	 id = { 1, 2, 3, 4 };

	test_farm_init(&farm);
	a = test_farm_job(&farm, "a.job", "/srv/a.blend");
	b = test_farm_job(&farm, "b.job", "/srv/b.blend");
	ck_assert_ptr_null(farm_find_blend(&farm, "a.blend", BLENDDIGEST));
	farm_set_blend_digest(&farm, a, BLENDDIGEST, &id);
	farm_set_blend_digest(&farm, b, DIGEST2, &id);
	ck_assert_ptr_eq(farm_find_blend(&farm, "a.blend", BLENDDIGEST), a);
	ck_assert_ptr_eq(farm_find_blend(&farm, "b.blend", DIGEST2), b);
	ck_assert_ptr_null(farm_find_blend(&farm, "a.blend", DIGEST2));
	ck_assert_ptr_null(farm_find_blend(&farm, "c.blend", BLENDDIGEST));
	farm_set_invalid(&farm, a, "gone");
	ck_assert_ptr_null(farm_find_blend(&farm, "a.blend", BLENDDIGEST));
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_blend_name_plain)
{
	struct farm	 farm;
	struct job	*job;

	test_farm_init(&farm);
	job = test_farm_job(&farm, "a.job", "/srv/shots/scene.blend");
	ck_assert_str_eq(job->blend_name, "scene.blend");
	job = test_farm_job(&farm, "b.job", "/srv/my scene\t1.blend");
	ck_assert_str_eq(job->blend_name, "my_scene_1.blend");
	job = test_farm_job(&farm, "c.job", "/srv/.hidden.blend");
	ck_assert_str_eq(job->blend_name, "_hidden.blend");
	job = test_farm_job(&farm, "d.job", "/srv/back\\slash");
	ck_assert_str_eq(job->blend_name, "back_slash");
	test_farm_names_distinct(&farm);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_blend_name_collision)
{
	struct farm	 farm;
	struct job	*a, *b, *c, *d, *e;
	char		 want[PROTO_MAX_NAME + 1];

	test_farm_init(&farm);
	a = test_farm_job(&farm, "a.job", "/srv/one/scene.blend");
	b = test_farm_job(&farm, "b.job", "/srv/two/scene.blend");
	c = test_farm_job(&farm, "c.job", "/srv/one/scene.blend");
	ck_assert_str_eq(a->blend_name, "scene.blend");
	test_farm_hashed("/srv/two/scene.blend", "scene", "blend", want,
	    sizeof want);
	ck_assert_str_eq(b->blend_name, want);
	ck_assert_uint_eq(strlen(b->blend_name), strlen("scene-12345678.blend"));
	/* The same .blend keeps one name. */
	ck_assert_str_eq(c->blend_name, "scene.blend");

	/* Names that only sanitising makes equal are told apart too. */
	d = test_farm_job(&farm, "d.job", "/srv/three/scene");
	e = test_farm_job(&farm, "e.job", "/srv/four/scene");
	ck_assert_str_eq(d->blend_name, "scene");
	test_farm_hashed("/srv/four/scene", "scene", NULL, want, sizeof want);
	ck_assert_str_eq(e->blend_name, want);
	test_farm_names_distinct(&farm);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_blend_name_sanitised_collision)
{
	struct farm	 farm;
	struct job	*a, *b;
	char		 want[PROTO_MAX_NAME + 1];

	test_farm_init(&farm);
	a = test_farm_job(&farm, "a.job", "/srv/my scene.blend");
	b = test_farm_job(&farm, "b.job", "/srv/my_scene.blend");
	ck_assert_str_eq(a->blend_name, "my_scene.blend");
	test_farm_hashed("/srv/my_scene.blend", "my_scene", "blend", want,
	    sizeof want);
	ck_assert_str_eq(b->blend_name, want);
	test_farm_names_distinct(&farm);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_blend_name_long)
{
	struct farm	 farm;
	struct job	*a, *b;
	char		 path[600], base[400];

	/* A base name at the limit still gives a valid, distinct name. */
	test_farm_init(&farm);
	memset(base, 'x', 300);
	strcpy(base + 300, ".blend");
	snprintf(path, sizeof path, "/srv/one/%s", base);
	a = test_farm_job(&farm, "a.job", path);
	snprintf(path, sizeof path, "/srv/two/%s", base);
	b = test_farm_job(&farm, "b.job", path);
	ck_assert_uint_le(strlen(a->blend_name), PROTO_MAX_NAME);
	ck_assert_uint_le(strlen(b->blend_name), PROTO_MAX_NAME);
	test_farm_names_distinct(&farm);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_blend_name_stable)
{
	struct farm	 farm;
	struct job	*a, *b;
	char		*before;

	test_farm_init(&farm);
	a = test_farm_job(&farm, "a.job", "/srv/one/scene.blend");
	b = test_farm_job(&farm, "b.job", "/srv/two/scene.blend");
	before = xstrdup(b->blend_name);

	/* A change of frames keeps each name. */
	farm_set_definition(&farm, a, "/srv/one/scene.blend", 1, 20, DIGEST2);
	ck_assert_str_eq(a->blend_name, "scene.blend");
	farm_set_definition(&farm, b, "/srv/two/scene.blend", 1, 20, DIGEST2);
	ck_assert_str_eq(b->blend_name, before);

	/* The first job gone, the second keeps the name it was sent as. */
	farm_remove_job(&farm, a);
	farm_set_definition(&farm, b, "/srv/two/scene.blend", 5, 20, DIGEST1);
	ck_assert_str_eq(b->blend_name, before);

	/* A job refused and fixed keeps its name while another waits. */
	a = test_farm_job(&farm, "a.job", "/srv/one/scene.blend");
	ck_assert_str_eq(a->blend_name, "scene.blend");
	farm_set_invalid(&farm, b, "the .blend file cannot be read");
	farm_set_definition(&farm, b, "/srv/two/scene.blend", 5, 20, DIGEST1);
	ck_assert_str_eq(b->blend_name, before);
	test_farm_names_distinct(&farm);
	free(before);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_blend_name_moved)
{
	struct farm	 farm;
	struct job	*a, *b;
	char		 want[PROTO_MAX_NAME + 1];

	/* A job pointed at another .blend is named afresh. */
	test_farm_init(&farm);
	a = test_farm_job(&farm, "a.job", "/srv/one/scene.blend");
	b = test_farm_job(&farm, "b.job", "/srv/two/other.blend");
	farm_set_definition(&farm, b, "/srv/two/scene.blend", 1, 10, DIGEST2);
	test_farm_hashed("/srv/two/scene.blend", "scene", "blend", want,
	    sizeof want);
	ck_assert_str_eq(b->blend_name, want);
	farm_set_definition(&farm, a, "/srv/one/shot.blend", 1, 10, DIGEST2);
	ck_assert_str_eq(a->blend_name, "shot.blend");
	farm_set_definition(&farm, b, "/srv/one/scene.blend", 1, 10, DIGEST1);
	ck_assert_str_eq(b->blend_name, "scene.blend");
	test_farm_names_distinct(&farm);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_blend_name_hashed_taken)
{
	struct farm	 farm;
	char		 taken[PROTO_MAX_NAME + 1], path[PROTO_MAX_NAME + 32];

	/*
	 * A .blend whose own base name is what another file's hashed name
	 * would be, seen first: the two must still travel apart.
	 */
	test_farm_init(&farm);
	test_farm_hashed("/srv/two/scene.blend", "scene", "blend", taken,
	    sizeof taken);
	snprintf(path, sizeof path, "/srv/three/%s", taken);
	test_farm_job(&farm, "c.job", path);
	test_farm_job(&farm, "a.job", "/srv/one/scene.blend");
	test_farm_job(&farm, "b.job", "/srv/two/scene.blend");
	test_farm_names_distinct(&farm);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_suspend)
{
	struct farm	 farm;
	struct job	*job;

	test_farm_init(&farm);
	job = test_farm_job(&farm, "a.job", "/srv/a.blend");
	test_farm_nevents = 0;
	farm_set_suspended(&farm, job, 0);
	ck_assert_uint_eq(test_farm_nevents, 0);
	farm_set_suspended(&farm, job, 1);
	ck_assert_uint_eq(test_farm_nevents, 1);
	ck_assert_int_eq(test_farm_kinds[0], FARM_JOB_CHANGED);
	ck_assert_str_eq(test_farm_details[0], "suspended");
	ck_assert(job->suspended);
	/* Suspension does not make the job unready: results still count. */
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_job_frames)
{
	struct farm	 farm;
	struct job	*job;

	test_farm_init(&farm);
	job = farm_add_job(&farm, "a.job");
	ck_assert_ptr_null(job_frame(job, 0));
	farm_set_definition(&farm, job, "/srv/a.blend", -3, 3, DIGEST1);
	ck_assert_uint_eq(job->nframes, 7);
	ck_assert_ptr_eq(job_frame(job, -3), &job->frames[0]);
	ck_assert_ptr_eq(job_frame(job, 3), &job->frames[6]);
	ck_assert_ptr_null(job_frame(job, -4));
	ck_assert_ptr_null(job_frame(job, 4));

	job_count_host(job, "alpha", 2);
	job_count_host(job, "beta", 1);
	job_count_host(job, "alpha", 3);
	ck_assert_uint_eq(job->nhosts, 2);
	ck_assert_str_eq(job->hosts[0].name, "alpha");
	ck_assert_uint_eq(job->hosts[0].count, 5);
	ck_assert_uint_eq(job->hosts[1].count, 1);
	job_reset_frames(job);
	ck_assert_uint_eq(job->nhosts, 0);
	ck_assert_uint_eq(job->nframes, 7);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_hosts)
{
	struct farm	 farm;
	struct host	*a, *b;

	test_farm_init(&farm);
	ck_assert_ptr_null(host_find(&farm, "alpha"));
	a = host_get(&farm, "alpha");
	b = host_get(&farm, "beta");
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(host_get(&farm, "alpha"), a);
	ck_assert_ptr_eq(host_find(&farm, "beta"), b);
	ck_assert_str_eq(a->name, "alpha");
	ck_assert_int_eq(a->connections, 0);

	host_connected(a, 2, 0, 1000);
	host_connected(a, 2, 0, 2000);
	ck_assert_int_eq(a->connections, 2);
	ck_assert_int_eq(a->ext_version, 2);
	ck_assert(host_alive(a));
	ck_assert_int_eq(a->last_contact, 2000);
	host_disconnected(a, 2, 0);
	ck_assert(host_alive(a));
	host_disconnected(a, 2, 0);
	host_disconnected(a, 2, 0);
	ck_assert_int_eq(a->connections, 0);
	ck_assert(!host_alive(a));
	/* It was last heard from when it last spoke, not when it left. */
	ck_assert_int_eq(a->last_contact, 2000);
	/* The same name from an old client: no longer a bdfarm peer. */
	host_connected(a, 0, 0, 6000);
	ck_assert_int_eq(a->ext_version, 0);
	ck_assert(!host_alive(a));
	ck_assert_uint_eq(test_farm_nevents, 0);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_host_sessions)
{
	struct farm	 farm;
	struct host	*a;

	/*
	 * The first extension session under a name speaks for the host; a
	 * second one meanwhile, or an old-protocol one, only waits and
	 * changes nothing of it, until the first ends.
	 */
	test_farm_init(&farm);
	a = host_get(&farm, "alpha#7");
	host_connected(a, 2, 11, 1000);
	ck_assert(host_speaks(a, 11));
	host_connected(a, 1, 12, 2000);
	host_connected(a, 0, 13, 3000);
	ck_assert(!host_speaks(a, 12));
	ck_assert(!host_speaks(a, 13));
	ck_assert_int_eq(a->ext_version, 2);
	ck_assert_int_eq(a->live, 2);
	ck_assert_int_eq(host_take_over(a, 1, 12), 0);
	/* A waiting session that ends changes nothing. */
	host_disconnected(a, 0, 13);
	ck_assert(host_speaks(a, 11));
	host_disconnected(a, 2, 11);
	ck_assert(host_alive(a));
	/* An old-protocol session cannot take over, an extension one can. */
	ck_assert_int_eq(host_take_over(a, 0, 13), 0);
	ck_assert_int_eq(host_take_over(a, 1, 12), 1);
	ck_assert(host_speaks(a, 12));
	ck_assert(!host_speaks(a, 11));
	ck_assert_int_eq(a->ext_version, 1);
	host_disconnected(a, 1, 12);
	ck_assert(!host_alive(a));
	ck_assert(host_speaks(a, 14));
	farm_free(&farm);
}
END_TEST

/*
 * Many hosts: each is found by its name through the table, which grows
 * as they come, and the list keeps the order they came in.
 */
START_TEST(test_farm_many_hosts)
{
	struct farm	 farm;
	struct host	**all, *host;
	char		 name[32];
	int		 i, n = 20000;

	test_farm_init(&farm);
	all = xcalloc((size_t)n, sizeof *all);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "host%d.example", i);
		all[i] = host_get(&farm, name);
		ck_assert_ptr_eq(host_get(&farm, name), all[i]);
	}
	ck_assert_uint_eq(farm.nhosts, (size_t)n);
	ck_assert_uint_ge(farm.host_names_size, (size_t)n);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "host%d.example", i);
		ck_assert_ptr_eq(host_find(&farm, name), all[i]);
	}
	ck_assert_ptr_null(host_find(&farm, "host20000.example"));
	ck_assert_ptr_null(host_find(&farm, ""));
	i = 0;
	TAILQ_FOREACH(host, &farm.hosts, entry)
		ck_assert_ptr_eq(host, all[i++]);
	ck_assert_int_eq(i, n);
	free(all);
	farm_free(&farm);
	ck_assert_uint_eq(farm.nhosts, 0);
	ck_assert_ptr_null(farm.host_names);
}
END_TEST

/* Hand the next frame of the farm to host, at now; its number. */
static long
test_farm_hand_out(struct farm *farm, struct host *host, farm_time now)
{
	struct job	*job = NULL;
	long		 n = 0;

	ck_assert(sched_next(farm, host, 1, now, &job, &n));
	return n;
}

/*
 * Hosts not heard from for a while are forgotten, from the list and the
 * table of names, unless they hold something: a session, a frame (or a
 * backup copy of one), a failure a job counts against them. The order of
 * the others stays, and a job's tally keeps a forgotten host's name.
 */
START_TEST(test_farm_forget_hosts)
{
	struct farm	 farm;
	struct job	*job;
	struct file_id	 id = { 1, 2, 3, 4 };
	struct host	*gone, *open, *holder, *failed, *recent, *saved, *h;
	const char	*left[] = { "open", "holder", "failed", "recent" };
	const farm_time	 day = 86400000;
	long		 n;
	size_t		 i;

	test_farm_init(&farm);
	farm.started = 1000;
	job = test_farm_job(&farm, "a.job", "/srv/a.blend");
	farm_set_blend_digest(&farm, job, BLENDDIGEST, &id);

	gone = host_get(&farm, "gone");
	host_connected(gone, 0, 0, 2000);
	n = test_farm_hand_out(&farm, gone, 2000);
	sched_frame_done(&farm, job, n, gone, 3000);
	host_disconnected(gone, 0, 0);
	open = host_get(&farm, "open");
	host_connected(open, 2, 0, 2000);
	holder = host_get(&farm, "holder");
	host_connected(holder, 0, 0, 2000);
	test_farm_hand_out(&farm, holder, 2000);
	host_disconnected(holder, 0, 0);
	failed = host_get(&farm, "failed");
	host_connected(failed, 2, 0, 2000);
	n = test_farm_hand_out(&farm, failed, 2000);
	sched_frame_failed(&farm, job, n, failed, "boom", 0);
	host_disconnected(failed, 2, 0);
	ck_assert_uint_eq(failed->held, 0);
	recent = host_get(&farm, "recent");
	host_connected(recent, 0, 0, 2000 + day);
	host_disconnected(recent, 0, 0);
	/* Known only from the saved state: since the farm started. */
	saved = host_get(&farm, "saved");
	ck_assert_int_eq(saved->last_contact, 0);
	ck_assert_uint_eq(farm.nhosts, 6);

	/* Not yet a day. */
	ck_assert_uint_eq(host_forget(&farm, 1000 + day - 1, day), 0);
	ck_assert_uint_eq(host_forget(&farm, 2000 + day, 0), 0);
	ck_assert_uint_eq(host_forget(&farm, 2000 + day, day), 2);
	ck_assert_ptr_null(host_find(&farm, "gone"));
	ck_assert_ptr_null(host_find(&farm, "saved"));
	ck_assert_uint_eq(farm.nhosts, 4);
	i = 0;
	TAILQ_FOREACH(h, &farm.hosts, entry) {
		ck_assert_uint_lt(i, nitems(left));
		ck_assert_str_eq(h->name, left[i]);
		ck_assert_ptr_eq(host_find(&farm, left[i]), h);
		i++;
	}
	ck_assert_uint_eq(i, nitems(left));
	ck_assert_uint_eq(job->nhosts, 1);
	ck_assert_str_eq(job->hosts[0].name, "gone");
	ck_assert(job_host_blocked(job, failed) == 0);
	ck_assert_uint_eq(job_frame_failures(job, n), 1);

	/* Once the job starts over, its frames and failures name nobody. */
	farm_set_definition(&farm, job, "/srv/a.blend", 1, 10, DIGEST2);
	ck_assert_uint_eq(host_forget(&farm, 2000 + 2 * day, day), 3);
	ck_assert_ptr_null(host_find(&farm, "failed"));
	ck_assert_ptr_null(host_find(&farm, "holder"));
	ck_assert_ptr_null(host_find(&farm, "recent"));
	ck_assert_ptr_eq(host_find(&farm, "open"), open);
	host_disconnected(open, 2, 0);
	ck_assert_uint_eq(host_forget(&farm, 2000 + 2 * day + 1, day), 1);
	ck_assert_uint_eq(farm.nhosts, 0);
	ck_assert(TAILQ_EMPTY(&farm.hosts));

	/* A forgotten name that comes back is a new host. */
	gone = host_get(&farm, "gone");
	ck_assert_uint_eq(gone->done, 0);
	ck_assert_ptr_eq(host_find(&farm, "gone"), gone);
	farm_free(&farm);
}
END_TEST

/*
 * A host that had a frame not done yet is kept, since its late result is
 * still welcome; once another host delivers the frame, it is forgotten.
 */
START_TEST(test_farm_forget_past_holder)
{
	struct farm	 farm;
	struct job	*job;
	struct file_id	 id = { 1, 2, 3, 4 };
	struct host	*first, *second;
	long		 n;

	test_farm_init(&farm);
	job = test_farm_job(&farm, "a.job", "/srv/a.blend");
	farm_set_blend_digest(&farm, job, BLENDDIGEST, &id);
	first = host_get(&farm, "first");
	second = host_get(&farm, "second");
	host_connected(second, 0, 0, 1000);
	n = test_farm_hand_out(&farm, first, 1000);
	ck_assert_int_eq(sched_frame_return(&farm, job, n, first, "no"), 1);
	ck_assert_uint_eq(first->held, 0);
	ck_assert_uint_eq(host_forget(&farm, 1000000, 1000), 0);
	ck_assert_ptr_eq(host_find(&farm, "first"), first);
	ck_assert_int_eq(test_farm_hand_out(&farm, second, 1000000), n);
	sched_frame_done(&farm, job, n, second, 1000001);
	ck_assert_uint_eq(host_forget(&farm, 1000002, 1000), 1);
	ck_assert_ptr_null(host_find(&farm, "first"));
	farm_free(&farm);
}
END_TEST

/* A backup copy holds its host as the frame holds the first one. */
START_TEST(test_farm_forget_backup)
{
	struct farm	 farm;
	struct job	*job;
	struct file_id	 id = { 1, 2, 3, 4 };
	struct host	*first, *second;
	long		 n;

	test_farm_init(&farm);
	job = test_farm_job(&farm, "a.job", "/srv/a.blend");
	farm_set_blend_digest(&farm, job, BLENDDIGEST, &id);
	first = host_get(&farm, "first");
	second = host_get(&farm, "second");
	n = test_farm_hand_out(&farm, first, 1000);
	job_frame_backup(job_frame(job, n), second);
	ck_assert_uint_eq(host_forget(&farm, 1000000, 1000), 0);
	/* The held count alone may not say it: the frame's links do. */
	second->held = 0;
	first->held = 0;
	ck_assert_uint_eq(host_forget(&farm, 1000000, 1000), 0);
	ck_assert_ptr_eq(job_frame(job, n)->backup, second);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_unavailable)
{
	struct farm	 farm;
	struct job	*job;
	struct host	*host;
	struct file_id	 id = { 1, 2, 3, 4 };
	long		 number;
	char		*text;
	size_t		 len;

	/* A job with a frame done, two out and a tally. */
	test_farm_init(&farm);
	job = test_farm_job(&farm, "a.job", "/srv/a.blend");
	farm_set_blend_digest(&farm, job, BLENDDIGEST, &id);
	host = host_get(&farm, "alpha");
	ck_assert(sched_next(&farm, host, 1, 1000, &job, &number));
	ck_assert(sched_next(&farm, host, 1, 1000, &job, &number));
	ck_assert(sched_next(&farm, host, 1, 1000, &job, &number));
	sched_frame_done(&farm, job, 1, host, 2000);
	test_farm_nevents = 0;

	/* Paused: nothing goes out, everything is kept, logged once. */
	farm_set_unavailable(&farm, job, "the .blend file cannot be read");
	farm_set_unavailable(&farm, job, "the .blend file cannot be read");
	ck_assert_uint_eq(test_farm_nevents, 1);
	ck_assert_int_eq(test_farm_kinds[0], FARM_JOB_CHANGED);
	ck_assert_str_eq(test_farm_details[0],
	    "unavailable: the .blend file cannot be read");
	ck_assert(job->suspended);
	ck_assert(!job->held);
	ck_assert(!sched_has_work(&farm, 3000));
	ck_assert(!sched_next(&farm, host, 1, 3000, &job, &number));
	ck_assert_uint_eq(job->ndone, 1);
	ck_assert_uint_eq(job->nout, 2);
	ck_assert_uint_eq(job->nhosts, 1);
	ck_assert_str_eq(job->blend_digest, BLENDDIGEST);

	/* Its frames stay in the checkpoint. */
	text = state_format(&farm, 0, NULL, &len);
	ck_assert_ptr_nonnull(strstr(text, "job a.job\n"));
	ck_assert_ptr_nonnull(strstr(text, "\ndone 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nout 2 "));
	free(text);

	/* A result for a frame out is still taken. */
	ck_assert_int_eq(sched_check_result(&farm, job->blend_name,
	    BLENDDIGEST, 2, host, &job), FARM_RESULT_OK);

	/* Another reason is logged; back again, it goes on where it was. */
	farm_set_unavailable(&farm, job, "the job file cannot be read");
	ck_assert_uint_eq(test_farm_nevents, 2);
	farm_set_unavailable(&farm, job, NULL);
	farm_set_unavailable(&farm, job, NULL);
	ck_assert_uint_eq(test_farm_nevents, 3);
	ck_assert_str_eq(test_farm_details[2], "available again");
	ck_assert(!job->suspended);
	ck_assert(sched_next(&farm, host, 1, 4000, &job, &number));
	ck_assert_int_eq(number, 4);
	ck_assert_uint_eq(job->ndone, 1);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_unavailable_and_held)
{
	struct farm	 farm;
	struct job	*job;

	/* The .suspend file and a read failure hold a job each on its own. */
	test_farm_init(&farm);
	job = test_farm_job(&farm, "a.job", "/srv/a.blend");
	farm_set_suspended(&farm, job, 1);
	farm_set_unavailable(&farm, job, "gone");
	farm_set_suspended(&farm, job, 0);
	ck_assert(job->suspended);
	farm_set_unavailable(&farm, job, NULL);
	ck_assert(!job->suspended);
	farm_set_unavailable(&farm, job, "gone");
	farm_set_suspended(&farm, job, 1);
	farm_set_unavailable(&farm, job, NULL);
	ck_assert(job->suspended);
	ck_assert(job->held);

	/* A job file that does not parse is invalid, not unavailable. */
	farm_set_suspended(&farm, job, 0);
	farm_set_unavailable(&farm, job, "gone");
	farm_set_invalid(&farm, job, "not three lines");
	ck_assert_ptr_null(job->unavailable);
	ck_assert(!job->suspended);
	ck_assert_ptr_null(job->frames);
	farm_free(&farm);
}
END_TEST

START_TEST(test_farm_many_jobs)
{
	struct farm	 farm;
	struct job	*job, *prev, **all;
	char		 name[32];
	int		 i, n = 5000;

	/* Found by name however many there are, and after removals. */
	farm_init(&farm, 180000, NULL, NULL);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "job%d.job", i);
		farm_add_job(&farm, name);
	}
	for (i = 0; i < n; i += 2) {
		snprintf(name, sizeof name, "job%d.job", i);
		farm_remove_job(&farm, farm_find_job(&farm, name));
	}
	all = xcalloc((size_t)n / 2, sizeof *all);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "job%d.job", i);
		job = farm_find_job(&farm, name);
		if (i % 2 == 0)
			ck_assert_ptr_null(job);
		else {
			ck_assert_ptr_nonnull(job);
			ck_assert_str_eq(job->name, name);
			all[i / 2] = job;
		}
	}
	ck_assert_uint_eq(farm.njobs, (size_t)n / 2);

	/* Ages and priorities changed one by one: the queue stays sorted. */
	for (i = 0; i < n / 2; i++) {
		if (i % 7 == 0)
			farm_set_priority(&farm, all[i], i % 5 - 2);
		if (i % 11 == 0) {
			all[i]->seq = (uint64_t)(n - i);
			farm_reorder(&farm, all[i]);
		}
	}
	prev = NULL;
	i = 0;
	TAILQ_FOREACH(job, &farm.jobs, entry) {
		if (prev != NULL) {
			ck_assert_int_ge(prev->priority, job->priority);
			if (prev->priority == job->priority)
				ck_assert_uint_le(prev->seq, job->seq);
		}
		prev = job;
		i++;
	}
	ck_assert_int_eq(i, n / 2);
	free(all);
	farm_free(&farm);
}
END_TEST

Suite *
farm_suite(void)
{
	Suite	*s = suite_create("farm");
	TCase	*table = tcase_create("table");
	TCase	*names = tcase_create("names");

	tcase_add_test(table, test_farm_init_empty);
	tcase_add_test(table, test_farm_add_find_remove);
	tcase_add_test(table, test_farm_invalid_then_valid);
	tcase_add_test(table, test_farm_sort);
	tcase_add_test(table, test_farm_frames_total);
	tcase_add_test(table, test_farm_find_blend);
	tcase_add_test(table, test_farm_suspend);
	tcase_add_test(table, test_farm_unavailable);
	tcase_add_test(table, test_farm_unavailable_and_held);
	tcase_add_test(table, test_farm_many_jobs);
	tcase_add_test(table, test_farm_job_frames);
	tcase_add_test(table, test_farm_hosts);
	tcase_add_test(table, test_farm_host_sessions);
	tcase_add_test(table, test_farm_many_hosts);
	tcase_add_test(table, test_farm_forget_hosts);
	tcase_add_test(table, test_farm_forget_backup);
	tcase_add_test(table, test_farm_forget_past_holder);
	suite_add_tcase(s, table);

	tcase_add_test(names, test_farm_blend_name_plain);
	tcase_add_test(names, test_farm_blend_name_collision);
	tcase_add_test(names, test_farm_blend_name_sanitised_collision);
	tcase_add_test(names, test_farm_blend_name_long);
	tcase_add_test(names, test_farm_blend_name_stable);
	tcase_add_test(names, test_farm_blend_name_moved);
	tcase_add_test(names, test_farm_blend_name_hashed_taken);
	suite_add_tcase(s, names);
	return s;
}
