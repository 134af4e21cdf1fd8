/*
 * outcomes.h
 *	  What became of the API's calls, counted in shared memory (outcomes.c):
 *	  transfers committed, and calls refused by SQLSTATE, per minute.
 */
#ifndef PAYMENTS_OUTCOMES_H
#define PAYMENTS_OUTCOMES_H

#include "postgres.h"

#include "fmgr.h"

/* From _PG_init(): reserves the counters when the library is preloaded. */
extern void outcomes_request_shmem(void);

/*
 * Calls fn, counting the SQLSTATE of the error it raises, if any, unless
 * the call is nested in another counted call.
 */
extern Datum outcomes_call(PGFunction fn, FunctionCallInfo fcinfo);

/*
 * Defines a function of the API whose refusals are counted: its body
 * follows, as a PG_FUNCTION_ARGS function's would.
 */
#define OUTCOME_COUNTED_FUNCTION(name) \
	static Datum name##_body(PG_FUNCTION_ARGS); \
	PG_FUNCTION_INFO_V1(name); \
	Datum \
	name(PG_FUNCTION_ARGS) \
	{ \
		return outcomes_call(name##_body, fcinfo); \
	} \
	static Datum \
	name##_body(PG_FUNCTION_ARGS)

/* The posting engine has applied n transfers: counted if they commit. */
extern void outcomes_transfers_applied(int64 n);

#endif							/* PAYMENTS_OUTCOMES_H */
