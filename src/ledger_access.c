/*
 * ledger_access.c
 *	  Ledgers as a security boundary, and the right to system accounts.
 *
 * payments.bind_role(role, ledger) records a binding in payments.role_ledgers.
 * A role that has the privileges of a bound role (it, or a group it inherits
 * from) may use only the ledgers bound to those roles: post into them (every
 * row of payments.transfers is checked as it is inserted, by the API, an
 * INSERT or a COPY), create and change their accounts, and read them (row
 * level security on the tables, and the same check in the API's readers,
 * which run as the owner, whom row level security does not confine).  A
 * role bound to none, and a superuser, may use every ledger: a single-tenant
 * install needs no set-up.
 *
 * The role is the one the client acts as (GetOuterUserId(): the session's
 * user, or what SET ROLE made it), not the owner a SECURITY DEFINER function
 * of the API runs as; the session's login confines it as well.  What they
 * may use is read once per backend, role and login, and again after any
 * change to role_ledgers (a trigger on it sends a relcache invalidation at
 * commit) or to roles and their memberships.
 *
 * System accounts (debit-normal, or allowed to go negative: the accounts
 * money comes from) are created and changed only by roles that may execute
 * payments.create_system_account(): an application that could create one
 * could mint money into any wallet.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/supportnodes.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "ledger.h"
#include "ledger_access.h"

PG_FUNCTION_INFO_V1(ledger_visible);
PG_FUNCTION_INFO_V1(ledger_visible_support);
PG_FUNCTION_INFO_V1(ledger_require);

/* What the acting role may use, with the session's login. */
typedef struct RoleAccess
{
	bool		valid;
	Oid			role;			/* the acting role */
	Oid			session;		/* the session's login */
	bool		confined;		/* bound, through some role, to the ledgers below */
	bool		by_session;		/* only the session's login is bound */
	int			nledgers;
	char	  **ledgers;		/* sorted */
	bool		system_accounts;
} RoleAccess;

static RoleAccess cached = {false};
static MemoryContext access_cxt = NULL;

/* The names, per role oid: looked up again only for another role, or after a rename. */
static Oid	named_role = InvalidOid;
static Datum named_role_name;	/* text, in TopMemoryContext */
static Oid	named_session = InvalidOid;
static Datum named_session_name;

static Oid	role_ledgers_relid = InvalidOid;

/* No catalog access here: a callback may run outside a transaction. */
static void
access_reset_relcache(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == role_ledgers_relid)
		cached.valid = false;
}

static void
access_reset_syscache(Datum arg, int cacheid, uint32 hashvalue)
{
	cached.valid = false;
	/* a rename: look the names up again */
	if (named_role != InvalidOid)
		pfree(DatumGetPointer(named_role_name));
	if (named_session != InvalidOid)
		pfree(DatumGetPointer(named_session_name));
	named_role = named_session = InvalidOid;
}

static LedgerPlan bound_ledgers_plan = {
	/* in strcmp()'s order, for bsearch() */
	"SELECT DISTINCT b.ledger COLLATE \"C\" FROM payments.role_ledgers b "
	" WHERE pg_catalog.pg_has_role($1, b.role::pg_catalog.oid, 'USAGE') "
	" ORDER BY 1",
	1, {OIDOID}
};

static LedgerPlan system_right_plan = {
	"SELECT pg_catalog.bool_or(pg_catalog.has_function_privilege($1, p.oid, 'EXECUTE')) "
	"  FROM pg_catalog.pg_proc p "
	" WHERE p.pronamespace OPERATOR(pg_catalog.=) 'payments'::pg_catalog.regnamespace "
	"   AND p.proname OPERATOR(pg_catalog.=) 'create_system_account'",
	1, {OIDOID}
};

/*
 * The role a call acts as: the current user as the client set it (SET ROLE
 * included), not the owner a SECURITY DEFINER function runs as.
 */
static Oid
ledger_acting_role(void)
{
	return GetOuterUserId();
}

