/*
 * unit.h: the unit test suites, one per module of src/. A new suite is one
 * file, tests/test-NAME.c defining NAME_suite(), and one UNIT_SUITE line
 * below; the runner in unit.c picks up every line of the list.
 */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>

#define UNIT_SUITES \
	UNIT_SUITE(proto) \
	UNIT_SUITE(jobfile) \
	UNIT_SUITE(framefile) \
	UNIT_SUITE(settings) \
	UNIT_SUITE(eta) \
	UNIT_SUITE(ratelimit) \
	UNIT_SUITE(farm) \
	UNIT_SUITE(sched) \
	UNIT_SUITE(state) \
	UNIT_SUITE(blender_output) \
	UNIT_SUITE(server_address) \
	UNIT_SUITE(keys) \
	UNIT_SUITE(netrange) \
	UNIT_SUITE(deppath) \
	UNIT_SUITE(blendfile) \
	UNIT_SUITE(picture) \
	UNIT_SUITE(client_manifest) \
	UNIT_SUITE(attach)

#define UNIT_SUITE(name) Suite *name##_suite(void);
UNIT_SUITES
#undef UNIT_SUITE

#endif
