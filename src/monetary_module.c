/*
 * monetary_module.c
 *	  Module entry point of the library of extension monetary.
 *
 * The monetary library holds the currency and monetary types and everything
 * that needs no table; the payments library compiles in the same money code
 * (linked -Bsymbolic, so each library calls its own copy).
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