/* A role's name as text, kept in TopMemoryContext in *name for role. */
static Datum
role_name(Oid role, Oid *named, Datum *name)
{
	if (role != *named)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (*named != InvalidOid)
			pfree(DatumGetPointer(*name));
		*name = CStringGetTextDatum(GetUserNameFromId(role, false));
		*named = role;
		MemoryContextSwitchTo(old);
	}
	return *name;
}

void
ledger_posted_by(Datum *posted_by, Datum *session, bool *session_null)
{
	Oid			role = ledger_acting_role();
	Oid			session_role = GetSessionUserId();

	*posted_by = role_name(role, &named_role, &named_role_name);
	*session_null = session_role == role;
	if (!*session_null)
		*session = role_name(session_role, &named_session, &named_session_name);
}

static Oid
relation_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * The ledgers bound to the roles whose privileges role has, sorted, in
 * access_cxt; false if there are none (role is not confined).  Inside SPI.
 */
static bool
bound_ledgers(Oid role, int *n, char ***ledgers)
{
	Datum		args[1] = {ObjectIdGetDatum(role)};
	bool		isnull;

	if (SPI_execute_plan(ledger_plan(&bound_ledgers_plan, InvalidOid), args, NULL, false, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed reading payments.role_ledgers");
	*n = (int) SPI_processed;
	*ledgers = MemoryContextAlloc(access_cxt, Max(1, SPI_processed) * sizeof(char *));
	for (uint64 i = 0; i < SPI_processed; i++)
		(*ledgers)[i] = MemoryContextStrdup(access_cxt,
											TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[i],
																			  SPI_tuptable->tupdesc,
																			  1, &isnull)));
	return SPI_processed > 0;
}

static int
compare_ledger(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * Reads what the acting role may use, with a new snapshot.  The session's
 * login confines it too: a login bound to a ledger that SET ROLEs to a role
 * bound to none (a group it is in) stays confined; a pooler's login bound
 * to none that SET ROLEs to a tenant's role is confined to the tenant's.
 */
static RoleAccess *
role_access(void)
{
	Oid			role = ledger_acting_role();
	Oid			session = GetSessionUserId();
	Datum		args[1] = {ObjectIdGetDatum(role)};
	bool		isnull;

	if (cached.valid && cached.role == role && cached.session == session)
		return &cached;
	if (access_cxt == NULL)
	{
		access_cxt = AllocSetContextCreate(TopMemoryContext, "payments ledger access",
										   ALLOCSET_SMALL_SIZES);
		CacheRegisterRelcacheCallback(access_reset_relcache, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, access_reset_syscache, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, access_reset_syscache, (Datum) 0);
		/* a GRANT or REVOKE of create_system_account() */
		CacheRegisterSyscacheCallback(PROCOID, access_reset_syscache, (Datum) 0);
	}
	MemoryContextReset(access_cxt);
	cached.valid = false;
	cached.role = role;
	cached.session = session;
	cached.confined = false;
	cached.by_session = false;
	cached.nledgers = 0;
	cached.ledgers = NULL;
	cached.system_accounts = true;

	if (!superuser_arg(role))
	{
		Oid			save_user;
		int			save_context;
		int			nrole,
					nsession;
		char	  **role_ledgers,
				  **session_ledgers;
		bool		role_bound,
					session_bound;

		role_ledgers_relid = ledger_relation(REL_ROLE_LEDGERS);
		/* the bindings are the DBA's: read them with the owner's rights */
		GetUserIdAndSecContext(&save_user, &save_context);
		SetUserIdAndSecContext(relation_owner(role_ledgers_relid),
							   save_context | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		role_bound = bound_ledgers(role, &nrole, &role_ledgers);
		session_bound = session != role && !superuser_arg(session) &&
			bound_ledgers(session, &nsession, &session_ledgers);
		if (SPI_execute_plan(ledger_plan(&system_right_plan, InvalidOid), args, NULL, false, 1)
			!= SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed reading the right to system accounts");
		cached.system_accounts =
			DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) &&
			!isnull;
		SPI_finish();
		SetUserIdAndSecContext(save_user, save_context);

		/* confined by either: the ledgers both allow */
		cached.confined = role_bound || session_bound;
		cached.by_session = session_bound && !role_bound;
		if (role_bound && session_bound)
		{
			cached.ledgers = MemoryContextAlloc(access_cxt, nrole * sizeof(char *));
			for (int i = 0; i < nrole; i++)
				if (bsearch(&role_ledgers[i], session_ledgers, nsession, sizeof(char *),
							compare_ledger) != NULL)
					cached.ledgers[cached.nledgers++] = role_ledgers[i];
		}
		else if (role_bound)
		{
			cached.ledgers = role_ledgers;
			cached.nledgers = nrole;
		}
		else if (session_bound)
		{
			cached.ledgers = session_ledgers;
			cached.nledgers = nsession;
		}
	}
	cached.valid = true;
	return &cached;
}


bool
ledger_access_allowed(const char *ledger)
{
	RoleAccess *a = role_access();

	return !a->confined ||
		bsearch(&ledger, a->ledgers, a->nledgers, sizeof(char *), compare_ledger) != NULL;
}

void
ledger_access_check(const char *ledger)
{
	RoleAccess *a;
	StringInfoData list;

	if (ledger_access_allowed(ledger))
		return;
	a = role_access();
	initStringInfo(&list);
	for (int i = 0; i < a->nledgers; i++)
		appendStringInfo(&list, "%s\"%s\"", i == 0 ? "" : ", ", a->ledgers[i]);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role \"%s\" may not use ledger \"%s\"",
					GetUserNameFromId(a->role, false), ledger),
			 a->by_session ?
			 errdetail("The session's login \"%s\" is bound to ledger%s %s.",
					   GetUserNameFromId(a->session, false), a->nledgers == 1 ? "" : "s", list.data) :
			 errdetail("The role may use ledger%s %s.", a->nledgers == 1 ? "" : "s", list.data),
			 errhint("A DBA binds roles to ledgers with payments.bind_role()."),
			 errledger("role_ledgers", "ledger", NULL)));
}

void
ledger_system_accounts_check(const char *what)
{
	RoleAccess *a = role_access();

	if (a->system_accounts)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role \"%s\" may not %s", GetUserNameFromId(a->role, false), what),
			 errdetail("Accounts that are debit-normal or may go negative are system accounts: money can be created from them."),
			 errhint("A role granted EXECUTE on payments.create_system_account() creates and changes them."),
			 errledger("accounts", "allow_negative", NULL)));
}

/*
 * payments.ledger_visible(ledger text) -> boolean: may the acting role see
 * the ledger?  The tables' row level security policies, and the views.
 */
Datum
ledger_visible(PG_FUNCTION_ARGS)
{
	RoleAccess *a = role_access();
	char	   *ledger;

	if (!a->confined)			/* most roles: no text to read */
		PG_RETURN_BOOL(true);
	ledger = text_to_cstring(PG_GETARG_TEXT_PP(0));
	PG_RETURN_BOOL(ledger_access_allowed(ledger));
}

/*
 * The planner's support of ledger_visible(): it keeps every row for most
 * roles (those bound to no ledger), so a filter by it must not make the
 * planner expect a third of the rows, as it would of an opaque function,
 * and choose nested loops over large tables.
 */
Datum
ledger_visible_support(PG_FUNCTION_ARGS)
{
	Node	   *request = (Node *) PG_GETARG_POINTER(0);

	if (IsA(request, SupportRequestSelectivity))
	{
		SupportRequestSelectivity *req = (SupportRequestSelectivity *) request;

		req->selectivity = 1.0;
		PG_RETURN_POINTER(req);
	}
	PG_RETURN_POINTER(NULL);
}

/*
 * payments.require_ledger(ledger text): refuses (42501) a ledger the acting
 * role may not use, for the API's functions in SQL that name one before
 * they write (create_fx_account()).
 */
Datum
ledger_require(PG_FUNCTION_ARGS)
{
	ledger_access_check(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
